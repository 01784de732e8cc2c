// Package pco decodes and encodes the Protocol Configuration Options
// information element of 3GPP TS 24.008, subclause 10.5.6.3.
//
// Protocol Configuration Options (PCO) travel with PDP context / PDN
// connection activation. Besides the PPP protocol entries (LCP, PAP, CHAP,
// IPCP) they carry "containers": DNS and P-CSCF addresses, link MTUs, the
// MSISDN and, in the range 0xFF00-0xFFFF, operator specific data. On the
// host side of MBIM, Microsoft's MBIM_CID_PCO (service
// MBB_UUID_BASIC_CONNECT_EXT) reports the PCO the modem received from the
// network in the PcoDataBuffer of MBIM_MS_PCO_VALUE; the buffer holds the
// complete information element, starting with the IEI 0x27 and the length
// octet. Modems that only forward operator specific containers synthesize
// that header (configuration octet 0x80) and flag the value as partial.
//
// # Wire format
//
//	octet 1      IEI 0x27            (optional: only in the full IE)
//	octet 2      length of the rest  (optional: only in the full IE)
//	octet 3      bit 8 extension (always 1), bits 1-3 configuration protocol
//	octet 4...   entries: ID (2 octets, big-endian), length (1 octet), contents
//
// [Parse] accepts both the full IE and the bare value part (it recognises
// the IE by its leading 0x27, which can never be a valid configuration
// octet). It never panics; on malformed input it returns the entries it
// could decode together with an error that names the field and the offset.
// [PCO.Marshal] encodes, with or without the IEI and length octets.
//
// # Containers
//
// Several container identifiers mean different things in the two
// directions (for example 0x0005 is "MS support of network requested
// bearer control indicator" from the MS but "selected bearer control mode"
// from the network). [Entry.Name] gives one short stable name per
// identifier; [Entry.Description] gives the title for a given [Direction].
// [Entry.Value] decodes the contents of well known containers as sent by
// the network, which is what MBIM_CID_PCO carries: IPv4 and IPv6 addresses,
// MTUs, the MSISDN, the selected bearer control mode and operator specific
// containers (MCC/MNC plus value, with the meaning of Verizon's 0xFF00
// subscription state). Requests (containers sent with no contents) decode
// to nil.
//
// PCO and Entry marshal to readable JSON (identifiers and contents as hex
// strings, decoded values as JSON values) and [PCO.Format] prints one line
// per container.
package pco
