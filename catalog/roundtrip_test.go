package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

type layoutRef struct {
	svc  *mbim.ServiceDesc
	cid  *mbim.CIDDesc
	desc *mbim.MessageDesc
}

func (l layoutRef) name() string {
	n := fmt.Sprintf("%s/%s/%s", l.svc.Name, l.cid.Name, l.desc.Kind)
	if l.desc.MBIMEx > mbim.MBIMEx1 {
		n += "/v" + l.desc.MBIMEx.String()
	}
	return n
}

// allLayouts lists every non-empty payload layout, in a stable order.
func allLayouts() []layoutRef {
	var out []layoutRef
	for _, s := range Services() {
		for i := range s.CIDs {
			c := &s.CIDs[i]
			for j := range c.Messages {
				if c.Messages[j].New != nil {
					out = append(out, layoutRef{s, c, &c.Messages[j]})
				}
			}
		}
	}
	return out
}

// TestRoundTrip checks decode(encode(x)) == x for random values of every
// layout, that SizeMBIM is exact, and that encoding is deterministic.
func TestRoundTrip(t *testing.T) {
	layouts := allLayouts()
	if len(layouts) == 0 {
		t.Fatal("the catalog is empty")
	}
	for _, l := range layouts {
		t.Run(l.name(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(l.name()))))
			for i := 0; i < 200; i++ {
				x := l.desc.New()
				mbimtest.Fill(r, x, i%6)
				b, err := mbim.Marshal(x)
				if err != nil {
					t.Fatalf("encode %+v: %v", x, err)
				}
				if len(b) != x.SizeMBIM() {
					t.Fatalf("SizeMBIM %d, encoded %d bytes: %x", x.SizeMBIM(), len(b), b)
				}
				y := l.desc.New()
				if err := y.UnmarshalMBIM(b); err != nil {
					t.Fatalf("decode %x: %v\nvalue: %+v", b, err, x)
				}
				if !reflect.DeepEqual(x, y) {
					t.Fatalf("round trip differs\n in: %+v\nout: %+v\nwire: %x", x, y, b)
				}
				b2, _ := y.AppendMBIM([]byte{0xaa})
				if !bytes.Equal(b2[1:], b) || b2[0] != 0xaa {
					t.Fatalf("appending to a buffer changed the encoding")
				}
				// JSON round trip through the same type.
				j, err := json.Marshal(x)
				if err != nil {
					t.Fatalf("json: %v", err)
				}
				z := l.desc.New()
				if err := json.Unmarshal(j, z); err != nil {
					t.Fatalf("json decode %s: %v", j, err)
				}
				if !reflect.DeepEqual(x, z) {
					t.Fatalf("json round trip differs\n in: %+v\nout: %+v\njson: %s", x, z, j)
				}
			}
		})
	}
}

// TestTruncated checks that every proper prefix of a valid encoding either
// decodes or fails with a DecodeError naming the field, never panics.
func TestTruncated(t *testing.T) {
	for _, l := range allLayouts() {
		r := rand.New(rand.NewPCG(2, 3))
		x := l.desc.New()
		mbimtest.Fill(r, x, 3)
		b, err := mbim.Marshal(x)
		if err != nil {
			t.Fatalf("%s: %v", l.name(), err)
		}
		for n := 0; n < len(b); n++ {
			y := l.desc.New()
			err := y.UnmarshalMBIM(b[:n])
			if err == nil {
				continue
			}
			var de *mbim.DecodeError
			if !asDecodeError(err, &de) || de.Field == "" || !strings.Contains(err.Error(), l.cid.Name) && !strings.Contains(err.Error(), "field") {
				t.Fatalf("%s: prefix %d: error without field/offset: %v", l.name(), n, err)
			}
		}
	}
}

func asDecodeError(err error, target **mbim.DecodeError) bool {
	de, ok := err.(*mbim.DecodeError)
	if ok {
		*target = de
	}
	return ok
}

// TestDecodeErrorNamesKind checks that a payload that fails to decode is
// named by its own kind, also where kinds share one Go type and decoder (a
// connect query is a ConnectResponse): Decode's error names the query, and
// where the layout's type is its own, exactly as the generated decoder does.
func TestDecodeErrorNamesKind(t *testing.T) {
	shared := 0
	for _, l := range allLayouts() {
		x := l.desc.New()
		mbimtest.Fill(rand.New(rand.NewPCG(4, 5)), x, 3)
		b, err := mbim.Marshal(x)
		if err != nil {
			t.Fatalf("%s: %v", l.name(), err)
		}
		// The first prefix that does not decode.
		n, own := 0, error(nil)
		for ; n < len(b); n++ {
			if own = l.desc.New().UnmarshalMBIM(b[:n]); own != nil {
				break
			}
		}
		if own == nil {
			continue
		}
		m := mbim.Message{Service: l.svc.UUID, CID: l.cid.ID, InformationBuffer: b[:n]}
		switch l.desc.Kind {
		case mbim.KindSet:
			m.Type, m.CommandType = mbim.TypeCommand, mbim.CommandSet
		case mbim.KindQuery:
			m.Type, m.CommandType = mbim.TypeCommand, mbim.CommandQuery
		case mbim.KindResponse:
			m.Type = mbim.TypeCommandDone
		case mbim.KindNotify:
			m.Type = mbim.TypeIndicateStatus
		}
		d := Decode(m, l.desc.MBIMEx)
		if d.Layout != l.desc {
			t.Fatalf("%s: Decode picked %v", l.name(), d.Layout)
		}
		var de, ownDE *mbim.DecodeError
		if !asDecodeError(d.Err, &de) || !asDecodeError(own, &ownDE) {
			t.Fatalf("%s: errors %v and %v, want *mbim.DecodeError", l.name(), d.Err, own)
		}
		want := fmt.Sprintf("%s %s %s", l.svc.Name, l.cid.Name, l.desc.Kind)
		if !strings.HasPrefix(de.Message, want) {
			t.Errorf("%s: Decode's error names %q, want %q", l.name(), de.Message, want)
		}
		if reflect.TypeOf(x).Elem().Name() == l.desc.Type {
			if de.Message != ownDE.Message {
				t.Errorf("%s: Decode's error names %q, the decoder %q", l.name(), de.Message, ownDE.Message)
			}
		} else {
			shared++
		}
		if de.Field != ownDE.Field || de.Offset != ownDE.Offset || de.Reason != ownDE.Reason {
			t.Errorf("%s: Decode's error %v differs from the decoder's %v beyond the name", l.name(), de, ownDE)
		}
	}
	if shared == 0 {
		t.Error("no layout shares another's type")
	}
}
