package pco

import "fmt"

// IEI is the information element identifier of Protocol Configuration
// Options when the IE is carried as an optional IE (TS 24.008 / 24.301).
const IEI = 0x27

// ConfigurationProtocolPPP is configuration protocol 000: PPP for use with
// IP PDP type or IP PDN type, the only value TS 24.008 defines.
const ConfigurationProtocolPPP = 0

// Direction tells which way a PCO travels. A few container identifiers have
// a different meaning in each direction.
type Direction uint8

const (
	// NetworkToMS is the downlink direction. MBIM_CID_PCO reports PCOs
	// received from the network, so this is the direction Entry.Value
	// decodes for.
	NetworkToMS Direction = iota
	// MSToNetwork is the uplink direction (requests from the MS).
	MSToNetwork
)

func (d Direction) String() string {
	switch d {
	case NetworkToMS:
		return "network-to-ms"
	case MSToNetwork:
		return "ms-to-network"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// PPP protocol identifiers that may appear as PCO entries.
const (
	ProtocolLCP  uint16 = 0xC021
	ProtocolPAP  uint16 = 0xC023
	ProtocolCHAP uint16 = 0xC223
	ProtocolIPCP uint16 = 0x8021
)

// Container identifiers of TS 24.008 table 10.5.154. Where the two
// directions differ, the constant is named after the network-to-MS meaning
// and the comment gives the MS-to-network one.
const (
	ContainerPCSCFIPv6                  uint16 = 0x0001 // P-CSCF IPv6 address (request uplink)
	ContainerIMCNSignalingFlag          uint16 = 0x0002 // IM CN subsystem signaling flag
	ContainerDNSServerIPv6              uint16 = 0x0003 // DNS server IPv6 address (request uplink)
	ContainerPolicyControlRejectionCode uint16 = 0x0004 // policy control rejection code (uplink: not supported)
	ContainerBearerControlMode          uint16 = 0x0005 // selected bearer control mode (uplink: MS support of NW requested bearer control)
	ContainerReserved0006               uint16 = 0x0006 // reserved
	ContainerDSMIPv6HomeAgent           uint16 = 0x0007 // DSMIPv6 home agent address
	ContainerDSMIPv6HomeNetworkPrefix   uint16 = 0x0008 // DSMIPv6 home network prefix
	ContainerDSMIPv6IPv4HomeAgent       uint16 = 0x0009 // DSMIPv6 IPv4 home agent address
	ContainerIPAllocationViaNAS         uint16 = 0x000A // uplink: IP address allocation via NAS signalling (downlink reserved)
	ContainerIPv4AllocationViaDHCPv4    uint16 = 0x000B // uplink: IPv4 address allocation via DHCPv4 (downlink reserved)
	ContainerPCSCFIPv4                  uint16 = 0x000C // P-CSCF IPv4 address (request uplink)
	ContainerDNSServerIPv4              uint16 = 0x000D // DNS server IPv4 address (request uplink)
	ContainerMSISDN                     uint16 = 0x000E // MSISDN (request uplink)
	ContainerIFOMSupport                uint16 = 0x000F // IFOM support (request uplink)
	ContainerIPv4LinkMTU                uint16 = 0x0010 // IPv4 link MTU (request uplink)
	ContainerLocalAddressInTFT          uint16 = 0x0011 // network / MS support of local address in TFT indicator
	ContainerPCSCFReselectionSupport    uint16 = 0x0012 // uplink: P-CSCF re-selection support (downlink reserved)
	ContainerNBIFOMIndicator            uint16 = 0x0013 // NBIFOM accepted indicator (uplink: request indicator)
	ContainerNBIFOMMode                 uint16 = 0x0014 // NBIFOM mode
	ContainerNonIPLinkMTU               uint16 = 0x0015 // non-IP link MTU (request uplink)
	ContainerAPNRateControl             uint16 = 0x0016 // APN rate control parameters (uplink: support indicator)
	ContainerPSDataOff                  uint16 = 0x0017 // 3GPP PS data off support indication (uplink: UE status)
	ContainerReliableDataService        uint16 = 0x0018 // reliable data service accepted indicator (uplink: request indicator)
	ContainerAdditionalAPNRateControl   uint16 = 0x0019 // additional APN rate control for exception data parameters (uplink: support indicator)
	ContainerPDUSessionID               uint16 = 0x001A // uplink: PDU session ID (downlink reserved)
	ContainerSNSSAI                     uint16 = 0x001B // downlink: S-NSSAI (uplink reserved)
	ContainerQoSRules                   uint16 = 0x001C // downlink: QoS rules (uplink reserved)
	ContainerSessionAMBR                uint16 = 0x001D // downlink: session-AMBR (uplink reserved)
	ContainerPDUSessionAddressLifetime  uint16 = 0x001E // downlink: PDU session address lifetime (uplink reserved)
	ContainerQoSFlowDescriptions        uint16 = 0x001F // downlink: QoS flow descriptions (uplink reserved)
	ContainerEthernetFramePayloadMTU    uint16 = 0x0020 // Ethernet frame payload MTU (request uplink)
	ContainerUnstructuredLinkMTU        uint16 = 0x0021 // unstructured link MTU (request uplink)
	Container5GSMCause                  uint16 = 0x0022 // uplink: 5GSM cause value (downlink reserved)
	ContainerQoSRulesTwoOctetLength     uint16 = 0x0023 // QoS rules with the length of two octets (uplink: support indicator)
	ContainerQoSFlowDescsTwoOctetLength uint16 = 0x0024 // QoS flow descriptions with the length of two octets (uplink: support indicator)
	ContainerOperatorSpecificFirst      uint16 = 0xFF00 // first operator specific container identifier
	ContainerOperatorSpecificLast       uint16 = 0xFFFF // last operator specific container identifier
)

// IsOperatorSpecific reports whether id lies in the operator specific
// container range 0xFF00-0xFFFF.
func IsOperatorSpecific(id uint16) bool { return id >= ContainerOperatorSpecificFirst }

type idInfo struct {
	name string // short stable name, Entry.Name
	dl   string // title network to MS
	ul   string // title MS to network
}

const reserved = "Reserved"

var idTable = map[uint16]idInfo{
	ProtocolLCP:  {"lcp", "Link Control Protocol (LCP)", "Link Control Protocol (LCP)"},
	ProtocolPAP:  {"pap", "Password Authentication Protocol (PAP)", "Password Authentication Protocol (PAP)"},
	ProtocolCHAP: {"chap", "Challenge Handshake Authentication Protocol (CHAP)", "Challenge Handshake Authentication Protocol (CHAP)"},
	ProtocolIPCP: {"ipcp", "Internet Protocol Control Protocol (IPCP)", "Internet Protocol Control Protocol (IPCP)"},

	ContainerPCSCFIPv6:                  {"pcscf-ipv6", "P-CSCF IPv6 Address", "P-CSCF IPv6 Address Request"},
	ContainerIMCNSignalingFlag:          {"im-cn-signaling-flag", "IM CN Subsystem Signaling Flag", "IM CN Subsystem Signaling Flag"},
	ContainerDNSServerIPv6:              {"dns-server-ipv6", "DNS Server IPv6 Address", "DNS Server IPv6 Address Request"},
	ContainerPolicyControlRejectionCode: {"policy-control-rejection-code", "Policy Control rejection code", "Not supported"},
	ContainerBearerControlMode:          {"bearer-control-mode", "Selected Bearer Control Mode", "MS Support of Network Requested Bearer Control indicator"},
	ContainerReserved0006:               {"reserved", reserved, reserved},
	ContainerDSMIPv6HomeAgent:           {"dsmipv6-home-agent-ipv6", "DSMIPv6 Home Agent Address", "DSMIPv6 Home Agent Address Request"},
	ContainerDSMIPv6HomeNetworkPrefix:   {"dsmipv6-home-network-prefix", "DSMIPv6 Home Network Prefix", "DSMIPv6 Home Network Prefix Request"},
	ContainerDSMIPv6IPv4HomeAgent:       {"dsmipv6-home-agent-ipv4", "DSMIPv6 IPv4 Home Agent Address", "DSMIPv6 IPv4 Home Agent Address Request"},
	ContainerIPAllocationViaNAS:         {"ip-allocation-via-nas", reserved, "IP address allocation via NAS signalling"},
	ContainerIPv4AllocationViaDHCPv4:    {"ipv4-allocation-via-dhcpv4", reserved, "IPv4 address allocation via DHCPv4"},
	ContainerPCSCFIPv4:                  {"pcscf-ipv4", "P-CSCF IPv4 Address", "P-CSCF IPv4 Address Request"},
	ContainerDNSServerIPv4:              {"dns-server-ipv4", "DNS Server IPv4 Address", "DNS Server IPv4 Address Request"},
	ContainerMSISDN:                     {"msisdn", "MSISDN", "MSISDN Request"},
	ContainerIFOMSupport:                {"ifom-support", "IFOM-Support", "IFOM-Support-Request"},
	ContainerIPv4LinkMTU:                {"ipv4-link-mtu", "IPv4 Link MTU", "IPv4 Link MTU Request"},
	ContainerLocalAddressInTFT:          {"local-address-in-tft", "Network support of Local address in TFT indicator", "MS support of Local address in TFT indicator"},
	ContainerPCSCFReselectionSupport:    {"pcscf-reselection-support", reserved, "P-CSCF Re-selection support"},
	ContainerNBIFOMIndicator:            {"nbifom-indicator", "NBIFOM accepted indicator", "NBIFOM request indicator"},
	ContainerNBIFOMMode:                 {"nbifom-mode", "NBIFOM mode", "NBIFOM mode"},
	ContainerNonIPLinkMTU:               {"non-ip-link-mtu", "Non-IP Link MTU", "Non-IP Link MTU Request"},
	ContainerAPNRateControl:             {"apn-rate-control", "APN rate control parameters", "APN rate control support indicator"},
	ContainerPSDataOff:                  {"ps-data-off", "3GPP PS data off support indication", "3GPP PS data off UE status"},
	ContainerReliableDataService:        {"reliable-data-service", "Reliable Data Service accepted indicator", "Reliable Data Service request indicator"},
	ContainerAdditionalAPNRateControl:   {"additional-apn-rate-control", "Additional APN rate control for exception data parameters", "Additional APN rate control for exception data support indicator"},
	ContainerPDUSessionID:               {"pdu-session-id", reserved, "PDU session ID"},
	ContainerSNSSAI:                     {"s-nssai", "S-NSSAI", reserved},
	ContainerQoSRules:                   {"qos-rules", "QoS rules", reserved},
	ContainerSessionAMBR:                {"session-ambr", "Session-AMBR", reserved},
	ContainerPDUSessionAddressLifetime:  {"pdu-session-address-lifetime", "PDU session address lifetime", reserved},
	ContainerQoSFlowDescriptions:        {"qos-flow-descriptions", "QoS flow descriptions", reserved},
	ContainerEthernetFramePayloadMTU:    {"ethernet-frame-payload-mtu", "Ethernet Frame Payload MTU", "Ethernet Frame Payload MTU Request"},
	ContainerUnstructuredLinkMTU:        {"unstructured-link-mtu", "Unstructured Link MTU", "Unstructured Link MTU Request"},
	Container5GSMCause:                  {"5gsm-cause", reserved, "5GSM cause value"},
	ContainerQoSRulesTwoOctetLength:     {"qos-rules-two-octet-length", "QoS rules with the length of two octets", "QoS rules with the length of two octets support indicator"},
	ContainerQoSFlowDescsTwoOctetLength: {"qos-flow-descriptions-two-octet-length", "QoS flow descriptions with the length of two octets", "QoS flow descriptions with the length of two octets support indicator"},
}

// IDName returns the short name used for id by Entry.Name, for example
// "dns-server-ipv4" for 0x000D or "operator-specific" for 0xFF00. Unknown
// identifiers give "unknown".
func IDName(id uint16) string {
	if info, ok := idTable[id]; ok {
		return info.name
	}
	if IsOperatorSpecific(id) {
		return "operator-specific"
	}
	return "unknown"
}

// IDDescription returns the TS 24.008 title of id in the given direction,
// for example "Selected Bearer Control Mode" for 0x0005 network to MS.
func IDDescription(id uint16, dir Direction) string {
	if info, ok := idTable[id]; ok {
		if dir == MSToNetwork {
			return info.ul
		}
		return info.dl
	}
	if IsOperatorSpecific(id) {
		return "Operator Specific Container"
	}
	return fmt.Sprintf("Unknown (0x%04x)", id)
}
