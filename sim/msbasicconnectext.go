package sim

import (
	"encoding/binary"
	"encoding/json"
	"slices"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/pco"
)

// Microsoft Basic Connect Extensions.

func init() {
	Handle(ms.UUID, ms.CIDProvisionedContexts, handleProvisionedContextsV2)
	Handle(ms.UUID, ms.CIDLteAttachConfiguration, handleLteAttachConfiguration)
	Handle(ms.UUID, ms.CIDLteAttachInfo, handleLteAttachInfo)
	Handle(ms.UUID, ms.CIDSysCaps, handleSysCaps)
	Handle(ms.UUID, ms.CIDDeviceCaps, handleDeviceCapsV2)
	Handle(ms.UUID, ms.CIDDeviceSlotMappings, handleSlotMappings)
	Handle(ms.UUID, ms.CIDSlotInfoStatus, handleSlotInfoStatus)
	Handle(ms.UUID, ms.CIDPco, handlePCO)
	Handle(ms.UUID, ms.CIDDeviceReset, handleDeviceReset)
	Handle(ms.UUID, ms.CIDBaseStationsInfo, handleBaseStationsInfo)
	Handle(ms.UUID, ms.CIDLocationInfoStatus, handleLocationInfoStatus)
	Handle(ms.UUID, ms.CIDModemLoggingConfig, handleModemLoggingConfig)
	Handle(ms.UUID, ms.CIDVersion, handleVersion)
	Handle(ms.UUID, ms.CIDModemConfiguration, handleModemConfiguration)
	Handle(ms.UUID, ms.CIDRegistrationParameters, handleRegistrationParameters)
	Handle(ms.UUID, ms.CIDNetworkParameters, handleNetworkParameters)
	Handle(ms.UUID, ms.CIDWakeReason, handleWakeReason)
	RegisterEvent("pco", eventPCO)
}

// handleVersion answers MBIM_CID_VERSION with the lower of the host's and
// the modem's MBIMEx version; later messages use that version's layouts.
// A modem whose native version is 1.0 does not know the command.
func handleVersion(m *Modem, r *Request) Reply {
	if m.sc.MBIMEx < mbim.MBIMEx2 {
		return Fail(mbim.StatusNoDeviceSupport)
	}
	q, ok := r.Info.(*ms.VersionQuery)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	v := min(mbim.Version(q.MbimExtendedVersion), m.sc.MBIMEx)
	if v < mbim.MBIMEx1 {
		v = mbim.MBIMEx1
	}
	m.host.version = v
	m.log("MBIMEx %s agreed (host %s, modem %s)", v, mbim.Version(q.MbimExtendedVersion), m.sc.MBIMEx)
	return OK(&ms.VersionResponse{MbimVersion: 0x0100, MbimExtendedVersion: uint16(v)})
}

// ---- capabilities

func handleSysCaps(m *Modem, r *Request) Reply {
	return OK(&ms.SysCapsResponse{NumberOfExecutors: 1, NumberOfSlots: uint32(len(m.sims)), Concurrency: 1,
		ModemId: m.sc.Device.ModemID})
}

func handleDeviceCapsV2(m *Modem, r *Request) Reply {
	d := m.sc.Device
	caps := d.ControlCaps
	if r.Version >= mbim.MBIMEx3 {
		var sub bc.DataSubclass
		if d.DataClass&bc.DataClass5gNsa != 0 {
			sub |= bc.DataSubclass5gEndc
		}
		if d.DataClass&bc.DataClass5gSa != 0 {
			sub |= bc.DataSubclass5gNr
		}
		return OK(&ms.DeviceCapsResponseV3{DeviceType: d.DeviceType, CellularClass: d.CellClass, VoiceClass: d.VoiceClass,
			SimClass: bc.SimClassRemovable, DataClass: dataClassV3(d.DataClass), SmsCaps: d.SmsCaps, ControlCaps: caps,
			DataSubclass: sub, MaxSessions: d.MaxSessions, LteBandClass: slices.Clone(d.LTEBands),
			NrBandClass: slices.Clone(d.NRBands), DeviceId: d.DeviceID, FirmwareInfo: d.Firmware, HardwareInfo: d.Hardware})
	}
	return OK(&ms.DeviceCapsResponse{DeviceType: d.DeviceType, CellularClass: d.CellClass, VoiceClass: d.VoiceClass,
		SmsClass: bc.SimClassRemovable, DataClass: d.DataClass, SmsCaps: d.SmsCaps, ControlCaps: caps,
		MaxSessions: d.MaxSessions, DeviceId: d.DeviceID, FirmwareInfo: d.Firmware, HardwareInfo: d.Hardware})
}

// ---- slots

func handleSlotMappings(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*ms.DeviceSlotMappingsSet); ok {
		if len(s.SlotMap) != 1 || int(s.SlotMap[0].Slot) >= len(m.sims) {
			return Fail(mbim.StatusInvalidParameters)
		}
		if to := s.SlotMap[0].Slot; to != m.slot {
			from := m.slot
			m.deregister(0)
			m.slot = to
			m.log("active slot %d -> %d", from, to)
			m.notifySlot(from)
			m.notifySlot(to)
			m.notifySubscriber()
			m.scheduleRegister()
		}
	}
	return OK(&ms.DeviceSlotMappingsResponse{SlotMap: []ms.Slot{{Slot: m.slot}}})
}

func (m *Modem) slotState(i uint32) ms.UiccSlotState {
	s := m.sims[i]
	switch {
	case s.state == SIMNotInserted:
		return ms.UiccSlotStateStateEmpty
	case i != m.slot:
		return ms.UiccSlotStateStateOff
	case s.state == SIMBlocked:
		return ms.UiccSlotStateStateError
	case s.cfg.ESIM:
		return ms.UiccSlotStateStateActiveEsim
	}
	return ms.UiccSlotStateStateActive
}

func handleSlotInfoStatus(m *Modem, r *Request) Reply {
	var i uint32
	if q, ok := r.Info.(*ms.SlotInfoStatusQuery); ok {
		i = q.SlotIndex
	}
	if int(i) >= len(m.sims) {
		return Fail(mbim.StatusInvalidParameters)
	}
	return OK(&ms.SlotInfoStatusResponse{SlotIndex: i, State: m.slotState(i)})
}

func (m *Modem) notifySlot(i uint32) {
	m.Notify(ms.UUID, ms.CIDSlotInfoStatus, &ms.SlotInfoStatusNotify{SlotIndex: i, State: m.slotState(i)})
}

// ---- provisioned contexts v2

func contextV2(id uint32, c Context) ms.ProvisionedContextElementV4 {
	ipt := c.IPType
	if ipt == bc.ContextIpTypeDefault {
		ipt = bc.ContextIpTypeIpv4v6
	}
	return ms.ProvisionedContextElementV4{ContextId: id, ContextType: c.ContextType, IpType: ipt,
		State: bc.ContextStateEnabled, Roaming: bc.ContextRoamingControlAllowAll, MediaType: bc.ContextMediaTypeCellularOnly,
		Source: bc.ContextSourceOperator, AccessString: c.APN, UserName: c.Username, Password: c.Password,
		AuthProtocol: c.Auth, Snssai: mbim.TLV{Type: mbim.TLVSingleNSSAI}}
}

func (m *Modem) contextsV2Info(v mbim.Version) mbim.Info {
	if v >= mbim.MBIMEx4 {
		return &ms.ProvisionedContextsResponseV4{ProvisionedContexts: slices.Clone(m.contextsV2)}
	}
	out := &ms.ProvisionedContextsResponse{}
	for _, e := range m.contextsV2 {
		out.ProvisionedContexts = append(out.ProvisionedContexts, ms.ProvisionedContextElementV2{ContextId: e.ContextId,
			ContextType: e.ContextType, IpType: e.IpType, State: e.State, Roaming: e.Roaming, MediaType: e.MediaType,
			Source: e.Source, AccessString: e.AccessString, UserName: e.UserName, Password: e.Password,
			Compression: e.Compression, AuthProtocol: e.AuthProtocol})
	}
	return out
}

func handleProvisionedContextsV2(m *Modem, r *Request) Reply {
	var e ms.ProvisionedContextElementV4
	var op bc.ContextOperation
	switch s := r.Info.(type) {
	case *ms.ProvisionedContextsSet:
		op = s.Operation
		e = ms.ProvisionedContextElementV4{ContextType: s.ContextType, IpType: s.IpType, State: s.State, Roaming: s.Roaming,
			MediaType: s.MediaType, Source: s.Source, AccessString: s.AccessString, UserName: s.UserName,
			Password: s.Password, Compression: s.Compression, AuthProtocol: s.AuthProtocol, Snssai: mbim.TLV{Type: mbim.TLVSingleNSSAI}}
	case *ms.ProvisionedContextsSetV4:
		op = s.Operation
		e = ms.ProvisionedContextElementV4{ContextType: s.ContextType, IpType: s.IpType, State: s.State, Roaming: s.Roaming,
			MediaType: s.MediaType, Source: s.Source, AccessString: s.AccessString, UserName: s.UserName,
			Password: s.Password, Compression: s.Compression, AuthProtocol: s.AuthProtocol, Snssai: s.Snssai}
		if e.Snssai.Type == 0 {
			e.Snssai.Type = mbim.TLVSingleNSSAI
		}
	default:
		return OK(m.contextsV2Info(r.Version))
	}
	same := func(x ms.ProvisionedContextElementV4) bool {
		return x.ContextType == e.ContextType && x.MediaType == e.MediaType
	}
	switch op {
	case bc.ContextOperationDefault:
		if i := slices.IndexFunc(m.contextsV2, same); i >= 0 {
			e.ContextId = m.contextsV2[i].ContextId
			m.contextsV2[i] = e
		} else {
			e.ContextId = m.nextContextID()
			m.contextsV2 = append(m.contextsV2, e)
		}
	case bc.ContextOperationDelete:
		n := len(m.contextsV2)
		m.contextsV2 = slices.DeleteFunc(m.contextsV2, same)
		if len(m.contextsV2) == n {
			return Fail(mbim.StatusInvalidParameters)
		}
	case bc.ContextOperationRestoreFactory:
		m.contextsV2 = nil
		for i, c := range m.sc.Contexts {
			m.contextsV2 = append(m.contextsV2, contextV2(uint32(i+1), c))
		}
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	m.notifyContexts()
	return OK(m.contextsV2Info(r.Version))
}

// ---- LTE attach

func lteAttachConfig(c Context) ms.LteAttachConfiguration {
	roam := ms.LteAttachContextRoamingControlHome
	switch c.Roaming {
	case "partner":
		roam = ms.LteAttachContextRoamingControlPartner
	case "non-partner":
		roam = ms.LteAttachContextRoamingControlNonPartner
	}
	return ms.LteAttachConfiguration{IpType: c.IPType, Roaming: roam, Source: bc.ContextSourceOperator,
		AccessString: c.APN, UserName: c.Username, Password: c.Password, AuthProtocol: c.Auth}
}

func handleLteAttachConfiguration(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*ms.LteAttachConfigurationSet); ok {
		switch s.Operation {
		case ms.LteAttachContextOperationDefault:
			m.lteAttach = slices.Clone(s.Configurations)
		case ms.LteAttachContextOperationRestoreFactory:
			m.lteAttach = nil
			for _, c := range m.sc.LTEAttach {
				m.lteAttach = append(m.lteAttach, lteAttachConfig(c))
			}
		default:
			return Fail(mbim.StatusInvalidParameters)
		}
		m.Notify(ms.UUID, ms.CIDLteAttachConfiguration, &ms.LteAttachConfigurationNotify{Configurations: slices.Clone(m.lteAttach)})
	}
	return OK(&ms.LteAttachConfigurationResponse{Configurations: slices.Clone(m.lteAttach)})
}

func handleLteAttachInfo(m *Modem, r *Request) Reply {
	var c ms.LteAttachConfiguration
	want := ms.LteAttachContextRoamingControlHome
	if m.reg.state == bc.RegisterStateRoaming {
		want = ms.LteAttachContextRoamingControlNonPartner
	}
	for _, x := range m.lteAttach {
		if x.Roaming == want {
			c = x
			break
		}
	}
	st := ms.LteAttachStateDetached
	if m.attached() {
		st = ms.LteAttachStateAttached
	} else {
		c = ms.LteAttachConfiguration{}
	}
	if r.Version >= mbim.MBIMEx3 {
		return OK(&ms.LteAttachInfoResponseV3{LteAttachState: st, NwError: bc.NwError(m.reg.nwError), IpType: c.IpType,
			AccessString: c.AccessString, UserName: c.UserName, Password: c.Password, Compression: c.Compression,
			AuthProtocol: c.AuthProtocol})
	}
	return OK(&ms.LteAttachInfoResponse{LteAttachState: st, IpType: c.IpType, AccessString: c.AccessString,
		UserName: c.UserName, Password: c.Password, Compression: c.Compression, AuthProtocol: c.AuthProtocol})
}

// ---- PCO

// pcoState is the PCO the network sends now: the scenario's, until a
// "pco" timeline event changes it (until the next device reset).
type pcoState struct {
	cfg     PCOConfig
	raw     []byte // a PcoDataBuffer sent as it is, if set
	partial bool
}

func (m *Modem) pco() *pcoState {
	return m.Ext("pco", func() any { return &pcoState{cfg: m.sc.PCO} }).(*pcoState)
}

// pcoValue builds the PCO the network sent for a session: the complete
// PCO information element holding the operator container.
func (m *Modem) pcoValue(id uint32) (*ms.PcoValue, bool) {
	st := m.pco()
	typ := ms.PcoTypeComplete
	if st.partial {
		typ = ms.PcoTypePartial
	}
	if st.raw != nil {
		return &ms.PcoValue{SessionId: id, PcoDataType: typ, PcoDataBuffer: slices.Clone(st.raw)}, true
	}
	if st.cfg.Disabled {
		return nil, false
	}
	mcc, mnc := splitPLMN(st.cfg.PLMN)
	e, err := pco.OperatorSpecificContainer(st.cfg.Container, mcc, mnc, st.cfg.Value)
	if err != nil {
		m.log("pco: %v", err)
		return nil, false
	}
	b, err := pco.New(e).Marshal(true)
	if err != nil {
		m.log("pco: %v", err)
		return nil, false
	}
	return &ms.PcoValue{SessionId: id, PcoDataType: typ, PcoDataBuffer: b}, true
}

// pcoEvent is the data of a "pco" timeline event: the network sends a new
// PCO. Members left out keep their values.
type pcoEvent struct {
	Container *uint16     `json:"container"` // operator container id, 0xff00..0xffff
	PLMN      string      `json:"plmn"`
	Value     *mbim.Bytes `json:"value"` // the container's value after the PLMN (hex)
	// Raw is a whole PcoDataBuffer (hex) sent as it is, malformed or not.
	Raw      *mbim.Bytes `json:"raw"`
	Partial  *bool       `json:"partial"`  // PcoDataType partial instead of complete
	Disabled *bool       `json:"disabled"` // no PCO any more
	// Session limits the indication to one session (default: every
	// connected one).
	Session *uint32 `json:"session"`
}

// eventPCO changes the PCO and indicates it for the connected sessions.
func eventPCO(m *Modem, ev Event) {
	var e pcoEvent
	if len(ev.Data) > 0 {
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			m.log("timeline: pco: data: %v", err)
			return
		}
	}
	st := m.pco()
	if e.Container != nil {
		if *e.Container < 0xFF00 {
			m.log("timeline: pco: container 0x%04x is not operator-specific (0xff00..0xffff)", *e.Container)
			return
		}
		st.cfg.Container = *e.Container
	}
	if e.PLMN != "" {
		st.cfg.PLMN = e.PLMN
	}
	if e.Value != nil {
		st.cfg.Value = *e.Value
		st.raw = nil
	}
	if e.Raw != nil {
		st.raw = append([]byte{}, *e.Raw...)
	}
	if e.Partial != nil {
		st.partial = *e.Partial
	}
	if e.Disabled != nil {
		st.cfg.Disabled = *e.Disabled
		if st.cfg.Disabled {
			st.raw = nil
		}
	}
	ids := make([]uint32, 0, len(m.sessions))
	for id := range m.sessions {
		if e.Session == nil || *e.Session == id {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		m.notifyPCO(id)
	}
}

func handlePCO(m *Modem, r *Request) Reply {
	var id uint32
	if q, ok := r.Info.(*ms.PcoQuery); ok {
		id = q.SessionId
	}
	if _, ok := m.sessions[id]; !ok {
		return Fail(mbim.StatusContextNotActivated)
	}
	v, ok := m.pcoValue(id)
	if !ok {
		return Fail(mbim.StatusNotInitialized)
	}
	return OK(v)
}

func (m *Modem) notifyPCO(id uint32) {
	if v, ok := m.pcoValue(id); ok {
		m.Notify(ms.UUID, ms.CIDPco, v)
	}
}

// ---- reset

func handleDeviceReset(m *Modem, r *Request) Reply {
	m.resetPending = true // after the response is out
	return OK(nil)
}

// ---- cells and location

func handleBaseStationsInfo(m *Modem, r *Request) Reply {
	n := m.sc.Network
	var lte *ms.CellInfoServingLte
	var neighbors []ms.CellInfoNeighboringLte
	if m.registered() {
		lte = &ms.CellInfoServingLte{ProviderId: m.reg.plmn, CellId: n.CellID, Earfcn: n.EARFCN, PhysicalCellId: n.PCI,
			Tac: n.TAC, Rsrp: n.RSRP, Rsrq: -10, TimingAdvance: 0xFFFFFFFF}
		neighbors = lteNeighbors(m.reg.plmn, n)
	}
	if r.Version >= mbim.MBIMEx3 {
		return OK(&ms.BaseStationsInfoResponseV3{SystemType: dataClassV3(n.DataClass), LteServingCell: lte,
			LteNeighboringCells: neighbors})
	}
	return OK(&ms.BaseStationsInfoResponse{SystemType: n.DataClass, LteServingCell: lte, LteNeighboringCells: neighbors})
}

// lteNeighbors gives one LTE neighbour cell (MBIM_MS_CELL_INFO_MRL_LTE).
func lteNeighbors(plmn string, n Network) []ms.CellInfoNeighboringLte {
	return []ms.CellInfoNeighboringLte{{ProviderId: plmn, CellId: n.CellID + 1, Earfcn: n.EARFCN, PhysicalCellId: n.PCI + 1,
		Tac: n.TAC, Rsrp: n.RSRP - 9, Rsrq: -14}}
}

func (m *Modem) locationInfo() *ms.LocationInfoStatusResponse {
	if !m.registered() {
		return &ms.LocationInfoStatusResponse{}
	}
	n := m.sc.Network
	return &ms.LocationInfoStatusResponse{LocationAreaCode: n.LAC, TrackingAreaCode: n.TAC, CellID: n.CellID}
}

func handleLocationInfoStatus(m *Modem, r *Request) Reply { return OK(m.locationInfo()) }

// ---- modem logging

// handleModemLoggingConfig stores the logging configuration. The modem
// adjusts what it cannot do: segments of 1 to 1024 KiB (and no larger
// than its data path carries in one datagram: an NTB on the log data
// socket, the MTU of a network interface), flush times of 100 ms to 60 s,
// structure version 1. The log data follows the new values at once.
func handleModemLoggingConfig(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*ms.ModemLoggingConfigSet); ok {
		c := *s
		c.Version = 1
		c.MaxSegmentSize = min(max(c.MaxSegmentSize, 1), 1024, m.logSegmentCapKiB())
		c.MaxFlushTime = min(max(c.MaxFlushTime, 100), 60000)
		if c.LevelConfig > ms.ModemLoggingLevelConfigOem {
			return Fail(mbim.StatusInvalidParameters)
		}
		m.logging = c
		m.dlog.setConf(c)
		cp := c
		m.Notify(ms.UUID, ms.CIDModemLoggingConfig, &cp)
	}
	c := m.logging
	return OK(&c)
}

// LoggingConfig returns the modem logging configuration in force.
func (m *Modem) LoggingConfig() ms.ModemLoggingConfig {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logging
}

// ---- MBIMEx 3.0 CIDs

func handleModemConfiguration(m *Modem, r *Request) Reply {
	return OK(&ms.ModemConfigurationResponseV3{ConfigurationStatus: ms.ModemConfigurationStatusCompleted,
		ConfigurationName: "generic-" + m.sc.Network.Home.PLMN})
}

func handleRegistrationParameters(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*ms.RegistrationParametersSetV3); ok {
		m.regParams = *s
		m.regParams.UnnamedIes = nil
	}
	p := m.regParams
	return OK(&p)
}

func handleNetworkParameters(m *Modem, r *Request) Reply {
	mico := ms.MicoIndicationNotAvailable
	if m.regParams.MicoMode == ms.MicoModeEnabled {
		mico = ms.MicoIndicationAllocated
	}
	drx := m.regParams.DrxCycle
	if drx == ms.DrxCycleNotSpecified {
		drx = ms.DrxCycle128
	}
	return OK(&ms.NetworkParametersResponseV3{MicoIndication: mico, DrxParams: drx})
}

// handleWakeReason reports that a register-state indication woke the host.
func handleWakeReason(m *Modem, r *Request) Reply {
	// MBIM_TLV_WAKE_COMMAND: service UUID, CID, payload offset and size.
	data := append([]byte(nil), bc.UUID[:]...)
	data = binary.LittleEndian.AppendUint32(data, bc.CIDRegisterState)
	data = binary.LittleEndian.AppendUint32(data, 0)
	data = binary.LittleEndian.AppendUint32(data, 0)
	return OK(&ms.WakeReasonResponseV3{WakeType: ms.WakeTypeCidIndication, SessionId: 0,
		WakeTlv: mbim.TLV{Type: mbim.TLVWakeCommand, Data: data}})
}
