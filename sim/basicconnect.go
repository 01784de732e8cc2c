package sim

import (
	"math"
	"net/netip"
	"slices"
	"time"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
)

// Basic Connect (MBIM 1.0 section 10.5, with the MBIMEx 2.0/3.0/4.0
// layouts).

func init() {
	Handle(bc.UUID, bc.CIDDeviceCaps, handleDeviceCaps)
	Handle(bc.UUID, bc.CIDSubscriberReadyStatus, handleSubscriberReadyStatus)
	Handle(bc.UUID, bc.CIDRadioState, handleRadioState)
	Handle(bc.UUID, bc.CIDPin, handlePin)
	Handle(bc.UUID, bc.CIDPinList, handlePinList)
	Handle(bc.UUID, bc.CIDHomeProvider, handleHomeProvider)
	Handle(bc.UUID, bc.CIDPreferredProviders, handlePreferredProviders)
	Handle(bc.UUID, bc.CIDVisibleProviders, handleVisibleProviders)
	Handle(bc.UUID, bc.CIDRegisterState, handleRegisterState)
	Handle(bc.UUID, bc.CIDPacketService, handlePacketService)
	Handle(bc.UUID, bc.CIDSignalState, handleSignalState)
	Handle(bc.UUID, bc.CIDConnect, handleConnect)
	Handle(bc.UUID, bc.CIDProvisionedContexts, handleProvisionedContexts)
	Handle(bc.UUID, bc.CIDServiceActivation, handleServiceActivation)
	Handle(bc.UUID, bc.CIDIpConfiguration, handleIPConfiguration)
	Handle(bc.UUID, bc.CIDDeviceServices, handleDeviceServices)
	Handle(bc.UUID, bc.CIDDeviceServiceSubscribeList, handleSubscribeList)
	Handle(bc.UUID, bc.CIDPacketStatistics, handlePacketStatistics)
	Handle(bc.UUID, bc.CIDNetworkIdleHint, handleNetworkIdleHint)
	Handle(bc.UUID, bc.CIDEmergencyMode, handleEmergencyMode)
	Handle(bc.UUID, bc.CIDIpPacketFilters, handleIPPacketFilters)
}

// ---- device caps

func handleDeviceCaps(m *Modem, r *Request) Reply {
	d := m.sc.Device
	return OK(&bc.DeviceCapsResponse{
		DeviceType: d.DeviceType, CellularClass: d.CellClass, VoiceClass: d.VoiceClass,
		SimClass: bc.SimClassRemovable, DataClass: d.DataClass, SmsCaps: d.SmsCaps,
		ControlCaps: d.ControlCaps, MaxSessions: d.MaxSessions,
		DeviceId: d.DeviceID, FirmwareInfo: d.Firmware, HardwareInfo: d.Hardware,
	})
}

// ---- SIM

// simStatus is the status a command that needs the SIM gets.
func (m *Modem) simStatus() mbim.Status {
	switch m.activeSIM().state {
	case SIMNotInserted:
		return mbim.StatusSIMNotInserted
	case SIMPINLocked, SIMPUKLocked:
		return mbim.StatusPINRequired
	case SIMBlocked:
		return mbim.StatusBadSIM
	}
	return mbim.StatusNone
}

func (m *Modem) subscriberInfo(v mbim.Version, slot uint32) mbim.Info {
	s := &m.sims[slot]
	st := bc.SubscriberReadyStateInitialized
	imsi, iccid, nums := s.cfg.IMSI, s.cfg.ICCID, s.cfg.OwnNumbers
	switch s.state {
	case SIMNotInserted:
		st, imsi, iccid, nums = bc.SubscriberReadyStateSimNotInserted, "", "", nil
	case SIMPINLocked, SIMPUKLocked:
		st, imsi, nums = bc.SubscriberReadyStateDeviceLocked, "", nil
	case SIMBlocked:
		st, imsi, nums = bc.SubscriberReadyStateBadSim, "", nil
	}
	flags := bc.SubscriberReadyStatusFlagSimRemovabilityKnown
	if s.cfg.ESIM {
		flags |= bc.SubscriberReadyStatusFlagEsim
	} else {
		flags |= bc.SubscriberReadyStatusFlagSimRemovable
	}
	switch {
	case v >= mbim.MBIMEx4:
		if slot == m.slot {
			flags |= bc.SubscriberReadyStatusFlagSimSlotActive
		}
		return &bc.SubscriberReadyStatusResponseV4{ReadyState: st, Flags: flags, SubscriberId: imsi, SimIccId: iccid,
			SlotId: slot, TelephoneNumbers: nums}
	case v >= mbim.MBIMEx3:
		return &bc.SubscriberReadyStatusResponseV3{ReadyState: st, Flags: flags, SubscriberId: imsi, SimIccId: iccid,
			TelephoneNumbers: nums}
	}
	return &bc.SubscriberReadyStatusResponse{ReadyState: st, SubscriberId: imsi, SimIccId: iccid, TelephoneNumbers: nums}
}

func handleSubscriberReadyStatus(m *Modem, r *Request) Reply {
	slot := m.slot
	if q, ok := r.Info.(*bc.SubscriberReadyStatusQueryV4); ok {
		if int(q.SlotId) >= len(m.sims) {
			return Fail(mbim.StatusInvalidParameters)
		}
		slot = q.SlotId
	}
	return OK(m.subscriberInfo(r.Version, slot))
}

func (m *Modem) notifySubscriber() {
	m.Notify(bc.UUID, bc.CIDSubscriberReadyStatus, m.subscriberInfo(m.Version(), m.slot))
}

// ---- radio

func (m *Modem) radioInfo() *bc.RadioStateResponse {
	st := func(on bool) bc.RadioSwitchState {
		if on {
			return bc.RadioSwitchStateOn
		}
		return bc.RadioSwitchStateOff
	}
	return &bc.RadioStateResponse{HwRadioState: st(m.hwRadio), SwRadioState: st(m.swRadio)}
}

func handleRadioState(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*bc.RadioStateSet); ok {
		m.setRadio(s.RadioState == bc.RadioSwitchStateOn)
	}
	return OK(m.radioInfo())
}

// setRadio switches the software radio, with everything that follows.
func (m *Modem) setRadio(on bool) {
	if m.swRadio == on {
		return
	}
	m.swRadio = on
	m.log("radio %v", on)
	m.Notify(bc.UUID, bc.CIDRadioState, m.radioInfo())
	if !on {
		m.deregister(0)
		return
	}
	m.scheduleRegister()
}

// ---- PIN

func pinInfo(t bc.PinType, locked bool, left int) *bc.PinResponse {
	st := bc.PinStateUnlocked
	if locked {
		st = bc.PinStateLocked
	}
	return &bc.PinResponse{PinType: t, PinState: st, RemainingAttempts: uint32(left)}
}

func (m *Modem) pinState() *bc.PinResponse {
	s := m.activeSIM()
	switch s.state {
	case SIMPINLocked:
		return pinInfo(bc.PinTypePin1, true, s.pinLeft)
	case SIMPUKLocked:
		return pinInfo(bc.PinTypePuk1, true, s.pukLeft)
	}
	return pinInfo(bc.PinTypePin1, false, s.pinLeft)
}

func handlePin(m *Modem, r *Request) Reply {
	s := m.activeSIM()
	switch s.state {
	case SIMNotInserted:
		return Fail(mbim.StatusSIMNotInserted)
	case SIMBlocked:
		return Fail(mbim.StatusBadSIM)
	}
	set, ok := r.Info.(*bc.PinSet)
	if !ok {
		return OK(m.pinState())
	}
	// A wrong PIN costs an attempt; the last one blocks PIN1.
	wrongPIN := func() Reply {
		s.pinLeft--
		if s.pinLeft <= 0 {
			s.pinLeft = 0
			s.state = SIMPUKLocked
			m.log("PIN1 blocked, PUK required")
			m.notifySubscriber()
		}
		return Reply{Status: mbim.StatusFailure, Info: m.pinState()}
	}
	switch {
	case set.PinType == bc.PinTypePuk1 && set.PinOperation == bc.PinOperationEnter:
		if s.state != SIMPUKLocked {
			return Reply{Status: mbim.StatusFailure, Info: m.pinState()}
		}
		if set.Pin != s.cfg.PUK1 {
			s.pukLeft--
			if s.pukLeft <= 0 {
				s.pukLeft = 0
				s.state = SIMBlocked
				m.log("PUK1 exhausted: SIM blocked")
				m.notifySubscriber()
				return Fail(mbim.StatusBadSIM)
			}
			return Reply{Status: mbim.StatusFailure, Info: m.pinState()}
		}
		if len(set.NewPin) < 4 || len(set.NewPin) > 8 {
			return Reply{Status: mbim.StatusInvalidParameters, Info: m.pinState()}
		}
		s.cfg.PIN1 = set.NewPin
		s.pinLeft, s.pukLeft = m.sc.SIMs[m.slot].PINAttempts, m.sc.SIMs[m.slot].PUKAttempts
		m.unlocked()
		return OK(m.pinState())
	case set.PinType != bc.PinTypePin1:
		return Fail(mbim.StatusNoDeviceSupport)
	}
	if s.state == SIMPUKLocked {
		return Reply{Status: mbim.StatusFailure, Info: m.pinState()}
	}
	switch set.PinOperation {
	case bc.PinOperationEnter:
		if s.state != SIMPINLocked {
			return OK(m.pinState()) // nothing to unlock
		}
		if set.Pin != s.cfg.PIN1 {
			return wrongPIN()
		}
		s.pinLeft = m.sc.SIMs[m.slot].PINAttempts
		m.unlocked()
		return OK(m.pinState())
	case bc.PinOperationEnable, bc.PinOperationDisable:
		enable := set.PinOperation == bc.PinOperationEnable
		if s.pinEnabled == enable {
			if enable {
				return Reply{Status: mbim.StatusFailure, Info: m.pinState()}
			}
			return Fail(mbim.StatusPINDisabled)
		}
		if set.Pin != s.cfg.PIN1 {
			return wrongPIN()
		}
		s.pinEnabled = enable
		s.pinLeft = m.sc.SIMs[m.slot].PINAttempts
		return OK(m.pinState())
	case bc.PinOperationChange:
		if !s.pinEnabled {
			return Fail(mbim.StatusPINDisabled)
		}
		if set.Pin != s.cfg.PIN1 {
			return wrongPIN()
		}
		if len(set.NewPin) < 4 || len(set.NewPin) > 8 {
			return Reply{Status: mbim.StatusInvalidParameters, Info: m.pinState()}
		}
		s.cfg.PIN1 = set.NewPin
		s.pinLeft = m.sc.SIMs[m.slot].PINAttempts
		return OK(m.pinState())
	}
	return Fail(mbim.StatusInvalidParameters)
}

// unlocked is called when the SIM becomes ready.
func (m *Modem) unlocked() {
	m.activeSIM().state = SIMReady
	m.log("SIM unlocked")
	m.notifySubscriber()
	m.scheduleRegister()
}

func handlePinList(m *Modem, r *Request) Reply {
	mode := bc.PinModeDisabled
	if m.activeSIM().pinEnabled {
		mode = bc.PinModeEnabled
	}
	num := func(mode bc.PinMode, lo, hi uint32) bc.PinDesc {
		return bc.PinDesc{PinMode: mode, PinFormat: bc.PinFormatNumeric, PinLengthMin: lo, PinLengthMax: hi}
	}
	none := bc.PinDesc{PinMode: bc.PinModeNotSupported, PinFormat: bc.PinFormatUnknown}
	return OK(&bc.PinListResponse{
		PinDescPin1: num(mode, 4, 8), PinDescPin2: num(bc.PinModeDisabled, 4, 8),
		PinDescDeviceSimPin: none, PinDescDeviceFirstSimPin: none, PinDescNetworkPin: none,
		PinDescNetworkSubsetPin: none, PinDescServiceProviderPin: none, PinDescCorporatePin: none,
		PinDescSubsidyLock: none, PinDescCustom: none,
	})
}

// ---- providers

func (m *Modem) providerState(o Operator) bc.ProviderState {
	st := bc.ProviderStateVisible
	if o.PLMN == m.sc.Network.Home.PLMN {
		st |= bc.ProviderStateHome
	}
	if o.Forbidden {
		st |= bc.ProviderStateForbidden
	}
	if containsProvider(m.preferred, o.PLMN) {
		st |= bc.ProviderStatePreferred
	}
	if m.registered() && m.reg.plmn == o.PLMN {
		st |= bc.ProviderStateRegistered
	}
	return st
}

func handleHomeProvider(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*bc.HomeProviderSet); ok {
		if s.ProviderId == "" {
			return Fail(mbim.StatusInvalidParameters)
		}
		m.home = *s
	}
	p := m.home
	p.ProviderState = bc.ProviderStateHome
	if m.registered() && m.reg.plmn == p.ProviderId {
		p.ProviderState |= bc.ProviderStateRegistered
	}
	return OK(&p)
}

func handlePreferredProviders(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*bc.PreferredProvidersSet); ok {
		m.preferred = slices.Clone(s.Providers)
		for i := range m.preferred {
			m.preferred[i].ProviderState |= bc.ProviderStatePreferred
		}
		defer m.Notify(bc.UUID, bc.CIDPreferredProviders, &bc.PreferredProvidersNotify{Providers: m.preferred})
	}
	return OK(&bc.PreferredProvidersResponse{Providers: slices.Clone(m.preferred)})
}

func handleVisibleProviders(m *Modem, r *Request) Reply {
	if !m.radioOn() {
		return Fail(mbim.StatusRadioPowerOff)
	}
	return Reply{After: m.sc.Timings.Scan.D(), Later: func(m *Modem) Reply {
		if !m.radioOn() {
			return Fail(mbim.StatusRadioPowerOff)
		}
		var out []bc.Provider
		for _, o := range m.sc.Network.Visible {
			out = append(out, provider(o, m.providerState(o)))
		}
		return OK(&bc.VisibleProvidersResponse{Providers: out})
	}}
}

// ---- registration

func (m *Modem) registered() bool {
	return m.reg.state == bc.RegisterStateHome || m.reg.state == bc.RegisterStateRoaming || m.reg.state == bc.RegisterStatePartner
}

func (m *Modem) roamingOperator() Operator {
	if o, ok := m.operator(m.sc.Network.RoamingOn); ok && m.sc.Network.RoamingOn != "" {
		return o
	}
	for _, o := range m.sc.Network.Visible {
		if o.PLMN != m.sc.Network.Home.PLMN && !o.Forbidden {
			return o
		}
	}
	return m.sc.Network.Home
}

// autoRegister registers as the scenario says, at once (power-up).
func (m *Modem) autoRegister() {
	if !m.radioOn() || !m.simReady() {
		m.reg.state = bc.RegisterStateDeregistered
		return
	}
	switch m.sc.Network.Register {
	case "home":
		m.registerOn(m.sc.Network.Home)
	case "roaming":
		m.registerOn(m.roamingOperator())
	case "denied":
		m.deregister(m.sc.Network.DeniedError)
	case "searching":
		m.reg = regState{state: bc.RegisterStateSearching, mode: m.reg.mode}
	default:
		m.deregister(0)
	}
}

// scheduleRegister registers automatically after the registration time.
func (m *Modem) scheduleRegister() {
	if !m.radioOn() || !m.simReady() || m.registered() {
		return
	}
	m.reg.state = bc.RegisterStateSearching
	m.notifyRegister()
	epoch := m.epoch
	m.After(m.sc.Timings.Register.D(), func(m *Modem) {
		if m.epoch == epoch && !m.registered() {
			m.autoRegister()
			m.notifyRegister()
		}
	})
}

func (m *Modem) registerOn(o Operator) {
	if !m.radioOn() || !m.simReady() {
		return
	}
	st := bc.RegisterStateRoaming
	if o.PLMN == m.sc.Network.Home.PLMN {
		st = bc.RegisterStateHome
	}
	changed := m.reg.state != st || m.reg.plmn != o.PLMN
	m.reg = regState{state: st, mode: m.reg.mode, plmn: o.PLMN, name: o.Name}
	if changed {
		m.log("registered %s on %s (%s)", st, o.PLMN, o.Name)
		m.notifyRegister()
		m.signalChanged()
	}
	if m.sc.Network.AutoAttach {
		m.attach()
	}
}

// deregister leaves the network (denied when nwError is not 0).
func (m *Modem) deregister(nwError uint32) {
	m.detach(true)
	st := bc.RegisterStateDeregistered
	if nwError != 0 {
		st = bc.RegisterStateDenied
	}
	if m.reg.state == st && m.reg.nwError == nwError {
		return
	}
	m.reg = regState{state: st, mode: m.reg.mode, nwError: nwError}
	m.log("registration: %s", st)
	m.notifyRegister()
}

func (m *Modem) registerInfo(v mbim.Version) mbim.Info {
	var avail bc.DataClass
	if m.registered() {
		avail = m.sc.Device.DataClass
	}
	var flags bc.RegistrationFlag
	if m.sc.Network.AutoAttach {
		flags |= bc.RegistrationFlagPacketServiceAutomaticAttach
	}
	roaming := ""
	if m.reg.state == bc.RegisterStateRoaming {
		roaming = "Roaming on " + m.reg.name
	}
	r := bc.RegisterStateResponse{NwError: bc.NwError(m.reg.nwError), RegisterState: m.reg.state, RegisterMode: m.reg.mode,
		AvailableDataClasses: avail, CurrentCellularClass: bc.CellularClassGsm, ProviderId: m.reg.plmn,
		ProviderName: m.reg.name, RoamingText: roaming, RegistrationFlag: flags}
	if v >= mbim.MBIMEx2 {
		return &bc.RegisterStateResponseV2{NwError: r.NwError, RegisterState: r.RegisterState, RegisterMode: r.RegisterMode,
			AvailableDataClasses: r.AvailableDataClasses, CurrentCellularClass: r.CurrentCellularClass,
			ProviderId: r.ProviderId, ProviderName: r.ProviderName, RoamingText: r.RoamingText,
			RegistrationFlag: r.RegistrationFlag, PreferredDataClasses: m.sc.Device.DataClass}
	}
	return &r
}

func (m *Modem) notifyRegister() {
	m.Notify(bc.UUID, bc.CIDRegisterState, m.registerInfo(m.Version()))
}

func handleRegisterState(m *Modem, r *Request) Reply {
	set, ok := r.Info.(*bc.RegisterStateSet)
	if !ok {
		return OK(m.registerInfo(r.Version))
	}
	if !m.radioOn() {
		return Fail(mbim.StatusRadioPowerOff)
	}
	if st := m.simStatus(); st != mbim.StatusNone {
		return Fail(st)
	}
	var target Operator
	switch set.RegisterAction {
	case bc.RegisterActionAutomatic:
		m.reg.mode = bc.RegisterModeAutomatic
		if m.sc.Network.Register == "roaming" {
			target = m.roamingOperator()
		} else {
			target = m.sc.Network.Home
		}
	case bc.RegisterActionManual:
		o, ok := m.operator(set.ProviderId)
		if !ok {
			return Fail(mbim.StatusProviderNotVisible)
		}
		m.reg.mode = bc.RegisterModeManual
		target = o
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	return Reply{After: m.sc.Timings.Register.D(), Later: func(m *Modem) Reply {
		switch {
		case target.Forbidden:
			m.deregister(m.sc.Network.DeniedError)
		case set.RegisterAction == bc.RegisterActionAutomatic && m.sc.Network.Register == "denied":
			m.deregister(m.sc.Network.DeniedError)
		default:
			m.registerOn(target)
		}
		return OK(m.registerInfo(m.Version()))
	}}
}

// ---- packet service

func (m *Modem) attached() bool { return m.psState == bc.PacketServiceStateAttached }

func (m *Modem) attach() {
	if !m.registered() || m.attached() {
		return
	}
	m.psState = bc.PacketServiceStateAttached
	m.psNwError = 0
	m.log("packet service attached")
	m.notifyPacketService()
}

// detach leaves packet service, dropping every connection.
func (m *Modem) detach(notify bool) {
	m.deactivateAll()
	if m.psState == bc.PacketServiceStateDetached {
		return
	}
	m.psState = bc.PacketServiceStateDetached
	m.log("packet service detached")
	if notify {
		m.notifyPacketService()
	}
}

func dataClassV3(d bc.DataClass) bc.DataClassV3 {
	v := bc.DataClassV3(d &^ (bc.DataClass5gNsa | bc.DataClass5gSa))
	if d&(bc.DataClass5gNsa|bc.DataClass5gSa) != 0 {
		v |= bc.DataClassV35g
	}
	return v
}

func (m *Modem) packetServiceInfo(v mbim.Version) mbim.Info {
	var dc bc.DataClass
	var up, down uint64
	if m.attached() {
		dc, up, down = m.sc.Network.DataClass, m.sc.Network.Uplink, m.sc.Network.Downlink
	}
	switch {
	case v >= mbim.MBIMEx3:
		mcc, mnc := plmnNumbers(m.reg.plmn)
		var sub bc.DataSubclass
		if dc&bc.DataClass5gNsa != 0 {
			sub = bc.DataSubclass5gEndc
		}
		return &bc.PacketServiceResponseV3{NwError: m.psNwError, PacketServiceState: m.psState,
			HighestAvailableDataClass: dataClassV3(dc), UplinkSpeed: up, DownlinkSpeed: down,
			DataSubclass: sub, Tai: bc.Tai{PlmnMcc: mcc, PlmnMnc: mnc, Tac: m.sc.Network.TAC}}
	case v >= mbim.MBIMEx2:
		return &bc.PacketServiceResponseV2{NwError: m.psNwError, PacketServiceState: m.psState,
			CurrentDataClass: dc, UplinkSpeed: up, DownlinkSpeed: down}
	}
	return &bc.PacketServiceResponse{NwError: m.psNwError, PacketServiceState: m.psState,
		HighestAvailableDataClass: dc, UplinkSpeed: up, DownlinkSpeed: down}
}

func (m *Modem) notifyPacketService() {
	m.Notify(bc.UUID, bc.CIDPacketService, m.packetServiceInfo(m.Version()))
}

func handlePacketService(m *Modem, r *Request) Reply {
	set, ok := r.Info.(*bc.PacketServiceSet)
	if !ok {
		return OK(m.packetServiceInfo(r.Version))
	}
	if !m.radioOn() {
		return Fail(mbim.StatusRadioPowerOff)
	}
	if st := m.simStatus(); st != mbim.StatusNone {
		return Fail(st)
	}
	switch set.PacketServiceAction {
	case bc.PacketServiceActionAttach:
		if !m.registered() {
			return Fail(mbim.StatusNotRegistered)
		}
		return Reply{After: m.sc.Timings.Attach.D(), Later: func(m *Modem) Reply {
			if !m.registered() {
				return Fail(mbim.StatusNotRegistered)
			}
			m.attach()
			return OK(m.packetServiceInfo(m.Version()))
		}}
	case bc.PacketServiceActionDetach:
		m.detach(true)
		return OK(m.packetServiceInfo(r.Version))
	}
	return Fail(mbim.StatusInvalidParameters)
}

// ---- signal

// rsrpCode codes an RSRP in dBm as MBIMEx 2.0 does (0: below -156 dBm,
// 1: -156 dBm ... 126: -31 dBm or more), which is how libmbim reads it.
func rsrpCode(dbm int32) uint32 { return uint32(min(max(dbm+157, 0), 126)) }

// snrCode codes an SNR in dB (0: below -23 dB, 1: -23 dB, half dB steps,
// 127: 40 dB or more).
func snrCode(db float64) uint32 { return uint32(min(max(math.Round((db+23)*2)+1, 0), 127)) }

func (m *Modem) signalInfo(v mbim.Version) mbim.Info {
	s := m.signal
	rssi, er := s.rssi, s.errorRate
	if !m.radioOn() || !m.registered() {
		rssi, er = 99, 99
	}
	if v >= mbim.MBIMEx2 {
		r := &bc.SignalStateResponseV2{Rssi: rssi, ErrorRate: er, SignalStrengthInterval: s.interval,
			RssiThreshold: s.rssiThreshold, ErrorRateThreshold: s.errThresh}
		if rssi != 99 {
			r.RsrpSnr = []bc.RsrpSnrInfo{{Rsrp: rsrpCode(s.rsrp), Snr: snrCode(s.snr), RsrpThreshold: 0xFFFFFFFF,
				SnrThreshold: 0xFFFFFFFF, SystemType: m.sc.Network.DataClass}}
		}
		return r
	}
	return &bc.SignalStateResponse{Rssi: rssi, ErrorRate: er, SignalStrengthInterval: s.interval,
		RssiThreshold: s.rssiThreshold, ErrorRateThreshold: s.errThresh}
}

func handleSignalState(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*bc.SignalStateSet); ok {
		m.signal.interval = s.SignalStrengthInterval
		m.signal.rssiThreshold = s.RssiThreshold
		m.signal.errThresh = s.ErrorRateThreshold
	}
	return OK(m.signalInfo(r.Version))
}

// signalChanged reports the signal if it moved by at least the RSSI
// threshold since the last report, at most once per reporting interval.
func (m *Modem) signalChanged() {
	s := &m.signal
	cur := s.rssi
	if !m.radioOn() || !m.registered() {
		cur = 99
	}
	diff := int64(cur) - int64(s.reported)
	if diff < 0 {
		diff = -diff
	}
	if diff == 0 || diff < int64(max(s.rssiThreshold, 1)) {
		return
	}
	if s.interval > 0 {
		next := s.lastReport.Add(time.Duration(s.interval) * time.Second)
		if wait := time.Until(next); wait > 0 {
			if !s.reportPending {
				s.reportPending = true
				m.After(wait, func(m *Modem) {
					m.signal.reportPending = false
					m.signalChanged()
				})
			}
			return
		}
	}
	s.reported = cur
	s.lastReport = time.Now()
	m.Notify(bc.UUID, bc.CIDSignalState, m.signalInfo(m.Version()))
}

// ---- connect

func (m *Modem) resolveIPType(want bc.ContextIpType) (bc.ContextIpType, bool) {
	v4, v6 := m.sc.IP.IPv4.IsValid(), m.sc.IP.IPv6.IsValid()
	switch want {
	case bc.ContextIpTypeIpv4:
		return want, v4
	case bc.ContextIpTypeIpv6:
		return want, v6
	}
	switch {
	case v4 && v6:
		if want == bc.ContextIpTypeDefault {
			return bc.ContextIpTypeIpv4v6, true
		}
		return want, true
	case v4:
		return bc.ContextIpTypeIpv4, true
	default:
		return bc.ContextIpTypeIpv6, true
	}
}

type connectReq struct {
	id         uint32
	activate   bool
	apn        string
	user, pass string
	ipType     bc.ContextIpType
	ctxType    mbim.ContextType
	media      bc.AccessMediaType
	snssai     mbim.TLV
}

func (m *Modem) connectInfo(v mbim.Version, id uint32, nwError uint32) mbim.Info {
	s := m.sessions[id]
	st := bc.ActivationStateDeactivated
	var ipt bc.ContextIpType
	var ct mbim.ContextType
	apn := ""
	media := bc.AccessMediaType3gpp
	snssai := mbim.TLV{Type: mbim.TLVSingleNSSAI}
	if s != nil {
		st, ipt, ct, apn, media = bc.ActivationStateActivated, s.ipType, s.ctxType, s.apn, s.media
		if s.snssai.Type != 0 {
			snssai = s.snssai
		}
	}
	switch {
	case v >= mbim.MBIMEx4:
		return &bc.ConnectResponseV4{SessionId: id, ActivationState: st, IpType: ipt, ContextType: ct, NwError: nwError,
			MediaPreference: media, AccessString: apn, SNssai: snssai}
	case v >= mbim.MBIMEx3:
		return &bc.ConnectResponseV3{SessionId: id, ActivationState: st, IpType: ipt, ContextType: ct, NwError: nwError,
			MediaPreference: media, AccessString: apn}
	}
	return &bc.ConnectResponse{SessionId: id, ActivationState: st, IpType: ipt, ContextType: ct, NwError: nwError}
}

func handleConnect(m *Modem, r *Request) Reply {
	var q connectReq
	switch i := r.Info.(type) {
	case *bc.ConnectSet:
		q = connectReq{i.SessionId, i.ActivationCommand == bc.ActivationCommandActivate, i.AccessString, i.UserName,
			i.Password, i.IpType, i.ContextType, bc.AccessMediaType3gpp, mbim.TLV{}}
	case *bc.ConnectSetV3:
		q = connectReq{i.SessionId, i.ActivationCommand == bc.ActivationCommandActivate, i.AccessString, i.UserName,
			i.Password, i.IpType, i.ContextType, i.MediaPreference, mbim.TLV{}}
	case *bc.ConnectSetV4:
		q = connectReq{i.SessionId, i.ActivationCommand == bc.ActivationCommandActivate, i.AccessString, i.UserName,
			i.Password, i.IpType, i.ContextType, i.MediaPreference, i.SNssai}
	case *bc.ConnectQuery:
		return m.connectQuery(r.Version, i.SessionId)
	case *bc.ConnectQueryV3:
		return m.connectQuery(r.Version, i.SessionId)
	case nil:
		if r.IsSet() {
			return Fail(mbim.StatusInvalidParameters)
		}
		return m.connectQuery(r.Version, 0)
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	if q.id >= m.sc.Device.MaxSessions {
		return Fail(mbim.StatusInvalidParameters)
	}
	if !q.activate {
		if _, ok := m.sessions[q.id]; !ok {
			return OK(m.connectInfo(r.Version, q.id, 0))
		}
		return Reply{After: m.sc.Timings.Disconnect.D(), Later: func(m *Modem) Reply {
			m.deactivate(q.id, false)
			return OK(m.connectInfo(m.Version(), q.id, 0))
		}}
	}
	if _, ok := m.sessions[q.id]; ok {
		return OK(m.connectInfo(r.Version, q.id, 0))
	}
	switch {
	case !m.radioOn():
		return Fail(mbim.StatusRadioPowerOff)
	case m.simStatus() != mbim.StatusNone:
		return Fail(m.simStatus())
	case !m.registered():
		return Fail(mbim.StatusNotRegistered)
	case !m.attached():
		return Fail(mbim.StatusPacketServiceDetached)
	}
	if len(m.sc.AllowedAPNs) > 0 && !slices.Contains(m.sc.AllowedAPNs, q.apn) {
		return Reply{Status: mbim.StatusInvalidAccessString, Info: m.connectInfo(r.Version, q.id, uint32(bc.NwErrorMissingOrUnknownApn))}
	}
	if m.sc.IP.Username != "" && (q.user != m.sc.IP.Username || q.pass != m.sc.IP.Password) {
		return Reply{Status: mbim.StatusInvalidUserNamePassword, Info: m.connectInfo(r.Version, q.id, uint32(bc.NwErrorUserAuthenticationFailed))}
	}
	ipt, ok := m.resolveIPType(q.ipType)
	if !ok {
		nwe := bc.NwErrorPdpTypeIpv4OnlyAllowed
		if q.ipType == bc.ContextIpTypeIpv4 {
			nwe = bc.NwErrorPdpTypeIpv6OnlyAllowed
		}
		return Reply{Status: mbim.StatusFailure, Info: m.connectInfo(r.Version, q.id, uint32(nwe))}
	}
	if q.ctxType == (mbim.ContextType{}) {
		q.ctxType = ctxInternet
	}
	return Reply{After: m.sc.Timings.Connect.D(), Later: func(m *Modem) Reply {
		if !m.attached() {
			return Fail(mbim.StatusPacketServiceDetached)
		}
		if _, ok := m.sessions[q.id]; !ok {
			m.sessions[q.id] = &session{id: q.id, ctxType: q.ctxType, apn: q.apn, ipType: ipt, since: time.Now(),
				snssai: q.snssai, media: q.media}
			m.log("session %d activated on %q (%s)", q.id, q.apn, ipt)
			m.notifyPCO(q.id)
		}
		return OK(m.connectInfo(m.Version(), q.id, 0))
	}}
}

func (m *Modem) connectQuery(v mbim.Version, id uint32) Reply {
	if id >= m.sc.Device.MaxSessions {
		return Fail(mbim.StatusInvalidParameters)
	}
	return OK(m.connectInfo(v, id, 0))
}

// deactivate ends a session; notify says the network did it.
func (m *Modem) deactivate(id uint32, notify bool) {
	s, ok := m.sessions[id]
	if !ok {
		return
	}
	m.statsBase = m.stats()
	delete(m.sessions, id)
	delete(m.filters, id)
	m.log("session %d deactivated", id)
	_ = s
	if notify {
		m.Notify(bc.UUID, bc.CIDConnect, m.connectInfo(m.Version(), id, 0))
	}
}

func (m *Modem) deactivateAll() {
	ids := make([]uint32, 0, len(m.sessions))
	for id := range m.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		m.deactivate(id, true)
	}
}

// ---- IP configuration

func (m *Modem) ipConfig(id uint32) *bc.IpConfigurationResponse {
	s := m.sessions[id]
	ip := m.sc.IP
	r := &bc.IpConfigurationResponse{SessionId: id}
	v4 := s.ipType != bc.ContextIpTypeIpv6 && ip.IPv4.IsValid()
	v6 := s.ipType != bc.ContextIpTypeIpv4 && ip.IPv6.IsValid()
	all := bc.IPConfigurationAvailableFlagAddress | bc.IPConfigurationAvailableFlagMtu
	if v4 {
		r.IPv4ConfigurationAvailable = all
		r.IPv4Address = []bc.IPv4Element{{OnLinkPrefixLength: uint32(ip.IPv4.Bits()), IPv4Address: sessionAddr(ip.IPv4, id)}}
		if ip.IPv4Gateway.IsValid() {
			r.IPv4ConfigurationAvailable |= bc.IPConfigurationAvailableFlagGateway
			r.IPv4Gateway = ip.IPv4Gateway
		}
		if len(ip.IPv4DNS) > 0 {
			r.IPv4ConfigurationAvailable |= bc.IPConfigurationAvailableFlagDns
			r.IPv4DnsServer = slices.Clone(ip.IPv4DNS)
		}
		r.IPv4Mtu = ip.MTU
	}
	if v6 {
		r.IPv6ConfigurationAvailable = all
		r.IPv6Address = []bc.IPv6Element{{OnLinkPrefixLength: uint32(ip.IPv6.Bits()), IPv6Address: sessionAddr(ip.IPv6, id)}}
		if ip.IPv6Gateway.IsValid() {
			r.IPv6ConfigurationAvailable |= bc.IPConfigurationAvailableFlagGateway
			r.IPv6Gateway = ip.IPv6Gateway
		}
		if len(ip.IPv6DNS) > 0 {
			r.IPv6ConfigurationAvailable |= bc.IPConfigurationAvailableFlagDns
			r.IPv6DnsServer = slices.Clone(ip.IPv6DNS)
		}
		r.IPv6Mtu = ip.IPv6MTU
	}
	return r
}

func handleIPConfiguration(m *Modem, r *Request) Reply {
	var id uint32
	if q, ok := r.Info.(*bc.IpConfigurationQuery); ok {
		id = q.SessionId
	}
	if _, ok := m.sessions[id]; !ok {
		return Fail(mbim.StatusContextNotActivated)
	}
	return OK(m.ipConfig(id))
}

// ---- provisioned contexts (v1 view of the v2 list)

func handleProvisionedContexts(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*bc.ProvisionedContextsSet); ok {
		c := Context{ContextType: s.ContextType, APN: s.AccessString, Username: s.UserName, Password: s.Password,
			Auth: s.AuthProtocol}
		id := s.ContextId
		i := slices.IndexFunc(m.contextsV2, func(e msbasicconnectext.ProvisionedContextElementV4) bool { return e.ContextId == id })
		switch {
		case id == 0xFFFFFFFF || i < 0:
			if id == 0xFFFFFFFF {
				id = m.nextContextID()
			}
			e := contextV2(id, c)
			e.Compression = s.Compression
			m.contextsV2 = append(m.contextsV2, e)
		default:
			e := contextV2(id, c)
			e.Compression = s.Compression
			e.IpType, e.Roaming, e.MediaType, e.Source = m.contextsV2[i].IpType, m.contextsV2[i].Roaming, m.contextsV2[i].MediaType, m.contextsV2[i].Source
			m.contextsV2[i] = e
		}
		m.notifyContexts()
	}
	return OK(m.contextsV1())
}

func (m *Modem) contextsV1() *bc.ProvisionedContextsResponse {
	out := &bc.ProvisionedContextsResponse{}
	for _, e := range m.contextsV2 {
		out.ProvisionedContexts = append(out.ProvisionedContexts, bc.ProvisionedContextElement{ContextId: e.ContextId,
			ContextType: e.ContextType, AccessString: e.AccessString, UserName: e.UserName, Password: e.Password,
			Compression: e.Compression, AuthProtocol: e.AuthProtocol})
	}
	return out
}

func (m *Modem) nextContextID() uint32 {
	var id uint32
	for _, e := range m.contextsV2 {
		id = max(id, e.ContextId)
	}
	return id + 1
}

func (m *Modem) notifyContexts() {
	m.Notify(bc.UUID, bc.CIDProvisionedContexts, m.contextsV1())
	m.Notify(msbasicconnectext.UUID, msbasicconnectext.CIDProvisionedContexts, m.contextsV2Info(m.Version()))
}

func handleServiceActivation(m *Modem, r *Request) Reply {
	return OK(&bc.ServiceActivationResponse{})
}

// ---- device services and subscriptions

func handleDeviceServices(m *Modem, r *Request) Reply {
	out := &bc.DeviceServicesResponse{MaxDssSessions: m.sc.Services.MaxDSSSessions}
	for _, s := range registeredServices() {
		if m.excluded(s.uuid) {
			continue
		}
		out.DeviceServices = append(out.DeviceServices, bc.DeviceServiceElement{DeviceServiceId: s.uuid, Cids: s.cids})
	}
	for _, d := range m.sc.Services.DSS {
		i := slices.IndexFunc(out.DeviceServices, func(e bc.DeviceServiceElement) bool { return e.DeviceServiceId == d.UUID })
		if i < 0 {
			out.DeviceServices = append(out.DeviceServices, bc.DeviceServiceElement{DeviceServiceId: d.UUID})
			i = len(out.DeviceServices) - 1
		}
		out.DeviceServices[i].DssPayload = d.Payload
		out.DeviceServices[i].MaxDssInstances = d.MaxInstances
	}
	return OK(out)
}

func handleSubscribeList(m *Modem, r *Request) Reply {
	s, ok := r.Info.(*bc.DeviceServiceSubscribeListSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	subs := map[mbim.UUID][]uint32{}
	for _, e := range s.Events {
		subs[e.DeviceServiceId] = append(subs[e.DeviceServiceId], e.Cids...)
	}
	m.host.subs = subs
	return OK(&bc.DeviceServiceSubscribeListResponse{Events: s.Events})
}

// ---- statistics, idle hint, emergency mode, packet filters

func (m *Modem) stats() stats {
	st := m.statsBase
	rate := m.sc.Network.ThroughputBps
	now := time.Now()
	for _, s := range m.sessions {
		n := uint64(now.Sub(s.since).Seconds() * float64(rate))
		st.inOctets += n
		st.outOctets += n / 4
		st.inPackets += n / 1200
		st.outPackets += n / 4 / 600
	}
	return st
}

func handlePacketStatistics(m *Modem, r *Request) Reply {
	st := m.stats()
	return OK(&bc.PacketStatisticsResponse{InOctets: st.inOctets, InPackets: st.inPackets, OutOctets: st.outOctets,
		OutPackets: st.outPackets})
}

func handleNetworkIdleHint(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*bc.NetworkIdleHintSet); ok {
		m.idleHint = s.State
	}
	return OK(&bc.NetworkIdleHintResponse{State: m.idleHint})
}

func handleEmergencyMode(m *Modem, r *Request) Reply {
	return OK(&bc.EmergencyModeResponse{State: m.emergency})
}

func handleIPPacketFilters(m *Modem, r *Request) Reply {
	var id uint32
	// The set and the query have one type (IpPacketFiltersSet is
	// IpPacketFiltersQuery); a query's filters are ignored.
	switch i := r.Info.(type) {
	case *bc.IpPacketFiltersSet:
		id = i.SessionId
		if r.IsSet() {
			var l []bc.PacketFilterV3
			for _, f := range i.PacketFilters {
				l = append(l, bc.PacketFilterV3{PacketFilter: f.PacketFilter, PacketMask: f.PacketMask})
			}
			if bad := m.setFilters(id, l); bad != mbim.StatusNone {
				return Fail(bad)
			}
		}
	case *bc.IpPacketFiltersSetV3:
		id = i.SessionId
		if r.IsSet() {
			if bad := m.setFilters(id, i.PacketFilters); bad != mbim.StatusNone {
				return Fail(bad)
			}
		}
	}
	if id >= m.sc.Device.MaxSessions {
		return Fail(mbim.StatusInvalidParameters)
	}
	l := m.filters[id]
	if r.Version >= mbim.MBIMEx3 {
		return OK(&bc.IpPacketFiltersResponseV3{SessionId: id, PacketFilters: slices.Clone(l)})
	}
	out := &bc.IpPacketFiltersResponse{SessionId: id}
	for _, f := range l {
		out.PacketFilters = append(out.PacketFilters, bc.PacketFilter{PacketFilter: f.PacketFilter, PacketMask: f.PacketMask})
	}
	return OK(out)
}

func (m *Modem) setFilters(id uint32, l []bc.PacketFilterV3) mbim.Status {
	if id >= m.sc.Device.MaxSessions {
		return mbim.StatusInvalidParameters
	}
	for _, f := range l {
		if len(f.PacketFilter) != len(f.PacketMask) {
			return mbim.StatusInvalidParameters
		}
	}
	if len(l) == 0 {
		delete(m.filters, id)
	} else {
		m.filters[id] = slices.Clone(l)
	}
	return mbim.StatusNone
}

// ---- SIM slots (shared with MS Basic Connect Extensions)

func (m *Modem) simRemoved(slot *uint32) {
	i := m.slot
	if slot != nil {
		i = *slot
	}
	if int(i) >= len(m.sims) || m.sims[i].state == SIMNotInserted {
		return
	}
	m.sims[i].state = SIMNotInserted
	m.log("SIM removed from slot %d", i)
	m.notifySlot(i)
	if i == m.slot {
		m.notifySubscriber()
		m.deregister(0)
	}
}

func (m *Modem) simInserted(slot *uint32) {
	i := m.slot
	if slot != nil {
		i = *slot
	}
	if int(i) >= len(m.sims) || m.sims[i].state != SIMNotInserted {
		return
	}
	c := m.sc.SIMs[i]
	st := c.State
	if st == SIMNotInserted {
		st = SIMReady
		if c.ICCID == "" {
			c.ICCID, c.IMSI = "8901410321111851"+string(rune('0'+i))+"999", "00101000000000"+string(rune('0'+i))
		}
	}
	m.sims[i] = simState{cfg: c, state: st, pinEnabled: c.PINEnabled, pinLeft: c.PINAttempts, pukLeft: c.PUKAttempts}
	m.log("SIM inserted in slot %d (%s)", i, st)
	m.notifySlot(i)
	if i == m.slot {
		m.notifySubscriber()
		m.scheduleRegister()
	}
}

var _ = netip.Addr{}
