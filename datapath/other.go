//go:build !linux

package datapath

import (
	"context"
	"errors"
)

var errNotLinux = errors.New("datapath: network interface sources and producers need Linux (cdc_mbim, AF_PACKET, rtnetlink)")

// NetdevSource is only implemented on Linux.
type NetdevSource struct{}

// OpenNetdev fails on this platform.
func OpenNetdev(parent string, opts NetdevOptions) (*NetdevSource, error) { return nil, errNotLinux }

func (s *NetdevSource) ReadDatagram(ctx context.Context) (Datagram, error) {
	return Datagram{}, errNotLinux
}
func (s *NetdevSource) Describe() string   { return "unavailable" }
func (s *NetdevSource) Stats() SourceStats { return SourceStats{} }
func (s *NetdevSource) Close() error       { return nil }
func (s *NetdevSource) Interface() string  { return "" }
func (s *NetdevSource) ViaVLAN() bool      { return false }
func (s *NetdevSource) Created() bool      { return false }

// EthernetProducer is only implemented on Linux.
type EthernetProducer struct{}

// NewEthernetProducer fails on this platform.
func NewEthernetProducer(ifname string, opts EthernetProducerOptions) (*EthernetProducer, error) {
	return nil, errNotLinux
}

func (p *EthernetProducer) WriteDatagram(session uint8, d []byte) error { return errNotLinux }
func (p *EthernetProducer) Flush() error                                { return nil }
func (p *EthernetProducer) MaxDatagram() int                            { return 0 }
func (p *EthernetProducer) Describe() string                            { return "unavailable" }
func (p *EthernetProducer) Close() error                                { return nil }
