package datapath

import (
	"bytes"
	"testing"
)

func TestParseFrame(t *testing.T) {
	hdr := make([]byte, VLANEthHeaderLen)
	putVLANHeader(hdr, [6]byte{1, 2, 3, 4, 5, 6}, 257)
	if want := []byte{1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0x81, 0x00, 0x01, 0x01, 0x00, 0x01}; !bytes.Equal(hdr, want) {
		t.Fatalf("header % x, want % x", hdr, want)
	}
	tagged := append(bytes.Clone(hdr), "log"...)
	// As cdc_mbim delivers it: tag out of band, dummy header with 0x0001.
	untagged := append(append(bytes.Clone(hdr[:12]), 0x00, 0x01), "log"...)

	cases := []struct {
		name     string
		b        []byte
		tci      uint16
		valid    bool
		vid      uint16
		isTagged bool
		payload  string
		err      bool
	}{
		{"out-of-band tag", untagged, 0x0101, true, 257, true, "log", false},
		{"out-of-band tag with priority", untagged, 0xe101, true, 257, true, "log", false},
		{"in-frame 802.1Q", tagged, 0, false, 257, true, "log", false},
		{"in-frame 802.1ad", append(append(bytes.Clone(hdr[:12]), 0x88, 0xa8, 0x01, 0x05, 0, 1), 'x'), 0, false, 261, true, "x", false},
		{"untagged", untagged, 0, false, 0, false, "log", false},
		{"header only", untagged[:14], 0, false, 0, false, "", false},
		{"short", untagged[:13], 0, false, 0, false, "", true},
		{"short tagged", tagged[:17], 0, false, 0, false, "", true},
	}
	for _, c := range cases {
		vid, isTagged, p, err := parseFrame(c.b, c.tci, c.valid)
		if (err != nil) != c.err || vid != c.vid || isTagged != c.isTagged || string(p) != c.payload {
			t.Errorf("%s: got %d %v %q %v", c.name, vid, isTagged, p, err)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	hdr := make([]byte, VLANEthHeaderLen)
	putVLANHeader(hdr, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 300)
	f.Add(append(hdr, "payload"...), uint16(0), false)
	f.Add(hdr[:14], uint16(257), true)
	f.Add([]byte{}, uint16(0), false)
	f.Add(hdr[:16], uint16(0), false)
	f.Fuzz(func(t *testing.T, b []byte, tci uint16, valid bool) {
		vid, tagged, p, err := parseFrame(b, tci, valid)
		if err != nil {
			return
		}
		if vid > 0x0fff || (!tagged && vid != 0) {
			t.Fatalf("vid %d tagged %v", vid, tagged)
		}
		if len(p) > len(b) || (len(p) > 0 && &p[len(p)-1] != &b[len(b)-1]) {
			t.Fatal("payload is not the tail of the frame")
		}
		if hl := len(b) - len(p); hl != EthHeaderLen && hl != VLANEthHeaderLen {
			t.Fatalf("header length %d", hl)
		}
	})
}
