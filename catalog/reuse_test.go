package catalog

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// TestUnmarshalResetsReusedValue is the regression test for decoding into a
// used value: a message whose array count is 0 must leave the array empty,
// not keep the elements of the previous message.
func TestUnmarshalResetsReusedValue(t *testing.T) {
	full := &basicconnect.VisibleProvidersResponse{Providers: []basicconnect.Provider{
		{ProviderId: "310260", ProviderName: "T-Mobile", Rssi: 20},
		{ProviderId: "310410", ProviderName: "AT&T", Rssi: 12},
	}}
	b1, err := mbim.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	b0, err := mbim.Marshal(&basicconnect.VisibleProvidersResponse{})
	if err != nil {
		t.Fatal(err)
	}
	var v basicconnect.VisibleProvidersResponse
	if err := v.UnmarshalMBIM(b1); err != nil || len(v.Providers) != 2 {
		t.Fatalf("first decode: %v, %+v", err, v)
	}
	first := &v.Providers[0]
	if err := v.UnmarshalMBIM(b0); err != nil {
		t.Fatal(err)
	}
	if len(v.Providers) != 0 {
		t.Fatalf("decoding a message without providers into a used value left %d: %+v", len(v.Providers), v.Providers)
	}
	// The storage is kept for the next message...
	if err := v.UnmarshalMBIM(b1); err != nil || !reflect.DeepEqual(&v, full) {
		t.Fatalf("third decode: %v, %+v", err, v)
	}
	if &v.Providers[0] != first {
		t.Errorf("decoding into a used value did not reuse the slice's storage")
	}

	// Optional structures and byte arrays are reset too.
	ip := &basicconnect.IpConfigurationResponse{
		IPv4Address: []basicconnect.IPv4Element{{OnLinkPrefixLength: 24}},
		IPv4Mtu:     1500,
	}
	bi, _ := mbim.Marshal(ip)
	var w basicconnect.IpConfigurationResponse
	if err := w.UnmarshalMBIM(bi); err != nil {
		t.Fatal(err)
	}
	empty, _ := mbim.Marshal(&basicconnect.IpConfigurationResponse{})
	if err := w.UnmarshalMBIM(empty); err != nil {
		t.Fatal(err)
	}
	if len(w.IPv4Address) != 0 || w.IPv4Mtu != 0 {
		t.Fatalf("ip-configuration not reset: %+v", w)
	}
}

// TestUnmarshalReusedEqualsFresh checks, for every layout, that decoding a
// message into a value holding another random message gives the same
// result as decoding it into a fresh value (empty and nil slices count as
// equal: a reused value keeps the storage of its emptied slices).
func TestUnmarshalReusedEqualsFresh(t *testing.T) {
	for i, l := range allLayouts() {
		r := rand.New(rand.NewPCG(uint64(i), 11))
		for j := 0; j < 40; j++ {
			x := l.desc.New()
			mbimtest.Fill(r, x, j%4)
			b, err := mbim.Marshal(x)
			if err != nil {
				t.Fatalf("%s: %v", l.name(), err)
			}
			fresh := l.desc.New()
			if err := fresh.UnmarshalMBIM(b); err != nil {
				t.Fatalf("%s: %v", l.name(), err)
			}
			used := l.desc.New()
			mbimtest.Fill(r, used, 4)
			if err := used.UnmarshalMBIM(b); err != nil {
				t.Fatalf("%s: decoding into a used value: %v", l.name(), err)
			}
			if d := diffModuloEmpty("", reflect.ValueOf(fresh), reflect.ValueOf(used)); d != "" {
				t.Fatalf("%s: decoding into a used value differs from a fresh decode at %s\nfresh: %+v\n used: %+v", l.name(), d, fresh, used)
			}
			// A truncated buffer fails cleanly on the used value too.
			if len(b) > 0 {
				_ = used.UnmarshalMBIM(b[:len(b)/2])
			}
		}
	}
}

// diffModuloEmpty returns the path of the first difference between a and b,
// treating nil and empty slices as equal, or "".
func diffModuloEmpty(path string, a, b reflect.Value) string {
	if a.Kind() != b.Kind() {
		return path + " (kind)"
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + " (nil)"
			}
			return ""
		}
		return diffModuloEmpty(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s (len %d vs %d)", path, a.Len(), b.Len())
		}
		for i := 0; i < a.Len(); i++ {
			if d := diffModuloEmpty(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !a.Type().Field(i).IsExported() {
				// A type with hidden state (netip.Addr): compare whole.
				if !reflect.DeepEqual(a.Interface(), b.Interface()) {
					return fmt.Sprintf("%s (%v vs %v)", path, a.Interface(), b.Interface())
				}
				return ""
			}
		}
		for i := 0; i < a.NumField(); i++ {
			if d := diffModuloEmpty(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s (%v vs %v)", path, a.Interface(), b.Interface())
	}
	return ""
}

// TestServiceLookup checks the generated UUID switch against the list.
func TestServiceLookup(t *testing.T) {
	for _, s := range Services() {
		if got := ServiceByUUID(s.UUID); got != s {
			t.Errorf("ServiceByUUID(%v) = %v, want %s", s.UUID, got, s.Name)
		}
		for i := range s.CIDs {
			if c := s.CID(s.CIDs[i].ID); c != &s.CIDs[i] {
				t.Errorf("%s: CID(%d) = %v", s.Name, s.CIDs[i].ID, c)
			}
		}
	}
	if ServiceByUUID(mbim.UUID{1}) != nil {
		t.Error("unknown UUID found")
	}
	// The generated Index gives what a scan of the messages gives.
	for _, s := range Services() {
		for i := range s.CIDs {
			c := &s.CIDs[i]
			scan := *c
			scan.Index = [4][4]uint8{}
			for k := mbim.KindSet; k <= mbim.KindNotify; k++ {
				for _, v := range []mbim.Version{0, 0x0100, 0x0101, 0x0200, 0x0300, 0x0301, 0x0400, 0x0500, 0xffff} {
					got, gok := c.Layout(k, v)
					want, wok := scan.Layout(k, v)
					if gok != wok || got != want {
						t.Errorf("%s/%s: Layout(%v, %v) = %+v, the messages say %+v", s.Name, c.Name, k, v, got, want)
					}
				}
			}
		}
	}
}
