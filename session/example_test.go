package session_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/session"
	"github.com/gombim/gombim/sim"
)

// Open a session on the simulated modem (in-process), read its
// capabilities, connect and disconnect. With a real modem, use
// session.OpenPath(ctx, "/dev/cdc-wdm0", session.Options{}).
func Example() {
	m, err := sim.New(sim.DefaultScenario())
	if err != nil {
		log.Fatal(err)
	}
	conn, stop := m.StartInProcess()
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, session.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)
	fmt.Println("MBIMEx", s.MBIMEx())

	caps, err := s.DeviceCaps(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("IMEI", caps.DeviceId)

	c, err := s.Connect(ctx, session.ConnectParams{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("connected:", c.State, "addresses:", len(c.IP.IPv4Addresses))
	if _, err := s.Disconnect(ctx, c.SessionID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// MBIMEx 4.0
	// IMEI 356938035643809
	// connected: activated addresses: 1
}

// Watch radio-state indications: Watch subscribes on the device and
// returns a channel; stop withdraws the subscription.
func ExampleSession_Watch() {
	m, _ := sim.New(sim.DefaultScenario())
	conn, stopSim := m.StartInProcess()
	defer stopSim()
	ctx := context.Background()
	s, err := session.Open(ctx, conn, session.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	ch, stop, err := s.Watch(ctx, session.Event{Service: basicconnect.UUID, CID: basicconnect.CIDRadioState})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	if _, err := s.SetRadioState(ctx, false); err != nil {
		log.Fatal(err)
	}
	ind := <-ch
	fmt.Println(ind.CID.Name, ind.Info.(*basicconnect.RadioStateResponse).SwRadioState)
	// Output:
	// radio-state off
}
