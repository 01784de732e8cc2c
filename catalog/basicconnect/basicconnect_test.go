package basicconnect

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// wireCase is one information buffer: the hex, and the value it encodes.
type wireCase struct {
	name  string
	hex   string
	value mbim.Info
}

// check encodes c.value and compares with c.hex, then decodes c.hex into a
// fresh value of the same type and compares with c.value.
func (c wireCase) check(t *testing.T) {
	t.Helper()
	mbimtest.CheckWire(t, c.name, c.value, mbimtest.Fresh(c.value), c.hex)
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func internet() mbim.ContextType { return mbim.ContextType(mbim.ContextTypeInternet) }

// The five COMMAND_DONE messages of /work/shared/vectors/basic-connect.hex
// (written from the specification's tables by make-basic-connect.py).
const sharedVectors = `
device_caps	03000080c4000000070000000100000000000000a289cc33bcbb8b4fb6b0133ec2aae6df010000000000000094000000010000000100000001000000020000003f0000800300000001000000080000000000000000000000400000001e0000006000000028000000880000000c0000003300350039003000370032003000360031003200330034003500360037000000530057004900390058003300300043005f00300032002e00320034002e00300035002e003000360045004d003700340035003500
register_state	030000807c000000070000000100000000000000a289cc33bcbb8b4fb6b0133ec2aae6df09000000000000004c0000000000000003000000010000002000000001000000300000000c0000003c0000001000000000000000000000000200000033003100300032003600300054002d004d006f00620069006c006500
ip_configuration	03000080b4000000070000000100000000000000a289cc33bcbb8b4fb6b0133ec2aae6df0f0000000000000084000000000000000f0000000f000000010000003c0000000100000044000000580000005c000000020000006c0000000100000074000000dc050000dc050000180000000a400102400000002001db800000000000000000000000010a4001012001db80000000000000000000000002080808080101010120014860486000000000000000008888
visible_providers	0300008074020000070000000100000000000000a289cc33bcbb8b4fb6b0133ec2aae6df0800000000000000440200000800000044000000400000008400000040000000c400000040000000040100004000000044010000400000008401000040000000c4010000400000000402000040000000200000000c000000010000002c000000140000000100000014000000630000003300310030003200300030004f00700065007200610074006f00720020003000200000000c000000020000002c000000140000000100000015000000630000003300310030003200300031004f00700065007200610074006f00720020003100200000000c000000040000002c000000140000000100000016000000630000003300310030003200300032004f00700065007200610074006f00720020003200200000000c000000080000002c000000140000000100000017000000630000003300310030003200300033004f00700065007200610074006f00720020003300200000000c000000010000002c000000140000000100000018000000630000003300310030003200300034004f00700065007200610074006f00720020003400200000000c000000020000002c000000140000000100000019000000630000003300310030003200300035004f00700065007200610074006f00720020003500200000000c000000040000002c00000014000000010000001a000000630000003300310030003200300036004f00700065007200610074006f00720020003600200000000c000000080000002c00000014000000010000001b000000630000003300310030003200300037004f00700065007200610074006f00720020003700
signal_state	0300008044000000070000000100000000000000a289cc33bcbb8b4fb6b0133ec2aae6df0b00000000000000140000001400000000000000050000000000000000000000
`

// TestSharedVectors decodes the shared COMMAND_DONE vectors (information
// buffer from byte 48), checks the field values, and checks that encoding
// the decoded value gives the identical bytes back.
func TestSharedVectors(t *testing.T) {
	vectors := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(sharedVectors), "\n") {
		name, h, _ := strings.Cut(line, "\t")
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		vectors[name] = b
	}
	visible := VisibleProvidersResponse{}
	for i := 0; i < 8; i++ {
		visible.Providers = append(visible.Providers, Provider{
			ProviderId:    "3102" + string(rune('0'+i/10)) + string(rune('0'+i%10)),
			ProviderState: ProviderState(1 << (i % 4)),
			ProviderName:  "Operator " + string(rune('0'+i)),
			CellularClass: CellularClassGsm,
			Rssi:          uint32(20 + i),
			ErrorRate:     99,
		})
	}
	cases := []struct {
		name string
		cid  uint32
		want mbim.Info
	}{
		{"device_caps", CIDDeviceCaps, &DeviceCapsResponse{
			DeviceType:    DeviceTypeEmbedded,
			CellularClass: CellularClassGsm,
			VoiceClass:    VoiceClassNoVoice,
			SimClass:      SimClassRemovable,
			DataClass: DataClassGprs | DataClassEdge | DataClassUmts | DataClassHsdpa | DataClassHsupa |
				DataClassLte | DataClassCustom,
			SmsCaps:      SmsCapsPduReceive | SmsCapsPduSend,
			ControlCaps:  CtrlCapsRegManual,
			MaxSessions:  8,
			DeviceId:     "359072061234567",
			FirmwareInfo: "SWI9X30C_02.24.05.06",
			HardwareInfo: "EM7455",
		}},
		{"register_state", CIDRegisterState, &RegisterStateResponse{
			NwError:              NwErrorNone,
			RegisterState:        RegisterStateHome,
			RegisterMode:         RegisterModeAutomatic,
			AvailableDataClasses: DataClassLte,
			CurrentCellularClass: CellularClassGsm,
			ProviderId:           "310260",
			ProviderName:         "T-Mobile",
			RegistrationFlag:     RegistrationFlagPacketServiceAutomaticAttach,
		}},
		{"ip_configuration", CIDIpConfiguration, &IpConfigurationResponse{
			IPv4ConfigurationAvailable: IPConfigurationAvailableFlagAddress | IPConfigurationAvailableFlagGateway |
				IPConfigurationAvailableFlagDns | IPConfigurationAvailableFlagMtu,
			IPv6ConfigurationAvailable: 0xf,
			IPv4Address:                []IPv4Element{{24, addr("10.64.1.2")}},
			IPv6Address:                []IPv6Element{{64, addr("2001:db80::1")}},
			IPv4Gateway:                addr("10.64.1.1"),
			IPv6Gateway:                addr("2001:db80::2"),
			IPv4DnsServer:              []netip.Addr{addr("8.8.8.8"), addr("1.1.1.1")},
			IPv6DnsServer:              []netip.Addr{addr("2001:4860:4860::8888")},
			IPv4Mtu:                    1500,
			IPv6Mtu:                    1500,
		}},
		{"visible_providers", CIDVisibleProviders, &visible},
		{"signal_state", CIDSignalState, &SignalStateResponse{Rssi: 20, SignalStrengthInterval: 5}},
	}
	if len(cases) != len(vectors) {
		t.Fatalf("%d vectors, %d cases", len(vectors), len(cases))
	}
	for _, c := range cases {
		msg := vectors[c.name]
		if msg == nil {
			t.Fatalf("no vector %s", c.name)
		}
		if len(msg) < 48 {
			t.Fatalf("%s: short message", c.name)
		}
		if got := binary.LittleEndian.Uint32(msg[0:]); got != 0x80000003 {
			t.Errorf("%s: message type %#x", c.name, got)
		}
		if got := mbim.UUID(msg[20:36]); got != UUID {
			t.Errorf("%s: service %s", c.name, got)
		}
		if got := binary.LittleEndian.Uint32(msg[36:]); got != c.cid {
			t.Errorf("%s: CID %d, want %d", c.name, got, c.cid)
		}
		info := msg[48:]
		if got := binary.LittleEndian.Uint32(msg[44:]); int(got) != len(info) {
			t.Errorf("%s: InformationBufferLength %d, buffer %d", c.name, got, len(info))
		}
		wireCase{c.name, hex.EncodeToString(info), c.want}.check(t)
	}
}

// TestLibmbimBuilder compares our encoding with the information buffers
// libmbim 1.28's mbim_message_*_new() builders produce for the same values
// (hex pasted from a small C program), and decodes them back.
func TestLibmbimBuilder(t *testing.T) {
	tmobile := Provider{
		ProviderId:    "310260",
		ProviderState: ProviderStateHome | ProviderStateRegistered,
		ProviderName:  "T-Mobile",
		CellularClass: CellularClassGsm,
		Rssi:          20,
		ErrorRate:     99,
	}
	vodafone := Provider{"23415", ProviderStatePreferred, "Vodafone UK", CellularClassGsm, 31, 0}
	test := Provider{"00101", ProviderStateForbidden, "", CellularClassGsm | CellularClassCdma, 99, 99}
	filter1 := []byte{0x45, 0, 0, 0, 0, 0}
	mask1 := []byte{0xf0, 0, 0, 0, 0, 0xff}
	filter2 := []byte{0x60, 0, 0}
	mask2 := []byte{0xf0, 0, 0}
	cases := []wireCase{
		{"radio-state set", "01000000", &RadioStateSet{RadioState: RadioSwitchStateOn}},
		{"pin set",
			"02000000030000001800000008000000200000000a0000003100320033003400390038003700360035000000",
			&PinSet{PinType: PinTypePin1, PinOperation: PinOperationChange, Pin: "1234", NewPin: "98765"}},
		{"pin set without new pin",
			"0b000000000000001800000010000000000000000000000031003200330034003500360037003800",
			&PinSet{PinType: PinTypePuk1, PinOperation: PinOperationEnter, Pin: "12345678"}},
		{"home-provider set",
			"200000000c000000110000002c0000001000000001000000140000006300000033003100300032003600300054002d004d006f00620069006c006500",
			func() *HomeProviderSet { p := tmobile; return &p }()},
		{"preferred-providers set",
			"030000001c0000003c00000058000000440000009c0000002c000000200000000c000000110000002c0000001000000001000000140000006300000033003100300032003600300054002d004d006f00620069006c006500200000000a000000040000002c00000016000000010000001f0000000000000032003300340031003500000056006f006400610066006f006e006500200055004b000000200000000a000000020000000000000000000000030000006300000063000000300030003100300031000000",
			&PreferredProvidersSet{Providers: []Provider{tmobile, vodafone, test}}},
		{"multicarrier-providers set",
			"02000000140000003c0000005000000044000000200000000c000000110000002c0000001000000001000000140000006300000033003100300032003600300054002d004d006f00620069006c006500200000000a000000040000002c00000016000000010000001f0000000000000032003300340031003500000056006f006400610066006f006e006500200055004b000000",
			&MulticarrierProvidersSet{Providers: []Provider{tmobile, vodafone}}},
		{"visible-providers query", "01000000", &VisibleProvidersQuery{Action: VisibleProvidersActionRestrictedScan}},
		{"register-state set",
			"100000000a0000000100000024000000320033003400310035000000",
			&RegisterStateSet{ProviderId: "23415", RegisterAction: RegisterActionManual, DataClass: DataClassLte | DataClassUmts}},
		{"register-state set automatic", "00000000000000000000000000000000", &RegisterStateSet{}},
		{"packet-service set", "01000000", &PacketServiceSet{PacketServiceAction: PacketServiceActionDetach}},
		{"signal-state set", "0500000002000000ffffffff",
			&SignalStateSet{SignalStrengthInterval: 5, RssiThreshold: 2, ErrorRateThreshold: 0xffffffff}},
		{"connect set",
			"01000000010000003c0000001800000054000000080000005c000000080000000000000002000000030000007e5e2a7e4e6f7272736b656e7e5e2a7e69006e007400650072006e00650074002e00610070006e0075007300650072007000610035003500",
			&ConnectSet{SessionId: 1, ActivationCommand: ActivationCommandActivate, AccessString: "internet.apn",
				UserName: "user", Password: "pa55", AuthProtocol: AuthProtocolChap, IpType: ContextIpTypeIpv4v6,
				ContextType: internet()}},
		{"connect query",
			"030000000000000000000000000000007e5e2a7e4e6f7272736b656e7e5e2a7e00000000",
			&ConnectQuery{SessionId: 3, ContextType: internet()}},
		{"provisioned-contexts set",
			"0200000021610d0130744bce9425b53a07d697d63c000000060000000000000000000000440000000c0000000100000001000000500000000c00000069006d0073000000730065006300720065007400330031003000320036003000",
			&ProvisionedContextsSet{ContextId: 2, ContextType: mbim.ContextType(mbim.ContextTypeIMS), AccessString: "ims",
				Password: "secret", Compression: CompressionEnable, AuthProtocol: AuthProtocolPap, ProviderId: "310260"}},
		// libmbim pads an unsized byte array to 4 bytes (7 bytes give 8);
		// we write the bytes as given, so this case uses a multiple of 4.
		{"service-activation set", "0102030405060700",
			&ServiceActivationSet{Buffer: mbim.Bytes{1, 2, 3, 4, 5, 6, 7, 0}}},
		{"ip-configuration query",
			"050000000f00000007000000020000003c000000010000004c00000060000000640000000200000074000000010000007c000000dc05000000050000180000000a40010220000000c0a800074000000020010db80000000000000000000000010a40010120010db8000000000000000000000002080808080101010120014860486000000000000000008888",
			&IpConfigurationQuery{
				SessionId:                  5,
				IPv4ConfigurationAvailable: 0xf,
				IPv6ConfigurationAvailable: 0x7,
				IPv4Address:                []IPv4Element{{24, addr("10.64.1.2")}, {32, addr("192.168.0.7")}},
				IPv6Address:                []IPv6Element{{64, addr("2001:db8::1")}},
				IPv4Gateway:                addr("10.64.1.1"),
				IPv6Gateway:                addr("2001:db8::2"),
				IPv4DnsServer:              []netip.Addr{addr("8.8.8.8"), addr("1.1.1.1")},
				IPv6DnsServer:              []netip.Addr{addr("2001:4860:4860::8888")},
				IPv4Mtu:                    1500,
				IPv6Mtu:                    1280,
			}},
		{"ip-configuration query, nothing",
			strings.Repeat("00", 60), &IpConfigurationQuery{}},
		{"device-service-subscribe-list set",
			"030000001c0000002800000044000000180000005c00000014000000a289cc33bcbb8b4fb6b0133ec2aae6df050000000100000002000000090000000a0000000c000000533fbeeb14fe44679f9033a223e56c3f0100000001000000e550a0c85e82479e82f710abf4c3351f00000000",
			&DeviceServiceSubscribeListSet{Events: []EventEntry{
				{DeviceServiceId: UUID, Cids: []uint32{1, 2, 9, 10, 12}},
				{DeviceServiceId: mbim.MustParseUUID("533fbeeb-14fe-4467-9f90-33a223e56c3f"), Cids: []uint32{1}},
				{DeviceServiceId: mbim.MustParseUUID("e550a0c8-5e82-479e-82f7-10abf4c3351f")},
			}}},
		{"network-idle-hint set", "01000000", &NetworkIdleHintSet{State: NetworkIdleHintStateEnabled}},
		{"ip-packet-filters set",
			"0100000002000000180000001c0000003400000014000000060000000c000000140000004500000000000000f000000000ff0000030000000c0000001000000060000000f0000000",
			&IpPacketFiltersSet{SessionId: 1, PacketFilters: []PacketFilter{{filter1, mask1}, {filter2, mask2}}}},
		{"ip-packet-filters set (MBIMEx 3.0)",
			"010000000200000018000000200000003800000018000000060000001000000018000000070000004500000000000000f000000000ff0000030000001000000014000000efbeadde60000000f0000000",
			&IpPacketFiltersSetV3{SessionId: 1, PacketFilters: []PacketFilterV3{{filter1, mask1, 7}, {filter2, mask2, 0xdeadbeef}}}},
		{"ip-packet-filters query (MBIMEx 3.0)", "0400000000000000", &IpPacketFiltersQueryV3{SessionId: 4}},
		{"connect query (MBIMEx 3.0)", "07000000", &ConnectQueryV3{SessionId: 7}},
		{"connect set (MBIMEx 3.0)",
			"01000000010000000000000001000000010000007e5e2a7e4e6f7272736b656e7e5e2a7e020000000a0000001000000069006e007400650072006e00650074000a00000202000000750000000a0000000400000070007700020000030500000001010203040000000a000002060000006100620063000000",
			&ConnectSetV3{SessionId: 1, ActivationCommand: ActivationCommandActivate, AuthProtocol: AuthProtocolPap,
				IpType: ContextIpTypeIpv4, ContextType: internet(), MediaPreference: AccessMediaType3gppPreferred,
				AccessString: "internet", UserName: "u", Password: "pw",
				UnnamedIes: []mbim.TLV{
					{Type: mbim.TLVSingleNSSAI, Data: mbim.Bytes{1, 1, 2, 3, 4}},
					mbim.StringTLV("abc"),
				}}},
		{"connect set (MBIMEx 3.0), empty strings",
			"00000000000000000000000000000000000000007e5e2a7e4e6f7272736b656e7e5e2a7e000000000a000000000000000a000000000000000a00000000000000",
			&ConnectSetV3{ContextType: internet()}},
	}
	for _, c := range cases {
		c.check(t)
	}
}

// responseCase is a response layout (libmbim has no builder for those): the
// hex was produced by our encoder and checked by decoding it with libmbim
// 1.28's mbim_message_get_printable_full() at the given MBIMEx version.
type responseCase struct {
	wireCase
	cid   uint32
	major int
}

func responseCases() []responseCase {
	rc := func(name string, cid uint32, major int, h string, v mbim.Info) responseCase {
		return responseCase{wireCase{name, h, v}, cid, major}
	}
	return []responseCase{
		rc("subscriber-ready-status response", CIDSubscriberReadyStatus, 1, "010000002c0000001e0000004c00000026000000010000000200000074000000180000008c000000180000003300310030003200360030003100320033003400350036003700380039000000380039003000310032003600300031003200330034003500360037003800390030003100320000002b00310035003500350031003200330034003500360037002b0031003500350035003700360035003400330032003100",
			&SubscriberReadyStatusResponse{ReadyState: SubscriberReadyStateInitialized, SubscriberId: "310260123456789",
				SimIccId: "8901260123456789012", ReadyInfo: ReadyInfoFlagProtectUniqueId,
				TelephoneNumbers: []string{"+15551234567", "+15557654321"}}),
		rc("subscriber-ready-status response (MBIMEx 3.0)", CIDSubscriberReadyStatus, 3, "07000000030000000000000000000000280000002800000000000000010000005000000018000000380039003000310032003600300031003200330034003500360037003800390030003100320033002b0031003500350035003100320033003400350036003700",
			&SubscriberReadyStatusResponseV3{ReadyState: SubscriberReadyStateNoEsimProfile,
				Flags:    SubscriberReadyStatusFlagEsim | SubscriberReadyStatusFlagSimRemovabilityKnown,
				SimIccId: "89012601234567890123", TelephoneNumbers: []string{"+15551234567"}}),
		rc("pin response", CIDPin, 1, "020000000100000003000000", &PinResponse{PinType: PinTypePin1, PinState: PinStateLocked, RemainingAttempts: 3}),
		rc("pin-list response", CIDPinList, 1, "010000000100000004000000080000000200000001000000040000000800000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000000020000000100000010000000000000000000000000000000000000000100000002000000060000000c000000", &PinListResponse{
			PinDescPin1:         PinDesc{PinModeEnabled, PinFormatNumeric, 4, 8},
			PinDescPin2:         PinDesc{PinModeDisabled, PinFormatNumeric, 4, 8},
			PinDescNetworkPin:   PinDesc{PinModeNotSupported, PinFormatUnknown, 0xffffffff, 0xffffffff},
			PinDescCorporatePin: PinDesc{PinModeNotSupported, PinFormatAlphanumeric, 1, 16},
			PinDescCustom:       PinDesc{PinModeEnabled, PinFormatAlphanumeric, 6, 12},
		}),
		rc("register-state response (MBIMEx 2.0)", CIDRegisterState, 2, "0d00000004000000020000006000000001000000340000000a0000004000000016000000580000000e00000001000000a000000032003300340031003500000056006f006400610066006f006e006500200055004b00000052006f0061006d0069006e0067000000",
			&RegisterStateResponseV2{NwError: NwErrorRoamingNotAllowedInLocationArea, RegisterState: RegisterStateRoaming,
				RegisterMode: RegisterModeManual, AvailableDataClasses: DataClassLte | DataClass5gNsa,
				CurrentCellularClass: CellularClassGsm, ProviderId: "23415", ProviderName: "Vodafone UK",
				RoamingText: "Roaming", RegistrationFlag: RegistrationFlagManualSelectionNotAvailable,
				PreferredDataClasses: DataClass5gSa | DataClassLte}),
		rc("packet-service response", CIDPacketService, 1, "00000000020000002000000080f0fa02000000000100000001000000",
			&PacketServiceResponse{NwError: 0, PacketServiceState: PacketServiceStateAttached,
				HighestAvailableDataClass: DataClassLte, UplinkSpeed: 50000000, DownlinkSpeed: 0x1_0000_0001}),
		rc("packet-service response (MBIMEx 2.0)", CIDPacketService, 2, "0700000004000000400000000100000000000000020000000000000003000000",
			&PacketServiceResponseV2{NwError: 7, PacketServiceState: PacketServiceStateDetached,
				CurrentDataClass: DataClass5gNsa, UplinkSpeed: 1, DownlinkSpeed: 2, FrequencyRange: FrequencyRange1 | FrequencyRange2}),
		rc("packet-service response (MBIMEx 3.0)", CIDPacketService, 3, "00000000020000004000000000e1f5050000000000ca9a3b0000000001000000020000003601040156341200",
			&PacketServiceResponseV3{PacketServiceState: PacketServiceStateAttached,
				HighestAvailableDataClass: DataClassV35g, UplinkSpeed: 100000000, DownlinkSpeed: 1000000000,
				FrequencyRange: FrequencyRange1, DataSubclass: DataSubclass5gNr,
				Tai: Tai{PlmnMcc: 310, PlmnMnc: 260, Tac: 0x123456}}),
		rc("packet-service response (MBIMEx 3.0), trailing element", CIDPacketService, 3, "000000000200000020000000000000000000000000000000000000000000000000000000100326000100000013000000040000000f000000",
			&PacketServiceResponseV3{PacketServiceState: PacketServiceStateAttached, HighestAvailableDataClass: DataClassV3Lte,
				Tai:        Tai{PlmnMcc: 0x310, PlmnMnc: 0x26, Tac: 1},
				UnnamedIes: []mbim.TLV{{Type: 19, Data: mbim.Bytes{0x0f, 0, 0, 0}}}}),
		rc("signal-state response (MBIMEx 2.0)", CIDSignalState, 2, "63000000630000000500000002000000ffffffff1c0000002c0000000200000028000000140000000300000004000000200000003c0000001e000000000000000000000040000000",
			&SignalStateResponseV2{Rssi: 99, ErrorRate: 99, SignalStrengthInterval: 5, RssiThreshold: 2, ErrorRateThreshold: 0xffffffff,
				RsrpSnr: []RsrpSnrInfo{{40, 20, 3, 4, DataClassLte}, {60, 30, 0, 0, DataClass5gNsa}}}),
		rc("signal-state response (MBIMEx 2.0), no RSRP", CIDSignalState, 2, "0a000000000000000000000000000000000000000000000000000000",
			&SignalStateResponseV2{Rssi: 10, ErrorRate: 0, SignalStrengthInterval: 0, RssiThreshold: 0, ErrorRateThreshold: 0}),
		rc("connect response", CIDConnect, 1, "010000000100000000000000030000007e5e2a7e4e6f7272736b656e7e5e2a7e00000000",
			&ConnectResponse{SessionId: 1, ActivationState: ActivationStateActivated, VoiceCallState: VoiceCallStateNone,
				IpType: ContextIpTypeIpv4v6, ContextType: internet(), NwError: 0}),
		rc("connect response (MBIMEx 3.0)", CIDConnect, 3, "020000000300000000000000020000007e5e2a7e4e6f7272736b656e7e5e2a7e21000000010000000a00000216000000610070006e002e006500780061006d0070006c00650000000d0000000800000080000d0408080808",
			&ConnectResponseV3{SessionId: 2, ActivationState: ActivationStateDeactivated, IpType: ContextIpTypeIpv6,
				ContextType: internet(), NwError: 33, MediaPreference: AccessMediaType3gpp, AccessString: "apn.example",
				UnnamedIes: []mbim.TLV{{Type: mbim.TLVPCO, Data: mbim.Bytes{0x80, 0x00, 0x0d, 0x04, 8, 8, 8, 8}}}}),
		rc("provisioned-contexts response", CIDProvisionedContexts, 1, "0200000014000000440000005800000048000000010000007e5e2a7e4e6f7272736b656e7e5e2a7e340000001000000000000000000000000000000000000000000000000000000069006e007400650072006e00650074000200000021610d0130744bce9425b53a07d697d634000000060000003c000000060000004400000002000000010000000300000069006d007300000062006f006200000078000000",
			&ProvisionedContextsResponse{ProvisionedContexts: []ProvisionedContextElement{
				{ContextId: 1, ContextType: internet(), AccessString: "internet", AuthProtocol: AuthProtocolNone},
				{ContextId: 2, ContextType: mbim.ContextType(mbim.ContextTypeIMS), AccessString: "ims", UserName: "bob",
					Password: "x", Compression: CompressionEnable, AuthProtocol: AuthProtocolMschapv2},
			}}),
		rc("service-activation response", CIDServiceActivation, 1, "06000000deadbeef",
			&ServiceActivationResponse{NwError: NwErrorIllegalMe, Buffer: mbim.Bytes{0xde, 0xad, 0xbe, 0xef}}),
		rc("device-services response", CIDDeviceServices, 1, "020000001000000018000000440000005c00000020000000a289cc33bcbb8b4fb6b0133ec2aae6df00000000000000000a0000000100000002000000030000000400000005000000060000000700000008000000090000000a000000c08a26dd7718438284826e0d583c4d0e03000000040000000100000001000000",
			&DeviceServicesResponse{MaxDssSessions: 16, DeviceServices: []DeviceServiceElement{
				{DeviceServiceId: UUID, MaxDssInstances: 0, Cids: []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
				{DeviceServiceId: mbim.MustParseUUID("c08a26dd-7718-4382-8482-6e0d583c4d0e"), DssPayload: 3, MaxDssInstances: 4, Cids: []uint32{1}},
			}}),
		rc("device-service-subscribe-list response", CIDDeviceServiceSubscribeList, 1, "010000000c0000001c000000a289cc33bcbb8b4fb6b0133ec2aae6df020000000200000009000000",
			&DeviceServiceSubscribeListResponse{Events: []EventEntry{{DeviceServiceId: UUID, Cids: []uint32{2, 9}}}}),
		rc("packet-statistics response", CIDPacketStatistics, 1, "010000000200000089674523010000000400000000000000050000000000000006000000000000000700000008000000",
			&PacketStatisticsResponse{InDiscards: 1, InErrors: 2, InOctets: 0x123456789, InPackets: 4, OutOctets: 5, OutPackets: 6, OutErrors: 7, OutDiscards: 8}),
		rc("emergency-mode response", CIDEmergencyMode, 1, "01000000", &EmergencyModeResponse{State: EmergencyModeStateOn}),
		rc("ip-packet-filters response (MBIMEx 3.0)", CIDIpPacketFilters, 3, "03000000010000001000000020000000050000001000000018000000090000000102030405000000ffffffff00000000",
			&IpPacketFiltersResponseV3{SessionId: 3, PacketFilters: []PacketFilterV3{{mbim.Bytes{1, 2, 3, 4, 5}, mbim.Bytes{0xff, 0xff, 0xff, 0xff, 0}, 9}}}),
		rc("multicarrier-providers response", CIDMulticarrierProviders, 1, "010000000c00000034000000200000000c000000280000002c00000008000000010000000c000000010000003300310030003400310030004100540026005400",
			&MulticarrierProvidersResponse{Providers: []Provider{{"310410", ProviderStateVisible | ProviderStatePreferredMulticarrier, "AT&T", CellularClassGsm, 12, 1}}}),
	}
}

func TestLibmbimParse(t *testing.T) {
	for _, c := range responseCases() {
		c.check(t)
	}
}

// TestMBIMEx4 checks the MBIMEx 4.0 layouts, which libmbim 1.28 does not
// know, against information buffers assembled by hand from the field order
// Wireshark's packet-mbim.c dissects (ActivationOption after
// ActivationCommand and an S-NSSAI element after the strings in connect;
// SlotId after the telephone number count in subscriber-ready-status).
func TestMBIMEx4(t *testing.T) {
	cases := []wireCase{
		{"subscriber-ready-status query (MBIMEx 4.0)", "01000000", &SubscriberReadyStatusQueryV4{SlotId: 1}},
		{"subscriber-ready-status response (MBIMEx 4.0)",
			"01000000" + "08000000" + "2c00000002000000" + "0000000000000000" + "00000000" + "01000000" + "01000000" +
				"3000000002000000" + "31000000" + "32000000",
			&SubscriberReadyStatusResponseV4{ReadyState: SubscriberReadyStateInitialized,
				Flags: SubscriberReadyStatusFlagSimSlotActive, SubscriberId: "1", SlotId: 1, TelephoneNumbers: []string{"2"}}},
		{"connect set (MBIMEx 4.0)",
			"01000000" + "01000000" + "02000000" + "00000000" + "00000000" + "03000000" +
				"7e5e2a7e4e6f7272736b656e7e5e2a7e" + "01000000" +
				"0a000002020000006100" + "0000" + "0a00000000000000" + "0a00000000000000" +
				"02000003050000000101020304" + "000000",
			&ConnectSetV4{SessionId: 1, ActivationCommand: ActivationCommandActivate,
				ActivationOption: ActivationOptionPerDefaultUrspRule, IpType: ContextIpTypeIpv4v6,
				ContextType: internet(), MediaPreference: AccessMediaType3gpp, AccessString: "a",
				SNssai: mbim.TLV{Type: mbim.TLVSingleNSSAI, Data: mbim.Bytes{1, 1, 2, 3, 4}}}},
		{"connect response (MBIMEx 4.0)",
			"01000000" + "01000000" + "00000000" + "01000000" + "7e5e2a7e4e6f7272736b656e7e5e2a7e" + "00000000" + "01000000" +
				"0a000002020000006100" + "0000" + "020000030100000001" + "000000" +
				"0d000000040000008000000a",
			&ConnectResponseV4{SessionId: 1, ActivationState: ActivationStateActivated, IpType: ContextIpTypeIpv4,
				ContextType: internet(), MediaPreference: AccessMediaType3gpp, AccessString: "a",
				SNssai:     mbim.TLV{Type: mbim.TLVSingleNSSAI, Data: mbim.Bytes{1}},
				UnnamedIes: []mbim.TLV{{Type: mbim.TLVPCO, Data: mbim.Bytes{0x80, 0, 0, 0x0a}}}}},
	}
	for _, c := range cases {
		c.check(t)
	}
}

// TestVariants checks which layout each MBIMEx version selects.
func TestVariants(t *testing.T) {
	for _, c := range []struct {
		cid  uint32
		kind mbim.Kind
		v    mbim.Version
		want string
	}{
		{CIDRegisterState, mbim.KindResponse, mbim.MBIMEx1, "RegisterStateResponse"},
		{CIDRegisterState, mbim.KindNotify, mbim.MBIMEx4, "RegisterStateNotifyV2"},
		{CIDPacketService, mbim.KindResponse, mbim.MBIMEx2, "PacketServiceResponseV2"},
		{CIDPacketService, mbim.KindNotify, mbim.MBIMEx4, "PacketServiceNotifyV3"},
		{CIDSignalState, mbim.KindResponse, mbim.MBIMEx3, "SignalStateResponseV2"},
		{CIDConnect, mbim.KindQuery, mbim.MBIMEx4, "ConnectQueryV3"},
		{CIDConnect, mbim.KindSet, mbim.MBIMEx3, "ConnectSetV3"},
		{CIDConnect, mbim.KindSet, mbim.MBIMEx4, "ConnectSetV4"},
		{CIDSubscriberReadyStatus, mbim.KindQuery, mbim.MBIMEx3, ""},
		{CIDSubscriberReadyStatus, mbim.KindQuery, mbim.MBIMEx4, "SubscriberReadyStatusQueryV4"},
		{CIDIpPacketFilters, mbim.KindSet, mbim.MBIMEx4, "IpPacketFiltersSetV3"},
		{CIDDeviceCaps, mbim.KindResponse, mbim.MBIMEx4, "DeviceCapsResponse"},
	} {
		d, ok := Service.CID(c.cid).Layout(c.kind, c.v)
		if !ok {
			t.Errorf("cid %d %s at %s: no layout", c.cid, c.kind, c.v)
			continue
		}
		if d.Type != c.want {
			t.Errorf("cid %d %s at %s: %q, want %q", c.cid, c.kind, c.v, d.Type, c.want)
		}
	}
	if c := Service.CID(CIDEmergencyMode); c.Set {
		t.Errorf("emergency-mode has no set in the specification or libmbim's CID table")
	}
	if n := len(Service.CIDs); n != 22 {
		t.Errorf("%d CIDs, want 22", n)
	}
}
