package msbasicconnectext

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"reflect"
	"testing"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// vector is one information buffer with the value it encodes.
//
// "builder" vectors are the information buffers libmbim 1.28's message
// builders (mbim_message_ms_basic_connect_extensions_*_new) produce for the
// same field values. libmbim has no builders for responses and
// notifications: "parser" vectors were encoded by us and then decoded with
// libmbim 1.28's *_response_parse / *_notification_parse functions, which
// returned exactly these field values.
type vector struct {
	name string
	hex  string
	want mbim.Info
	new  func() mbim.Info
}

var internet = mbim.ContextType(mbim.ContextTypeInternet)

func vectors() []vector {
	return []vector{
		// libmbim 1.28 builder: provisioned_contexts_set_new.
		{"provisioned-contexts set", "000000007e5e2a7e4e6f7272736b656e7e5e2a7e030000000100000003000000" +
			"0000000001000000480000001000000058000000080000006000000008000000" +
			"000000000200000069006e007400650072006e00650074007500730065007200" +
			"7000610073007300",
			&ProvisionedContextsSet{Operation: bc.ContextOperationDefault, ContextType: internet, IpType: bc.ContextIpTypeIpv4v6,
				State: bc.ContextStateEnabled, Roaming: bc.ContextRoamingControlHomeAndPartner, MediaType: bc.ContextMediaTypeCellularOnly,
				Source: bc.ContextSourceUser, AccessString: "internet", UserName: "user", Password: "pass",
				Compression: bc.CompressionNone, AuthProtocol: bc.AuthProtocolChap},
			func() mbim.Info { return new(ProvisionedContextsSet) }},
		// libmbim 1.28 builder: lte_attach_configuration_set_new (two contexts, empty strings in the first).
		{"lte-attach-configuration set", "000000000200000018000000340000004c0000004c0000000300000000000000" +
			"000000002c000000060000000000000000000000000000000000000000000000" +
			"0000000069006d00730000000200000001000000020000002c00000016000000" +
			"440000000200000048000000040000000100000001000000610070006e002e00" +
			"6500780061006d0070006c00650000007500000070007700",
			&LteAttachConfigurationSet{Operation: LteAttachContextOperationDefault, Configurations: []LteAttachConfiguration{
				{IpType: bc.ContextIpTypeIpv4v6, Roaming: LteAttachContextRoamingControlHome, Source: bc.ContextSourceAdmin,
					AccessString: "ims", Compression: bc.CompressionNone, AuthProtocol: bc.AuthProtocolNone},
				{IpType: bc.ContextIpTypeIpv6, Roaming: LteAttachContextRoamingControlPartner, Source: bc.ContextSourceOperator,
					AccessString: "apn.example", UserName: "u", Password: "pw", Compression: bc.CompressionEnable, AuthProtocol: bc.AuthProtocolPap},
			}},
			func() mbim.Info { return new(LteAttachConfigurationSet) }},
		// libmbim 1.28 builder: device_slot_mappings_set_new.
		{"device-slot-mappings set", "02000000140000000400000018000000040000000100000000000000",
			&DeviceSlotMappingsSet{SlotMap: []Slot{{Slot: 1}, {Slot: 0}}},
			func() mbim.Info { return new(DeviceSlotMappingsSet) }},
		// libmbim 1.28 builder: slot_info_status_query_new.
		{"slot-info-status query", "01000000",
			&SlotInfoStatusQuery{SlotIndex: 1},
			func() mbim.Info { return new(SlotInfoStatusQuery) }},
		// libmbim 1.28 builder: pco_query_new (a 4-byte multiple, so no padding).
		{"pco query", "03000000080000000000000080000d0408080808",
			&PcoQuery{SessionId: 3, PcoDataType: PcoTypeComplete, PcoDataBuffer: mbim.Bytes{0x80, 0x00, 0x0d, 0x04, 0x08, 0x08, 0x08, 0x08}},
			func() mbim.Info { return new(PcoQuery) }},
		// libmbim 1.28 builder: base_stations_info_query_new.
		{"base-stations-info query", "0100000002000000030000000400000005000000",
			&BaseStationsInfoQuery{MaxGsmCount: 1, MaxUmtsCount: 2, MaxTdscdmaCount: 3, MaxLteCount: 4, MaxCdmaCount: 5},
			func() mbim.Info { return new(BaseStationsInfoQuery) }},
		// libmbim 1.28 builder: v3_base_stations_info_query_new.
		{"base-stations-info query v3", "010000000200000003000000040000000500000006000000",
			&BaseStationsInfoQueryV3{MaxGsmCount: 1, MaxUmtsCount: 2, MaxTdscdmaCount: 3, MaxLteCount: 4, MaxCdmaCount: 5, MaxNrCount: 6},
			func() mbim.Info { return new(BaseStationsInfoQueryV3) }},
		// libmbim 1.28 builder: v2_version_query_new (MBIM 1.0, MBIMEx 3.0).
		{"version query", "00010003",
			&VersionQuery{MbimVersion: 0x0100, MbimExtendedVersion: 0x0300},
			func() mbim.Info { return new(VersionQuery) }},
		// libmbim 1.28 builder: v3_registration_parameters_set_new with a wchar-str and a tai element.
		{"registration-parameters set", "01000000030000000100000001000000010000000a0000020600000061006200" +
			"63000000090000020600000012f4100000010000",
			&RegistrationParametersSetV3{MicoMode: MicoModeEnabled, DrxCycle: DrxCycle64, LadnInfo: LadnInfoRequested,
				DefaultPduActivationHint: DefaultPduActivationHintLikely, ReRegisterIfNedeed: 1,
				UnnamedIes: []mbim.TLV{mbim.StringTLV("abc"), {Type: mbim.TLVTAI, Data: mbim.Bytes{0x12, 0xf4, 0x10, 0x00, 0x00, 0x01}}}},
			func() mbim.Info { return new(RegistrationParametersSetV3) }},
		// libmbim 1.28 builder: v3_registration_parameters_set_new without elements.
		{"registration-parameters set, no elements", "0300000000000000000000000000000000000000",
			&RegistrationParametersSetV3{MicoMode: MicoModeDefault, DrxCycle: DrxCycleNotSpecified, LadnInfo: LadnInfoNotNeeded,
				DefaultPduActivationHint: DefaultPduActivationHintUnlikely},
			func() mbim.Info { return new(RegistrationParametersSetV3) }},

		// libmbim 1.28 parser: provisioned_contexts_response_parse.
		{"provisioned-contexts response", "0200000014000000580000006c00000058000000010000007e5e2a7e4e6f7272" +
			"736b656e7e5e2a7e030000000100000006000000020000000200000048000000" +
			"1000000000000000000000000000000000000000000000000000000069006e00" +
			"7400650072006e00650074000200000021610d0130744bce9425b53a07d697d6" +
			"0200000000000000000000000000000003000000480000000600000050000000" +
			"020000005400000002000000010000000300000069006d007300000075000000" +
			"70000000",
			&ProvisionedContextsResponse{ProvisionedContexts: []ProvisionedContextElementV2{
				{ContextId: 1, ContextType: internet, IpType: bc.ContextIpTypeIpv4v6, State: bc.ContextStateEnabled,
					Roaming: bc.ContextRoamingControlAllowAll, MediaType: bc.ContextMediaTypeAll, Source: bc.ContextSourceOperator, AccessString: "internet",
					Compression: bc.CompressionNone, AuthProtocol: bc.AuthProtocolNone},
				{ContextId: 2, ContextType: mbim.ContextType(mbim.ContextTypeIMS), IpType: bc.ContextIpTypeIpv6, State: bc.ContextStateDisabled,
					Roaming: bc.ContextRoamingControlHomeOnly, MediaType: bc.ContextMediaTypeCellularOnly, Source: bc.ContextSourceModem, AccessString: "ims",
					UserName: "u", Password: "p", Compression: bc.CompressionEnable, AuthProtocol: bc.AuthProtocolMschapv2},
			}},
			func() mbim.Info { return new(ProvisionedContextsResponse) }},
		// libmbim 1.28 parser: lte_attach_info_response_parse.
		{"lte-attach-info response", "0100000001000000280000000600000000000000000000000000000000000000" +
			"0000000001000000610070006e000000",
			&LteAttachInfoResponse{LteAttachState: LteAttachStateAttached, IpType: bc.ContextIpTypeIpv4, AccessString: "apn", AuthProtocol: bc.AuthProtocolPap},
			func() mbim.Info { return new(LteAttachInfoResponse) }},
		// libmbim 1.28 parser: v3_lte_attach_info_notification_parse.
		{"lte-attach-info notification v3", "0100000021000000030000002c0000000600000034000000080000003c000000" +
			"080000000000000002000000610070006e000000750073006500720070006100" +
			"73007300",
			&LteAttachInfoNotifyV3{LteAttachState: LteAttachStateAttached, NwError: 33, IpType: bc.ContextIpTypeIpv4v6,
				AccessString: "apn", UserName: "user", Password: "pass", AuthProtocol: bc.AuthProtocolChap},
			func() mbim.Info { return new(LteAttachInfoNotifyV3) }},
		// libmbim 1.28 parser: sys_caps_response_parse.
		{"sys-caps response", "0200000002000000010000000807060504030201",
			&SysCapsResponse{NumberOfExecutors: 2, NumberOfSlots: 2, Concurrency: 1, ModemId: 0x0102030405060708},
			func() mbim.Info { return new(SysCapsResponse) }},
		// libmbim 1.28 parser: device_caps_response_parse.
		{"device-caps response", "0100000001000000010000000300000024000000030000001100000008000000" +
			"0000000000000000440000001e000000640000000a0000007000000004000000" +
			"0100000031003200330034003500360037003800390030003100320033003400" +
			"350000004600570031002e003000000048005700",
			&DeviceCapsResponse{DeviceType: bc.DeviceTypeEmbedded, CellularClass: bc.CellularClassGsm,
				VoiceClass: bc.VoiceClassNoVoice, SmsClass: bc.SimClassLogical | bc.SimClassRemovable, DataClass: bc.DataClassLte | bc.DataClassUmts,
				SmsCaps: bc.SmsCapsPduReceive | bc.SmsCapsPduSend, ControlCaps: bc.CtrlCapsRegManual | bc.CtrlCapsMultiCarrier, MaxSessions: 8,
				DeviceId: "123456789012345", FirmwareInfo: "FW1.0", HardwareInfo: "HW", ExecutorIndex: 1},
			func() mbim.Info { return new(DeviceCapsResponse) }},
		// libmbim 1.28 parser: v3_device_caps_response_parse.
		{"device-caps response v3", "0200000001000000010000000200000060000000010000002000000003000000" +
			"000000000400000000000000110000000b000002060000000100030007000000" +
			"0b000002020000004e0000000a000000000000000a0000021e00000038003600" +
			"300030003000300030003000300030003000300030003000300000000a000002" +
			"0600000046005700320000000a0000020a000000480057002d00350047000000",
			&DeviceCapsResponseV3{DeviceType: bc.DeviceTypeRemovable, CellularClass: bc.CellularClassGsm,
				VoiceClass: bc.VoiceClassNoVoice, SimClass: bc.SimClassRemovable, DataClass: bc.DataClassV3Lte | bc.DataClassV35g,
				SmsCaps: bc.SmsCapsPduReceive, ControlCaps: bc.CtrlCapsEsim, DataSubclass: bc.DataSubclass5gEndc | bc.DataSubclass5gNr,
				MaxSessions: 4, WcdmaBandClass: 0x11, LteBandClass: []uint16{1, 3, 7}, NrBandClass: []uint16{78},
				DeviceId: "860000000000000", FirmwareInfo: "FW2", HardwareInfo: "HW-5G"},
			func() mbim.Info { return new(DeviceCapsResponseV3) }},
		// libmbim 1.28 parser: location_info_status_notification_parse.
		{"location-info-status notification", "3412000078560000f0debc9a",
			&LocationInfoStatusNotify{LocationAreaCode: 0x1234, TrackingAreaCode: 0x5678, CellID: 0x9abcdef0},
			func() mbim.Info { return new(LocationInfoStatusNotify) }},
		// libmbim 1.28 parser: slot_info_status_response_parse.
		{"slot-info-status response", "0000000005000000",
			&SlotInfoStatusResponse{SlotIndex: 0, State: UiccSlotStateStateActive},
			func() mbim.Info { return new(SlotInfoStatusResponse) }},
		// libmbim 1.28 parser: base_stations_info_response_parse. libmbim 1.28 reads
		// the LTE serving cell, both LTE neighbors' counts and the CDMA cell
		// right; it repeats the first neighbor for the second (its
		// ms-struct-array reader does not step over the first element's
		// string data), where Wireshark reads the second element at +44.
		{"base-stations-info response", "200000000000000000000000000000000000000000000000000000004c000000" +
			"300000000000000000000000000000000000000000000000000000007c000000" +
			"5c000000d800000028000000240000000c00000067452301f61300002a000000" +
			"2b1a0000a1fffffff6ffffff0300000033003100300034003100300002000000" +
			"200000000c00000007000000f61300002b0000002b1a00009cfffffff4ffffff" +
			"330031003000340031003000200000000a00000008000000ab1300002c000000" +
			"2c1a000092fffffff1ffffff3300310030003400310000000100000001000000" +
			"0200000003000000040000000500000006000000070000000800000009000000",
			&BaseStationsInfoResponse{SystemType: bc.DataClassLte,
				LteServingCell:      &CellInfoServingLte{ProviderId: "310410", CellId: 0x1234567, Earfcn: 5110, PhysicalCellId: 42, Tac: 0x1a2b, Rsrp: -95, Rsrq: -10, TimingAdvance: 3},
				LteNeighboringCells: lteNeighbors,
				CdmaCells:           []CellInfoCdma{{ServingCellFlag: 1, Nid: 2, Sid: 3, BaseStationId: 4, BaseLatitude: 5, BaseLongitude: 6, RefPn: 7, GpsSeconds: 8, PilotStrength: 9}},
			},
			func() mbim.Info { return new(BaseStationsInfoResponse) }},
		// libmbim 1.28 parser: v3_base_stations_info_response_parse.
		{"base-stations-info response v3", "4000000002000000600000002c00000000000000000000000000000000000000" +
			"0000000000000000000000000000000000000000000000000000000000000000" +
			"000000000000000000000000000000008c00000040000000cc00000040000000" +
			"200000000a000000010000000200000003000000040000000500000006000000" +
			"30003000310030003100000001000000300000000c0000008967452301000000" +
			"f401000034a7090010000000320000003c000000460000000100000001000000" +
			"3300310030003400310030000100000002000000280000000c00000034000000" +
			"06000000f50100001100000028000000290000002a0000003300310030003400" +
			"310030006100620063000000",
			&BaseStationsInfoResponseV3{SystemType: bc.DataClassV35g, SystemSubType: bc.DataSubclass5gNr,
				GsmServingCell:  &CellInfoServingGsm{ProviderId: "00101", LocationAreaCode: 1, CellId: 2, TimingAdvance: 3, Arfcn: 4, BaseStationId: 5, RxLevel: 6},
				NrServingCells:  nrServing,
				NrNeighborCells: nrNeighbors,
			},
			func() mbim.Info { return new(BaseStationsInfoResponseV3) }},
		// libmbim 1.28 parser: v3_modem_configuration_response_parse.
		{"modem-configuration response", "020000000a000000100000006300660067002d006e0061006d0065000d000001" +
			"0300000001020300",
			&ModemConfigurationResponseV3{ConfigurationStatus: ModemConfigurationStatusCompleted, ConfigurationName: "cfg-name",
				UnnamedIes: []mbim.TLV{{Type: mbim.TLVPCO, Data: mbim.Bytes{1, 2, 3}}}},
			func() mbim.Info { return new(ModemConfigurationResponseV3) }},
		// libmbim 1.28 parser: v3_wake_reason_response_parse.
		{"wake-reason response", "0200000000000000110000001000000000000000140000001000000045000014",
			&WakeReasonResponseV3{WakeType: WakeTypePacket, WakeTlv: mbim.TLV{Type: mbim.TLVWakePacket,
				Data: mbim.Bytes{0, 0, 0, 0, 0x14, 0, 0, 0, 0x10, 0, 0, 0, 0x45, 0, 0, 0x14}}},
			func() mbim.Info { return new(WakeReasonResponseV3) }},
		// libmbim 1.28 parser: v3_registration_parameters_response_parse.
		{"registration-parameters response", "00000000040000000000000001000000000000000a0000020a00000068006500" +
			"6c006c006f000000",
			&RegistrationParametersResponseV3{MicoMode: MicoModeDisabled, DrxCycle: DrxCycle128, LadnInfo: LadnInfoNotNeeded,
				DefaultPduActivationHint: DefaultPduActivationHintLikely, UnnamedIes: []mbim.TLV{mbim.StringTLV("hello")}},
			func() mbim.Info { return new(RegistrationParametersResponseV3) }},
	}
}

// The neighbor-cell lists (struct-array-ms-embedded): an element count,
// then each element's fixed part followed by its own string data, offsets
// counted from the element's start.
var (
	lteNeighbors = []CellInfoNeighboringLte{
		{ProviderId: "310410", CellId: 7, Earfcn: 5110, PhysicalCellId: 43, Tac: 0x1a2b, Rsrp: -100, Rsrq: -12},
		{ProviderId: "31041", CellId: 8, Earfcn: 5035, PhysicalCellId: 44, Tac: 0x1a2c, Rsrp: -110, Rsrq: -15}}
	nrServing = []CellInfoServingNr{{ProviderId: "310410", Nci: 0x123456789, PhysicalCellID: 500, Nrarfcn: 632628,
		Tac: 0x10, Rsrp: 50, Rsrq: 60, Sinr: 70, TimingAdvance: 0x100000001}}
	nrNeighbors = []CellInfoNeighboringNr{{SystemSubType: bc.DataSubclass5gNr, ProviderId: "310410", CellId: "abc",
		PhysicalCellID: 501, Tac: 0x11, Rsrp: 40, Rsrq: 41, Sinr: 42}}
)

func msStructArray(elems ...mbim.Info) mbim.Bytes {
	b := []byte{byte(len(elems)), 0, 0, 0}
	for _, e := range elems {
		var err error
		if b, err = e.AppendMBIM(b); err != nil {
			panic(err)
		}
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func TestVectors(t *testing.T) {
	for _, v := range vectors() {
		t.Run(v.name, func(t *testing.T) {
			mbimtest.CheckWire(t, v.name, v.want, v.new(), v.hex)
		})
	}
}

// TestNeighborElements checks the element-by-element form of the
// neighbor-cell lists against msStructArray, which builds it by hand the way
// Wireshark walks it: the second element starts after the first one's
// string data, at +44.
func TestNeighborElements(t *testing.T) {
	want := msStructArray(&lteNeighbors[0], &lteNeighbors[1])
	if len(want) != 4+44+44 {
		t.Fatalf("hand-built list is %d bytes", len(want))
	}
	x := &BaseStationsInfoResponse{LteNeighboringCells: lteNeighbors}
	b, err := mbim.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	off := binary.LittleEndian.Uint32(b[60:])
	n := binary.LittleEndian.Uint32(b[64:])
	if got := b[off : off+n]; !bytes.Equal(got, want) {
		t.Errorf("LteNeighboringCells on the wire:\n got %x\nwant %x", got, want)
	}
	var y BaseStationsInfoResponse
	if err := y.UnmarshalMBIM(b); err != nil || !reflect.DeepEqual(y.LteNeighboringCells, lteNeighbors) {
		t.Errorf("decoded %+v, %v", y.LteNeighboringCells, err)
	}
	// A count that the data cannot hold fails before allocating.
	binary.LittleEndian.PutUint32(b[off:], 1<<30)
	if err := y.UnmarshalMBIM(b); err == nil {
		t.Error("an impossible element count decoded")
	}
}

// TestPcoPadding checks the in-place PCO buffer: PcoDataSize bytes, padded
// to 4 on the wire as libmbim writes it, and the padding tolerated when a
// device leaves it out at the end.
func TestPcoPadding(t *testing.T) {
	// libmbim 1.28 builder: pco_query_new with a 5-byte buffer.
	b, _ := hex.DecodeString("0300000005000000010000000102030405000000")
	var v PcoQuery
	if err := v.UnmarshalMBIM(b); err != nil {
		t.Fatal(err)
	}
	if v.SessionId != 3 || v.PcoDataType != PcoTypePartial || !bytes.Equal(v.PcoDataBuffer, []byte{1, 2, 3, 4, 5}) {
		t.Errorf("decoded %+v", v)
	}
	if out, err := mbim.Marshal(&v); err != nil || !bytes.Equal(out, b) {
		t.Errorf("encoded %x (%v), want libmbim's %x", out, err, b)
	}
	var w PcoQuery
	if err := w.UnmarshalMBIM(b[:17]); err != nil || !bytes.Equal(w.PcoDataBuffer, []byte{1, 2, 3, 4, 5}) {
		t.Errorf("without padding: %+v, %v", w, err)
	}
	if err := w.UnmarshalMBIM(b[:16]); err == nil {
		t.Errorf("a buffer shorter than PcoDataSize decoded: %+v", w)
	}
}

// TestProvisionedContextsV4 checks the MBIMEx 4.0 layout Wireshark decodes:
// the S-NSSAI element right after each context's fixed part, before its
// strings (libmbim 1.28 has no MBIMEx 4.0 form to compare with).
func TestProvisionedContextsV4(t *testing.T) {
	snssai := mbim.TLV{Type: mbim.TLVSingleNSSAI, Data: mbim.Bytes{0x01, 0x01}}
	x := &ProvisionedContextsResponseV4{ProvisionedContexts: []ProvisionedContextElementV4{{
		ContextId: 1, ContextType: internet, IpType: bc.ContextIpTypeIpv4, State: bc.ContextStateEnabled,
		AccessString: "a", Snssai: snssai,
	}}}
	b, err := mbim.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	// Count and one OL pair, then the context: its 72-byte fixed part, the
	// element (8-byte header, 2 data bytes, 2 padding), then "a" padded.
	const elem, fixed = 12, 72
	if len(b) != elem+fixed+12+4 {
		t.Fatalf("%d bytes: %x", len(b), b)
	}
	if !bytes.Equal(b[elem+fixed:elem+fixed+12], []byte{2, 0, 0, 2, 2, 0, 0, 0, 1, 1, 0, 0}) {
		t.Errorf("S-NSSAI element not after the fixed part: %x", b)
	}
	if off := int(b[elem+40]); off != fixed+12 {
		t.Errorf("AccessString offset %d, want %d", off, fixed+12)
	}
	var y ProvisionedContextsResponseV4
	if err := y.UnmarshalMBIM(b); err != nil || !reflect.DeepEqual(&y, x) {
		t.Errorf("round trip: %v\n%+v", err, y)
	}
}

// TestLayouts checks the registry: every CID 1-20, and the layout chosen per
// MBIMEx version.
func TestLayouts(t *testing.T) {
	names := map[uint32]string{1: "provisioned-contexts", 2: "network-denylist", 3: "lte-attach-configuration",
		4: "lte-attach-info", 5: "sys-caps", 6: "device-caps", 7: "device-slot-mappings", 8: "slot-info-status", 9: "pco",
		10: "device-reset", 11: "base-stations-info", 12: "location-info-status", 13: "modem-logging-config",
		14: "pin-info-ex2", 15: "version", 16: "modem-configuration", 17: "registration-parameters",
		18: "network-parameters", 19: "wake-reason", 20: "ue-policy"}
	for id, name := range names {
		c := Service.CID(id)
		if c == nil || c.Name != name {
			t.Errorf("CID %d: %+v, want %s", id, c, name)
		}
	}
	for _, tc := range []struct {
		cid  uint32
		kind mbim.Kind
		v    mbim.Version
		typ  string
	}{
		{CIDDeviceCaps, mbim.KindResponse, mbim.MBIMEx1, "DeviceCapsResponse"},
		{CIDDeviceCaps, mbim.KindResponse, mbim.MBIMEx2, "DeviceCapsResponse"},
		{CIDDeviceCaps, mbim.KindResponse, mbim.MBIMEx3, "DeviceCapsResponseV3"},
		{CIDDeviceCaps, mbim.KindResponse, mbim.MBIMEx4, "DeviceCapsResponseV3"},
		{CIDLteAttachInfo, mbim.KindNotify, mbim.MBIMEx3, "LteAttachInfoNotifyV3"},
		{CIDBaseStationsInfo, mbim.KindQuery, mbim.MBIMEx3, "BaseStationsInfoQueryV3"},
		{CIDProvisionedContexts, mbim.KindSet, mbim.MBIMEx3, "ProvisionedContextsSet"},
		{CIDProvisionedContexts, mbim.KindSet, mbim.MBIMEx4, "ProvisionedContextsSetV4"},
		{CIDVersion, mbim.KindQuery, mbim.MBIMEx1, "VersionQuery"},
		{CIDRegistrationParameters, mbim.KindSet, mbim.MBIMEx3, "RegistrationParametersSetV3"},
	} {
		m, ok := Service.CID(tc.cid).Layout(tc.kind, tc.v)
		if !ok || m.Type != tc.typ {
			t.Errorf("CID %d %v at %v: %+v, want %s", tc.cid, tc.kind, tc.v, m, tc.typ)
		}
	}
	if _, ok := Service.CID(CIDRegistrationParameters).Layout(mbim.KindSet, mbim.MBIMEx2); ok {
		t.Errorf("registration-parameters exists before MBIMEx 3.0")
	}
}
