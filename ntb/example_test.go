package ntb_test

import (
	"errors"
	"fmt"

	"github.com/gombim/gombim/ntb"
)

func Example() {
	// Host side, uplink: pack IP packets of two sessions into one NTB.
	b := &ntb.Builder{Format: ntb.NTB16, MaxSize: 16384, Divisor: 4, NdpAlignment: 4}
	for _, p := range []struct {
		session uint8
		pkt     string
	}{{0, "first packet"}, {1, "other session"}, {0, "second packet"}} {
		if err := b.Add(ntb.IPS, p.session, []byte(p.pkt)); errors.Is(err, ntb.ErrFull) {
			// send b.Bytes(), b.Reset(), add again
		}
	}
	block := b.Bytes()

	// Receive side: validate and walk the datagrams without copying.
	err := ntb.Walk(block, func(d ntb.Datagram) error {
		fmt.Printf("%v session %d at %d: %s\n", d.Kind, d.Session, d.Offset, d.Data)
		return nil
	})
	fmt.Println(len(block), err)

	// A corrupted block is rejected with a precise error.
	block[8] = 0xFF // wBlockLength
	_, err = ntb.Parse(block)
	fmt.Println(err)
	// Output:
	// IPS session 0 at 12: first packet
	// IPS session 0 at 40: second packet
	// IPS session 1 at 24: other session
	// 92 <nil>
	// ntb: NTH16 at offset 0: wBlockLength: 255 beyond buffer length 92
}
