package datapath_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gombim/gombim/datapath"
)

// Reading DSS session 1 from a cdc_mbim interface: OpenNetdev uses or
// creates the VLAN link wwan0.dss1 (id 257), or reads wwan0 itself when
// that is not possible, and says which.
func ExampleOpenNetdev() {
	src, err := datapath.OpenNetdev("wwan0", datapath.NetdevOptions{Session: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close() // deletes the VLAN link if it created it
	fmt.Println("reading", src.Describe())
	for {
		d, err := src.ReadDatagram(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d bytes of DSS session %d\n", len(d.Data), d.Session)
	}
}
