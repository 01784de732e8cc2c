package proxy

import (
	"sync"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// syncClient does one transaction at a time on conn, as libmbim clients
// and most tools do.
type syncClient struct {
	conn transport.Conn
	tid  uint32
	req  []byte
}

func newSyncClient(conn transport.Conn) *syncClient {
	return &syncClient{conn: conn, req: buildCommand(0, uuidBasicConnect, 3, mbim.CommandQuery, nil)}
}

// roundTrip sends a radio-state query and waits for its answer.
func (c *syncClient) roundTrip() error {
	c.tid++
	setTID(c.req, c.tid)
	if err := c.conn.WriteMessage(c.req); err != nil {
		return err
	}
	for {
		b, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		if msgType(b) != mbim.TypeIndicateStatus && msgTID(b) == c.tid {
			return nil
		}
	}
}

func (c *syncClient) expect(tid uint32) error {
	for {
		b, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		if msgType(b) != mbim.TypeIndicateStatus && msgTID(b) == tid {
			return nil
		}
	}
}

// openDirect opens the device itself and sends OPEN.
func openDirect(tb testing.TB, link string) *syncClient {
	tb.Helper()
	conn, err := transport.Open(link, transport.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	c := newSyncClient(conn)
	c.tid = 1000
	if err := conn.WriteMessage(buildScalar(mbim.TypeOpen, 1, 4096)); err != nil {
		tb.Fatal(err)
	}
	if err := c.expect(1); err != nil {
		tb.Fatal(err)
	}
	return c
}

// openProxied connects to a proxy on socket, configures it for link and
// opens.
func openProxied(tb testing.TB, socket, link string) *syncClient {
	tb.Helper()
	var conn transport.Conn
	var err error
	for range 100 {
		if conn, err = transport.DialUnix(socket, true); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatal(err)
	}
	c := newSyncClient(conn)
	c.tid = 1000
	if err := conn.WriteMessage(buildCommand(1, uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, configurationInfo(link, 30))); err != nil {
		tb.Fatal(err)
	}
	if err := c.expect(1); err != nil {
		tb.Fatal(err)
	}
	if err := conn.WriteMessage(buildScalar(mbim.TypeOpen, 2, 4096)); err != nil {
		tb.Fatal(err)
	}
	if err := c.expect(2); err != nil {
		tb.Fatal(err)
	}
	return c
}

func BenchmarkDirect(b *testing.B) {
	dev := newFakeDev(b)
	c := openDirect(b, dev.link)
	defer c.conn.Close()
	b.ResetTimer()
	for range b.N {
		if err := c.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchProxy(b *testing.B, clients int) {
	dev := newFakeDev(b)
	s, _ := startProxy(b, Config{Logger: discardLogger()})
	cs := make([]*syncClient, clients)
	for i := range cs {
		cs[i] = openProxied(b, s.cfg.Socket, dev.link)
		defer cs[i].conn.Close()
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / clients
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if err := c.roundTrip(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkProxy1(b *testing.B) { benchProxy(b, 1) }
func BenchmarkProxy8(b *testing.B) { benchProxy(b, 8) }
