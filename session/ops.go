package session

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// Typed helpers for everyday Basic Connect operations. They choose the
// payload layouts by the negotiated MBIMEx version and return version
// independent summaries; each summary keeps the version-specific decoded
// response in its Info field.

// newPayload returns a new payload of the layout in effect for cid of
// service, or nil when that layout is empty.
func (s *Session) newPayload(service mbim.UUID, cid uint32, kind mbim.Kind) mbim.Info {
	_, _, l := catalog.Layout(service, cid, kind, s.MBIMEx())
	if l == nil || l.New == nil {
		return nil
	}
	return l.New()
}

func unexpected(op string, d *catalog.Decoded) error {
	if d.Info == nil {
		return fmt.Errorf("session: %s: the response carries no payload (%d bytes)", op, len(d.Message.InformationBuffer))
	}
	return fmt.Errorf("session: %s: unexpected response payload %T", op, d.Info)
}

// DeviceCaps queries basic-connect DEVICE_CAPS.
func (s *Session) DeviceCaps(ctx context.Context) (*basicconnect.DeviceCapsResponse, error) {
	var r basicconnect.DeviceCapsResponse
	if err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDDeviceCaps, mbim.CommandQuery, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SubscriberStatus is the SIM's state (SUBSCRIBER_READY_STATUS) in any
// MBIMEx version.
type SubscriberStatus struct {
	ReadyState       basicconnect.SubscriberReadyState
	Flags            basicconnect.SubscriberReadyStatusFlag // MBIMEx 3.0 and later
	SubscriberID     string                                 // IMSI
	SimICCID         string
	ReadyInfo        basicconnect.ReadyInfoFlag
	SlotID           uint32 // MBIMEx 4.0
	TelephoneNumbers []string
	Info             mbim.Info // the version-specific response
}

// SubscriberStatus queries SUBSCRIBER_READY_STATUS.
func (s *Session) SubscriberStatus(ctx context.Context) (*SubscriberStatus, error) {
	req := s.newPayload(basicconnect.UUID, basicconnect.CIDSubscriberReadyStatus, mbim.KindQuery)
	d, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDSubscriberReadyStatus, req)
	if err != nil {
		return nil, err
	}
	out := &SubscriberStatus{Info: d.Info}
	switch r := d.Info.(type) {
	case *basicconnect.SubscriberReadyStatusResponse:
		out.ReadyState, out.SubscriberID, out.SimICCID, out.ReadyInfo, out.TelephoneNumbers =
			r.ReadyState, r.SubscriberId, r.SimIccId, r.ReadyInfo, r.TelephoneNumbers
	case *basicconnect.SubscriberReadyStatusResponseV3:
		out.ReadyState, out.Flags, out.SubscriberID, out.SimICCID, out.ReadyInfo, out.TelephoneNumbers =
			r.ReadyState, r.Flags, r.SubscriberId, r.SimIccId, r.ReadyInfo, r.TelephoneNumbers
	case *basicconnect.SubscriberReadyStatusResponseV4:
		out.ReadyState, out.Flags, out.SubscriberID, out.SimICCID, out.ReadyInfo, out.SlotID, out.TelephoneNumbers =
			r.ReadyState, r.Flags, r.SubscriberId, r.SimIccId, r.ReadyInfo, r.SlotId, r.TelephoneNumbers
	default:
		return nil, unexpected("subscriber-ready-status", d)
	}
	return out, nil
}

// PINState queries basic-connect PIN: which PIN the SIM waits for, if any.
func (s *Session) PINState(ctx context.Context) (*basicconnect.PinResponse, error) {
	var r basicconnect.PinResponse
	if err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDPin, mbim.CommandQuery, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// EnterPIN enters PIN1. The response tells the PIN state and the
// remaining attempts; it is returned also when the device refuses the PIN
// (with a *mbim.StatusError, e.g. status failure for a wrong PIN), when
// the device sends it.
func (s *Session) EnterPIN(ctx context.Context, pin string) (*basicconnect.PinResponse, error) {
	var r basicconnect.PinResponse
	req := &basicconnect.PinSet{PinType: basicconnect.PinTypePin1, PinOperation: basicconnect.PinOperationEnter, Pin: pin}
	err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDPin, mbim.CommandSet, req, &r)
	if err != nil {
		if r.PinType != 0 || r.RemainingAttempts != 0 {
			return &r, err
		}
		return nil, err
	}
	return &r, nil
}

// RadioState queries RADIO_STATE (hardware and software radio switches).
func (s *Session) RadioState(ctx context.Context) (*basicconnect.RadioStateResponse, error) {
	var r basicconnect.RadioStateResponse
	if err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDRadioState, mbim.CommandQuery, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SetRadioState turns the software radio switch on or off.
func (s *Session) SetRadioState(ctx context.Context, on bool) (*basicconnect.RadioStateResponse, error) {
	st := basicconnect.RadioSwitchStateOff
	if on {
		st = basicconnect.RadioSwitchStateOn
	}
	var r basicconnect.RadioStateResponse
	if err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDRadioState, mbim.CommandSet,
		&basicconnect.RadioStateSet{RadioState: st}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Registration is the network registration state (REGISTER_STATE) in any
// MBIMEx version.
type Registration struct {
	NwError              basicconnect.NwError
	State                basicconnect.RegisterState
	Mode                 basicconnect.RegisterMode
	AvailableDataClasses basicconnect.DataClass
	CurrentCellularClass basicconnect.CellularClass
	ProviderID           string
	ProviderName         string
	RoamingText          string
	Flags                basicconnect.RegistrationFlag
	PreferredDataClasses basicconnect.DataClass // MBIMEx 2.0 and later
	Info                 mbim.Info
}

func registration(op string, d *catalog.Decoded) (*Registration, error) {
	out := &Registration{Info: d.Info}
	switch r := d.Info.(type) {
	case *basicconnect.RegisterStateResponse:
		*out = Registration{NwError: r.NwError, State: r.RegisterState, Mode: r.RegisterMode,
			AvailableDataClasses: r.AvailableDataClasses, CurrentCellularClass: r.CurrentCellularClass,
			ProviderID: r.ProviderId, ProviderName: r.ProviderName, RoamingText: r.RoamingText,
			Flags: r.RegistrationFlag, Info: r}
	case *basicconnect.RegisterStateResponseV2:
		*out = Registration{NwError: r.NwError, State: r.RegisterState, Mode: r.RegisterMode,
			AvailableDataClasses: r.AvailableDataClasses, CurrentCellularClass: r.CurrentCellularClass,
			ProviderID: r.ProviderId, ProviderName: r.ProviderName, RoamingText: r.RoamingText,
			Flags: r.RegistrationFlag, PreferredDataClasses: r.PreferredDataClasses, Info: r}
	default:
		return nil, unexpected(op, d)
	}
	return out, nil
}

// RegisterState queries REGISTER_STATE.
func (s *Session) RegisterState(ctx context.Context) (*Registration, error) {
	d, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDRegisterState, nil)
	if err != nil {
		return nil, err
	}
	return registration("register-state", d)
}

// Register asks for automatic registration (REGISTER_STATE set, action
// automatic, any data class) and returns the state the device reports.
func (s *Session) Register(ctx context.Context) (*Registration, error) {
	req := &basicconnect.RegisterStateSet{RegisterAction: basicconnect.RegisterActionAutomatic}
	d, err := s.Set(ctx, basicconnect.UUID, basicconnect.CIDRegisterState, req)
	if err != nil {
		return nil, err
	}
	return registration("register-state", d)
}

// PacketService is the packet service (attach) state in any MBIMEx
// version.
type PacketService struct {
	NwError uint32
	State   basicconnect.PacketServiceState
	// DataClass is the highest available data class (MBIM 1.0) or the
	// current one (MBIMEx 2.0: a basicconnect.DataClass; MBIMEx 3.0: a
	// basicconnect.DataClassV3).
	DataClass      uint32
	UplinkSpeed    uint64 // bits per second
	DownlinkSpeed  uint64
	FrequencyRange basicconnect.FrequencyRange // MBIMEx 2.0 and later
	Info           mbim.Info
}

func packetService(d *catalog.Decoded) (*PacketService, error) {
	switch r := d.Info.(type) {
	case *basicconnect.PacketServiceResponse:
		return &PacketService{NwError: r.NwError, State: r.PacketServiceState, DataClass: uint32(r.HighestAvailableDataClass),
			UplinkSpeed: r.UplinkSpeed, DownlinkSpeed: r.DownlinkSpeed, Info: r}, nil
	case *basicconnect.PacketServiceResponseV2:
		return &PacketService{NwError: r.NwError, State: r.PacketServiceState, DataClass: uint32(r.CurrentDataClass),
			UplinkSpeed: r.UplinkSpeed, DownlinkSpeed: r.DownlinkSpeed, FrequencyRange: r.FrequencyRange, Info: r}, nil
	case *basicconnect.PacketServiceResponseV3:
		return &PacketService{NwError: r.NwError, State: r.PacketServiceState, DataClass: uint32(r.HighestAvailableDataClass),
			UplinkSpeed: r.UplinkSpeed, DownlinkSpeed: r.DownlinkSpeed, FrequencyRange: r.FrequencyRange, Info: r}, nil
	}
	return nil, unexpected("packet-service", d)
}

// PacketServiceState queries PACKET_SERVICE.
func (s *Session) PacketServiceState(ctx context.Context) (*PacketService, error) {
	d, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDPacketService, nil)
	if err != nil {
		return nil, err
	}
	return packetService(d)
}

// Attach attaches to the packet service (PACKET_SERVICE set, attach).
func (s *Session) Attach(ctx context.Context) (*PacketService, error) {
	return s.packetServiceAction(ctx, basicconnect.PacketServiceActionAttach)
}

// Detach detaches from the packet service.
func (s *Session) Detach(ctx context.Context) (*PacketService, error) {
	return s.packetServiceAction(ctx, basicconnect.PacketServiceActionDetach)
}

func (s *Session) packetServiceAction(ctx context.Context, a basicconnect.PacketServiceAction) (*PacketService, error) {
	d, err := s.Set(ctx, basicconnect.UUID, basicconnect.CIDPacketService,
		&basicconnect.PacketServiceSet{PacketServiceAction: a})
	if err != nil {
		return nil, err
	}
	return packetService(d)
}

// Signal is the signal state (SIGNAL_STATE) in any MBIMEx version.
type Signal struct {
	// RSSI is the coded signal strength: 0 (-113 dBm or less) to 31
	// (-51 dBm or more) in steps of 2 dBm, 99 when unknown.
	RSSI uint32
	// ErrorRate is the coded bit error rate (0-7), 99 when unknown.
	ErrorRate uint32
	// RsrpSnr lists RSRP and SNR per radio technology (MBIMEx 2.0).
	RsrpSnr []basicconnect.RsrpSnrInfo
	Info    mbim.Info
}

// DBm converts RSSI to dBm; ok is false when it is unknown.
func (sig *Signal) DBm() (dbm int, ok bool) {
	if sig.RSSI > 31 {
		return 0, false
	}
	return -113 + 2*int(sig.RSSI), true
}

// SignalState queries SIGNAL_STATE.
func (s *Session) SignalState(ctx context.Context) (*Signal, error) {
	d, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDSignalState, nil)
	if err != nil {
		return nil, err
	}
	switch r := d.Info.(type) {
	case *basicconnect.SignalStateResponse:
		return &Signal{RSSI: r.Rssi, ErrorRate: r.ErrorRate, Info: r}, nil
	case *basicconnect.SignalStateResponseV2:
		return &Signal{RSSI: r.Rssi, ErrorRate: r.ErrorRate, RsrpSnr: r.RsrpSnr, Info: r}, nil
	}
	return nil, unexpected("signal-state", d)
}

// ConnectParams describes the packet data context to activate.
type ConnectParams struct {
	APN      string
	User     string
	Password string
	Auth     basicconnect.AuthProtocol  // none, pap, chap, mschapv2
	IPType   basicconnect.ContextIpType // default, ipv4, ipv6, ipv4v6, ...
	// SessionID selects the IP session (0 for the first, which maps to
	// the plain network interface).
	SessionID   uint32
	ContextType mbim.UUID // zero: mbim.ContextTypeInternet
	Compression basicconnect.Compression
	// MediaPreference is sent from MBIMEx 3.0 on (cellular only by
	// default).
	MediaPreference basicconnect.AccessMediaType
}

// Connection is the state of an IP session (CONNECT) in any MBIMEx
// version, with the IP configuration after Connect.
type Connection struct {
	SessionID       uint32
	State           basicconnect.ActivationState
	VoiceCallState  basicconnect.VoiceCallState
	IPType          basicconnect.ContextIpType
	ContextType     mbim.ContextType
	NwError         uint32
	AccessString    string    // MBIMEx 3.0 and later
	IP              *IPConfig // set by Connect
	Info            mbim.Info
	MediaPreference basicconnect.AccessMediaType // MBIMEx 3.0 and later
}

func connection(d *catalog.Decoded) (*Connection, error) {
	switch r := d.Info.(type) {
	case *basicconnect.ConnectResponse:
		return &Connection{SessionID: r.SessionId, State: r.ActivationState, VoiceCallState: r.VoiceCallState,
			IPType: r.IpType, ContextType: r.ContextType, NwError: r.NwError, Info: r}, nil
	case *basicconnect.ConnectResponseV3:
		return &Connection{SessionID: r.SessionId, State: r.ActivationState, VoiceCallState: r.VoiceCallState,
			IPType: r.IpType, ContextType: r.ContextType, NwError: r.NwError, AccessString: r.AccessString,
			MediaPreference: r.MediaPreference, Info: r}, nil
	case *basicconnect.ConnectResponseV4:
		return &Connection{SessionID: r.SessionId, State: r.ActivationState, VoiceCallState: r.VoiceCallState,
			IPType: r.IpType, ContextType: r.ContextType, NwError: r.NwError, AccessString: r.AccessString,
			MediaPreference: r.MediaPreference, Info: r}, nil
	}
	return nil, unexpected("connect", d)
}

func (s *Session) connectSet(p ConnectParams, cmd basicconnect.ActivationCommand) (mbim.Info, error) {
	ctxType := mbim.ContextType(p.ContextType)
	if p.ContextType.IsZero() {
		ctxType = mbim.ContextType(mbim.ContextTypeInternet)
	}
	switch req := s.newPayload(basicconnect.UUID, basicconnect.CIDConnect, mbim.KindSet).(type) {
	case *basicconnect.ConnectSet:
		*req = basicconnect.ConnectSet{SessionId: p.SessionID, ActivationCommand: cmd, AccessString: p.APN,
			UserName: p.User, Password: p.Password, Compression: p.Compression, AuthProtocol: p.Auth,
			IpType: p.IPType, ContextType: ctxType}
		return req, nil
	case *basicconnect.ConnectSetV3:
		*req = basicconnect.ConnectSetV3{SessionId: p.SessionID, ActivationCommand: cmd, Compression: p.Compression,
			AuthProtocol: p.Auth, IpType: p.IPType, ContextType: ctxType, MediaPreference: p.MediaPreference,
			AccessString: p.APN, UserName: p.User, Password: p.Password}
		return req, nil
	case *basicconnect.ConnectSetV4:
		*req = basicconnect.ConnectSetV4{SessionId: p.SessionID, ActivationCommand: cmd, Compression: p.Compression,
			AuthProtocol: p.Auth, IpType: p.IPType, ContextType: ctxType, MediaPreference: p.MediaPreference,
			AccessString: p.APN, UserName: p.User, Password: p.Password}
		return req, nil
	default:
		return nil, fmt.Errorf("session: connect: no connect set layout known at MBIMEx %s (%T)", s.MBIMEx(), req)
	}
}

// Connect activates the packet data context described by p (CONNECT set,
// with the layout of the negotiated MBIMEx version) and, once it is
// activated, queries its IP configuration. When the device reports a
// state other than activated, Connect returns the Connection and an
// error naming the state and the network error. When the IP configuration
// query fails, it returns the Connection (IP nil) and that error.
func (s *Session) Connect(ctx context.Context, p ConnectParams) (*Connection, error) {
	req, err := s.connectSet(p, basicconnect.ActivationCommandActivate)
	if err != nil {
		return nil, err
	}
	d, err := s.Set(ctx, basicconnect.UUID, basicconnect.CIDConnect, req)
	if err != nil {
		return nil, err
	}
	c, err := connection(d)
	if err != nil {
		return nil, err
	}
	if c.State != basicconnect.ActivationStateActivated {
		return c, fmt.Errorf("session: connect to APN %q: the context is %s (network error %s)",
			p.APN, c.State, basicconnect.NwError(c.NwError))
	}
	ip, err := s.IPConfiguration(ctx, c.SessionID)
	if err != nil {
		return c, err
	}
	c.IP = ip
	return c, nil
}

// Disconnect deactivates the IP session sessionID.
func (s *Session) Disconnect(ctx context.Context, sessionID uint32) (*Connection, error) {
	req, err := s.connectSet(ConnectParams{SessionID: sessionID}, basicconnect.ActivationCommandDeactivate)
	if err != nil {
		return nil, err
	}
	d, err := s.Set(ctx, basicconnect.UUID, basicconnect.CIDConnect, req)
	if err != nil {
		return nil, err
	}
	return connection(d)
}

// ConnectionState queries CONNECT for the IP session sessionID.
func (s *Session) ConnectionState(ctx context.Context, sessionID uint32) (*Connection, error) {
	var req mbim.Info
	switch q := s.newPayload(basicconnect.UUID, basicconnect.CIDConnect, mbim.KindQuery).(type) {
	case *basicconnect.ConnectQuery:
		q.SessionId = sessionID
		req = q
	case *basicconnect.ConnectQueryV3:
		q.SessionId = sessionID
		req = q
	default:
		return nil, fmt.Errorf("session: connect: no connect query layout known at MBIMEx %s (%T)", s.MBIMEx(), q)
	}
	d, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDConnect, req)
	if err != nil {
		return nil, err
	}
	return connection(d)
}

// IPConfig is the IP configuration of an IP session.
type IPConfig struct {
	SessionID     uint32
	IPv4Addresses []netip.Prefix
	IPv6Addresses []netip.Prefix
	IPv4Gateway   netip.Addr // invalid when not given
	IPv6Gateway   netip.Addr
	IPv4DNS       []netip.Addr
	IPv6DNS       []netip.Addr
	IPv4MTU       uint32 // 0 when not given
	IPv6MTU       uint32
	Info          *basicconnect.IpConfigurationResponse
}

// IPConfiguration queries IP_CONFIGURATION for the IP session sessionID.
func (s *Session) IPConfiguration(ctx context.Context, sessionID uint32) (*IPConfig, error) {
	var r basicconnect.IpConfigurationResponse
	req := &basicconnect.IpConfigurationQuery{SessionId: sessionID}
	if err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDIpConfiguration, mbim.CommandQuery, req, &r); err != nil {
		return nil, err
	}
	return ipConfig(&r), nil
}

func ipConfig(r *basicconnect.IpConfigurationResponse) *IPConfig {
	out := &IPConfig{SessionID: r.SessionId, Info: r}
	const (
		addr    = basicconnect.IPConfigurationAvailableFlagAddress
		gateway = basicconnect.IPConfigurationAvailableFlagGateway
		dns     = basicconnect.IPConfigurationAvailableFlagDns
		mtu     = basicconnect.IPConfigurationAvailableFlagMtu
	)
	if r.IPv4ConfigurationAvailable&addr != 0 {
		for _, a := range r.IPv4Address {
			if p := netip.PrefixFrom(a.IPv4Address, int(a.OnLinkPrefixLength)); p.IsValid() {
				out.IPv4Addresses = append(out.IPv4Addresses, p)
			}
		}
	}
	if r.IPv6ConfigurationAvailable&addr != 0 {
		for _, a := range r.IPv6Address {
			if p := netip.PrefixFrom(a.IPv6Address, int(a.OnLinkPrefixLength)); p.IsValid() {
				out.IPv6Addresses = append(out.IPv6Addresses, p)
			}
		}
	}
	if r.IPv4ConfigurationAvailable&gateway != 0 {
		out.IPv4Gateway = r.IPv4Gateway
	}
	if r.IPv6ConfigurationAvailable&gateway != 0 {
		out.IPv6Gateway = r.IPv6Gateway
	}
	if r.IPv4ConfigurationAvailable&dns != 0 {
		out.IPv4DNS = r.IPv4DnsServer
	}
	if r.IPv6ConfigurationAvailable&dns != 0 {
		out.IPv6DNS = r.IPv6DnsServer
	}
	if r.IPv4ConfigurationAvailable&mtu != 0 {
		out.IPv4MTU = r.IPv4Mtu
	}
	if r.IPv6ConfigurationAvailable&mtu != 0 {
		out.IPv6MTU = r.IPv6Mtu
	}
	return out
}
