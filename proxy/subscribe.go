package proxy

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/gombim/gombim/mbim"
)

// subEntry is one MBIM_EVENT_ENTRY: a service and the CIDs of it whose
// notifications are wanted. No CIDs means every CID of the service.
type subEntry struct {
	svc  mbim.UUID
	cids []uint32
}

// subList is a device service subscribe list. Lists are immutable once
// built: clients publish theirs through an atomic pointer and the device
// reader matches indications against them without locking.
type subList struct {
	entries []subEntry
}

// wants reports whether an indication of service svc and CID cid matches
// the list, as libmbim's proxy matches it: the service must be listed, and
// either no CIDs (wildcard) or this CID.
func (l *subList) wants(svc []byte, cid uint32) bool {
	if l == nil {
		return false
	}
	for i := range l.entries {
		e := &l.entries[i]
		if [16]byte(svc) != e.svc {
			continue
		}
		if len(e.cids) == 0 {
			return true
		}
		for _, c := range e.cids {
			if c == cid {
				return true
			}
		}
		return false
	}
	return false
}

// standardServices are the services libmbim calls standard (MBIM_SERVICE_BASIC_CONNECT
// to MBIM_SERVICE_DSS); client entries for them are not merged into the
// device's list, which always carries the standard list for them.
var standardServices = [...]mbim.UUID{uuidBasicConnect, uuidSMS, uuidUSSD, uuidPhonebook, uuidSTK, uuidAuth, uuidDSS}

func isStandardService(u mbim.UUID) bool {
	for _, s := range standardServices {
		if s == u {
			return true
		}
	}
	return false
}

// standardList is the list a device has after OPEN and a client has until
// it sends its own: the notifications of the standard services that libmbim
// enables by default.
var standardList = &subList{entries: []subEntry{
	{uuidBasicConnect, []uint32{2, 3, 7, 9, 10, 11, 12, 13, 15, 22, 24}},
	{uuidSMS, []uint32{1, 2, 5}},
	{uuidUSSD, []uint32{1}},
	{uuidPhonebook, []uint32{1}},
	{uuidSTK, []uint32{1}},
}}

// parseSubscribeList decodes the information buffer of a
// DEVICE_SERVICE_SUBSCRIBE_LIST set: ElementCount, then ElementCount
// (offset, length) pairs pointing at MBIM_EVENT_ENTRY structures.
func parseSubscribeList(info []byte) (*subList, error) {
	if len(info) < 4 {
		return nil, fmt.Errorf("information buffer of %d bytes has no element count", len(info))
	}
	n := binary.LittleEndian.Uint32(info)
	if uint64(n) > uint64(len(info)-4)/8 {
		return nil, fmt.Errorf("element count %d does not fit in %d bytes", n, len(info))
	}
	l := &subList{entries: make([]subEntry, 0, n)}
	for i := range int(n) {
		off := int(binary.LittleEndian.Uint32(info[4+8*i:]))
		if off < 0 || off+20 > len(info) {
			return nil, fmt.Errorf("event entry %d at offset %d is out of bounds", i, off)
		}
		var e subEntry
		copy(e.svc[:], info[off:off+16])
		cnt := binary.LittleEndian.Uint32(info[off+16:])
		if uint64(cnt) > uint64(len(info)-off-20)/4 {
			return nil, fmt.Errorf("event entry %d: %d CIDs do not fit", i, cnt)
		}
		if cnt > 0 {
			e.cids = make([]uint32, cnt)
			for j := range e.cids {
				e.cids[j] = binary.LittleEndian.Uint32(info[off+20+4*j:])
			}
		}
		l.entries = append(l.entries, e)
	}
	return l, nil
}

// encode returns the information buffer of a DEVICE_SERVICE_SUBSCRIBE_LIST
// set carrying l.
func (l *subList) encode() []byte {
	n := len(l.entries)
	b := make([]byte, 4+8*n)
	binary.LittleEndian.PutUint32(b, uint32(n))
	for i, e := range l.entries {
		off := len(b)
		b = append(b, e.svc[:]...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.cids)))
		for _, c := range e.cids {
			b = binary.LittleEndian.AppendUint32(b, c)
		}
		binary.LittleEndian.PutUint32(b[4+8*i:], uint32(off))
		binary.LittleEndian.PutUint32(b[8+8*i:], uint32(len(b)-off))
	}
	return b
}

func (l *subList) clone() *subList {
	out := &subList{entries: make([]subEntry, len(l.entries))}
	for i, e := range l.entries {
		out.entries[i] = subEntry{svc: e.svc, cids: slices.Clone(e.cids)}
	}
	return out
}

// mergeLists computes the list to set on a device: the standard list plus
// every non-standard service any of the clients wants, with the union of
// their CIDs (a wildcard entry wins). This is libmbim's merge.
func mergeLists(lists []*subList) *subList {
	out := standardList.clone()
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, m := range l.entries {
			if isStandardService(m.svc) {
				continue
			}
			i := slices.IndexFunc(out.entries, func(e subEntry) bool { return e.svc == m.svc })
			if i < 0 {
				out.entries = append(out.entries, subEntry{svc: m.svc, cids: slices.Clone(m.cids)})
				continue
			}
			e := &out.entries[i]
			if len(e.cids) == 0 {
				continue // already every CID
			}
			if len(m.cids) == 0 {
				e.cids = nil
				continue
			}
			for _, c := range m.cids {
				if !slices.Contains(e.cids, c) {
					e.cids = append(e.cids, c)
				}
			}
		}
	}
	return out
}

// equalLists compares two lists regardless of the order of entries and
// CIDs.
func equalLists(a, b *subList) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.entries) != len(b.entries) {
		return false
	}
	for _, ea := range a.entries {
		i := slices.IndexFunc(b.entries, func(e subEntry) bool { return e.svc == ea.svc })
		if i < 0 {
			return false
		}
		eb := b.entries[i]
		if len(ea.cids) != len(eb.cids) {
			return false
		}
		for _, c := range ea.cids {
			if !slices.Contains(eb.cids, c) {
				return false
			}
		}
	}
	return true
}
