package proxy

import (
	"encoding/binary"
	"errors"
	"unicode/utf16"

	"github.com/gombim/gombim/mbim"
)

// The proxy works on raw messages: it reads the header fields it needs at
// fixed offsets and rewrites the transaction id in place. Only the few
// payloads it must understand (proxy-control CONFIGURATION, the device
// service subscribe list and the MBIMEx VERSION response) are decoded.

// Field offsets from the start of a message (MBIM 1.0 section 9).
const (
	offType     = 0
	offLength   = 4
	offTID      = 8
	offScalar   = 12 // OPEN MaxControlTransfer, *_DONE status, error code
	offService  = 20
	offCID      = 36
	offCmdType  = 40 // COMMAND CommandType, COMMAND_DONE Status
	offBufCmd   = 48 // information buffer of COMMAND and COMMAND_DONE
	offBufLenIS = 40 // INDICATE_STATUS InformationBufferLength
	offBufIS    = 44
)

// Services and CIDs the proxy handles itself.
var (
	uuidBasicConnect = mbim.MustParseUUID("a289cc33-bcbb-8b4f-b6b0-133ec2aae6df")
	uuidSMS          = mbim.MustParseUUID("533fbeeb-14fe-4467-9f90-33a223e56c3f")
	uuidUSSD         = mbim.MustParseUUID("e550a0c8-5e82-479e-82f7-10abf4c3351f")
	uuidPhonebook    = mbim.MustParseUUID("4bf38476-1e6a-41db-b1d8-bed289c25bdb")
	uuidSTK          = mbim.MustParseUUID("d8f20131-fcb5-4e17-8602-d6ed3816164c")
	uuidAuth         = mbim.MustParseUUID("1d2b5ff7-0aa1-48b2-aa52-50f15767174e")
	uuidDSS          = mbim.MustParseUUID("c08a26dd-7718-4382-8482-6e0d583c4d0e")
	uuidMSBasicExt   = mbim.MustParseUUID("3d01dcc5-fef5-4d05-0d3a-bef7058e9aaf")
	uuidProxyControl = mbim.MustParseUUID("838cf7fb-8d0d-4d7f-871e-d71dbefbb39b")
)

const (
	cidDeviceCaps          = 1  // basic-connect
	cidSubscribeList       = 19 // basic-connect DEVICE_SERVICE_SUBSCRIBE_LIST
	cidMSVersion           = 15 // ms-basic-connect-extensions VERSION
	cidProxyConfiguration  = 1  // proxy-control CONFIGURATION
	cidProxyVersion        = 2  // proxy-control VERSION
	defaultControlTransfer = 4096
)

func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

func putLE32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

func msgType(b []byte) mbim.MessageType { return mbim.MessageType(le32(b, offType)) }

func msgTID(b []byte) uint32 { return le32(b, offTID) }

func setTID(b []byte, tid uint32) { putLE32(b, offTID, tid) }

// serviceIs reports whether the COMMAND, COMMAND_DONE or INDICATE_STATUS
// message b (at least 40 bytes) carries service u and CID cid.
func serviceIs(b []byte, u *mbim.UUID, cid uint32) bool {
	return le32(b, offCID) == cid && [16]byte(b[offService:offService+16]) == *u
}

// buildScalar builds OPEN, OPEN_DONE, CLOSE_DONE, HOST_ERROR or
// FUNCTION_ERROR (16 bytes) and CLOSE (12 bytes).
func buildScalar(t mbim.MessageType, tid, v uint32) []byte {
	n := 16
	if t == mbim.TypeClose {
		n = 12
	}
	b := make([]byte, n)
	putLE32(b, offType, uint32(t))
	putLE32(b, offLength, uint32(n))
	putLE32(b, offTID, tid)
	if n == 16 {
		putLE32(b, offScalar, v)
	}
	return b
}

func functionError(tid uint32, code mbim.ProtocolError) []byte {
	return buildScalar(mbim.TypeFunctionError, tid, uint32(code))
}

// buildCommand builds a single-fragment COMMAND.
func buildCommand(tid uint32, svc mbim.UUID, cid uint32, ct mbim.CommandType, info []byte) []byte {
	b := buildFragmentable(mbim.TypeCommand, tid, svc, cid, info)
	putLE32(b, offCmdType, uint32(ct))
	return b
}

// buildCommandDone builds a single-fragment COMMAND_DONE.
func buildCommandDone(tid uint32, svc mbim.UUID, cid uint32, st mbim.Status, info []byte) []byte {
	b := buildFragmentable(mbim.TypeCommandDone, tid, svc, cid, info)
	putLE32(b, offCmdType, uint32(st))
	return b
}

// buildIndication builds a single-fragment INDICATE_STATUS.
func buildIndication(tid uint32, svc mbim.UUID, cid uint32, info []byte) []byte {
	return buildFragmentable(mbim.TypeIndicateStatus, tid, svc, cid, info)
}

func buildFragmentable(t mbim.MessageType, tid uint32, svc mbim.UUID, cid uint32, info []byte) []byte {
	hdr := offBufCmd
	if t == mbim.TypeIndicateStatus {
		hdr = offBufIS
	}
	b := make([]byte, hdr+len(info))
	putLE32(b, offType, uint32(t))
	putLE32(b, offLength, uint32(len(b)))
	putLE32(b, offTID, tid)
	putLE32(b, 12, 1) // TotalFragments
	putLE32(b, 16, 0) // CurrentFragment
	copy(b[offService:], svc[:])
	putLE32(b, offCID, cid)
	putLE32(b, hdr-4, uint32(len(info)))
	copy(b[hdr:], info)
	return b
}

var errBadString = errors.New("string out of bounds")

// readString reads the MBIM string (offset, size pair at off; UTF-16LE
// data at an offset from the start of buf) as libmbim's
// _mbim_message_read_string does.
func readString(buf []byte, off int) (string, error) {
	if off+8 > len(buf) {
		return "", errBadString
	}
	o, n := int64(le32(buf, off)), int64(le32(buf, off+4))
	if n == 0 {
		return "", nil
	}
	if o+n > int64(len(buf)) || n%2 != 0 {
		return "", errBadString
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(buf[o+int64(2*i):])
	}
	return string(utf16.Decode(u)), nil
}

// appendString appends s as an MBIM string whose (offset, size) pair is
// at pairAt and whose data goes at the end of dst (padded to 4 bytes).
func appendString(dst []byte, pairAt int, s string) []byte {
	u := utf16.Encode([]rune(s))
	putLE32(dst, pairAt, uint32(len(dst)))
	putLE32(dst, pairAt+4, uint32(2*len(u)))
	for _, c := range u {
		dst = binary.LittleEndian.AppendUint16(dst, c)
	}
	for len(dst)%4 != 0 {
		dst = append(dst, 0)
	}
	return dst
}

// configurationInfo builds the information buffer of a proxy-control
// CONFIGURATION set (DevicePath, Timeout).
func configurationInfo(path string, timeoutSecs uint32) []byte {
	b := make([]byte, 12)
	putLE32(b, 8, timeoutSecs)
	return appendString(b, 0, path)
}
