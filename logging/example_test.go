package logging_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/logging"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/session"
)

// Logging a modem to rotating files until SIGINT: the log fragments come
// from wwan0 (cdc_mbim presents DSS session N as VLAN 256+N), the control
// session from /dev/cdc-wdm0, reopened after a modem reset.
func Example() {
	open := func(ctx context.Context) (*session.Session, error) {
		return session.OpenPath(ctx, "/dev/cdc-wdm0", session.Options{})
	}
	s, err := open(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(context.Background())
	st, err := logging.Start(context.Background(), s, logging.Options{
		Config: logging.Config{MaxSegmentKiB: 64, MaxFlushTime: time.Second},
		Source: func(ctx context.Context, id uint8) (datapath.Source, error) {
			return datapath.OpenNetdev("wwan0", datapath.NetdevOptions{Session: id})
		},
		Reopen: open,
		Events: func(e logging.Event) { log.Print(e.Text) },
	})
	if err != nil {
		log.Fatal(err) // e.g. a *logging.NotSupportedError saying why
	}
	w, err := modemlog.Create(modemlog.Options{Dir: "modem-logs", MaxFileBytes: 64 << 20,
		Progress: func(s modemlog.Stats) { log.Print(s) }})
	if err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		st.Stop(context.Background()) // deactivate; the capture ends once drained
	}()
	if err := w.Capture(context.Background(), st); err != nil {
		log.Print(err)
	}
	w.Close()
	st.Close()
}

// The log stream as an io.Reader.
func ExampleStream_Reader() {
	var st *logging.Stream // from logging.Start
	n, err := io.Copy(os.Stdout, st.Reader(context.Background()))
	fmt.Println(n, err)
}
