// Package mbimtest holds test helpers shared by gombim's packages: random
// values for generated payload types, and the libmbim differential oracle.
package mbimtest

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/gombim/gombim/mbim"
)

// Fill sets every field of the generated payload *p to a random value that
// its wire form can carry (so decode(encode(p)) must give p back). Arrays
// have up to maxLen elements.
func Fill(r *rand.Rand, p any, maxLen int) {
	v := reflect.ValueOf(p).Elem()
	fillStruct(r, v, maxLen, 0)
}

var enumValuesMethod = "Values"

func fillStruct(r *rand.Rand, v reflect.Value, maxLen, depth int) {
	t := v.Type()
	// Arrays that share one count or size field get the same length.
	lens := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := parseTag(sf.Tag.Get("mbim"))
		if tag.len != "" {
			n, seen := lens[tag.len]
			if !seen {
				n = count(r, maxLen)
				if strings.HasPrefix(tag.wire, "bytes") {
					n = r.IntN(24)
				}
				lens[tag.len] = n
			}
			fillField(r, v.Field(i), tag.wire, "", n, depth, true)
			continue
		}
		fillField(r, v.Field(i), tag.wire, tag.size, maxLen, depth, false)
	}
	applyConditions(v)
}

// mbimTag is a generated field's mbim struct tag:
// "wire[,N][,len=Field][,when=Field:v1|v2]".
type mbimTag struct {
	wire, size, len string
	whenField       string
	whenValues      []uint64
}

func parseTag(s string) mbimTag {
	parts := strings.Split(s, ",")
	t := mbimTag{wire: parts[0]}
	for _, p := range parts[1:] {
		switch {
		case strings.HasPrefix(p, "len="):
			t.len = p[len("len="):]
		case strings.HasPrefix(p, "when="):
			f, vals, _ := strings.Cut(p[len("when="):], ":")
			t.whenField = f
			for _, v := range strings.Split(vals, "|") {
				n, _ := strconv.ParseUint(v, 10, 64)
				t.whenValues = append(t.whenValues, n)
			}
		default:
			t.size = p
		}
	}
	return t
}

// ApplyConditions empties, in the generated payload *p and the structures
// it holds, the conditional fields whose condition does not hold (the
// encoder ignores them and the decoder leaves them empty). Fill does it;
// call it again after changing a field that conditions depend on.
func ApplyConditions(p any) {
	applyAll(reflect.ValueOf(p).Elem())
}

func applyAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			applyAll(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			applyAll(v.Index(i))
		}
	case reflect.Struct:
		if _, ok := v.Addr().Interface().(mbim.Info); !ok {
			return
		}
		applyConditions(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				applyAll(v.Field(i))
			}
		}
	}
}

func applyConditions(v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := parseTag(sf.Tag.Get("mbim"))
		if tag.whenField == "" {
			continue
		}
		d := v.FieldByName(tag.whenField)
		present := false
		for _, w := range tag.whenValues {
			if d.Uint() == w {
				present = true
			}
		}
		if !present {
			v.Field(i).Set(reflect.Zero(sf.Type))
		}
	}
}

func count(r *rand.Rand, maxLen int) int {
	if maxLen <= 0 {
		return 0
	}
	return r.IntN(maxLen + 1)
}

func fillField(r *rand.Rand, f reflect.Value, wire, size string, maxLen, depth int, exact bool) {
	count := count
	if exact {
		// maxLen is the exact length chosen for a shared count field.
		count = func(*rand.Rand, int) int { return maxLen }
	}
	switch wire {
	case "u8", "u16", "u32", "i32", "u64":
		fillInt(r, f)
		narrow(f, wire)
	case "u32-array", "u16-array":
		n := count(r, maxLen)
		if n == 0 {
			return
		}
		s := reflect.MakeSlice(f.Type(), n, n)
		for i := 0; i < n; i++ {
			fillInt(r, s.Index(i))
			narrow(s.Index(i), wire)
		}
		f.Set(s)
	case "uuid", "context-type":
		var u [16]byte
		for i := range u {
			u[i] = byte(r.IntN(256))
		}
		f.Set(reflect.ValueOf(u).Convert(f.Type()))
	case "ipv4":
		f.Set(reflect.ValueOf(randV4(r)))
	case "ipv6":
		f.Set(reflect.ValueOf(randV6(r)))
	case "ipv4-ref":
		if r.IntN(4) != 0 {
			f.Set(reflect.ValueOf(randV4(r)))
		}
	case "ipv6-ref":
		if r.IntN(4) != 0 {
			f.Set(reflect.ValueOf(randV6(r)))
		}
	case "ipv4-array", "ipv6-array":
		n := count(r, maxLen)
		if n == 0 {
			return
		}
		s := make([]netip.Addr, n)
		for i := range s {
			if wire == "ipv4-array" {
				s[i] = randV4(r)
			} else {
				s[i] = randV6(r)
			}
		}
		f.Set(reflect.ValueOf(s))
	case "string", "string-utf8", "tlv-string":
		f.SetString(randString(r))
	case "string-array":
		n := count(r, maxLen)
		if n == 0 {
			return
		}
		s := make([]string, n)
		for i := range s {
			s[i] = randString(r)
		}
		f.Set(reflect.ValueOf(s))
	case "bytes-fixed":
		n, _ := strconv.Atoi(size)
		f.Set(reflect.ValueOf(mbim.Bytes(randBytes(r, n))))
	case "bytes", "bytes-lo", "bytes-offset", "bytes-sized", "bytes-rest", "bytes-inline":
		n := r.IntN(24)
		if exact {
			n = maxLen
		}
		if n > 0 {
			f.Set(reflect.ValueOf(mbim.Bytes(randBytes(r, n))))
		}
	case "struct", "struct-ref", "struct-embedded":
		fillStruct(r, f, maxLen, depth+1)
	case "struct-optional":
		if r.IntN(3) != 0 && depth < 4 {
			p := reflect.New(f.Type().Elem())
			fillStruct(r, p.Elem(), maxLen, depth+1)
			f.Set(p)
		}
	case "struct-array", "struct-array-ref", "struct-array-inline", "struct-array-ms", "struct-array-ms-embedded":
		n := count(r, maxLen)
		if n == 0 || depth > 4 {
			return
		}
		s := reflect.MakeSlice(f.Type(), n, n)
		for i := 0; i < n; i++ {
			fillStruct(r, s.Index(i), maxLen, depth+1)
		}
		f.Set(s)
	case "tlv":
		f.Set(reflect.ValueOf(randTLV(r)))
	case "tlv-u16-array":
		if n := count(r, maxLen); n > 0 {
			s := make([]uint16, n)
			for i := range s {
				s[i] = uint16(r.Uint32())
			}
			f.Set(reflect.ValueOf(s))
		}
	case "tlv-list":
		if n := count(r, maxLen); n > 0 {
			s := make([]mbim.TLV, n)
			for i := range s {
				s[i] = randTLV(r)
			}
			f.Set(reflect.ValueOf(s))
		}
	default:
		panic("mbimtest: no random values for wire type " + wire)
	}
}

// fillInt picks a named value for enums and flag sets half of the time.
func fillInt(r *rand.Rand, f reflect.Value) {
	if m := reflect.New(f.Type()).MethodByName("MarshalJSON"); m.IsValid() && r.IntN(2) == 0 {
		// Generated enum types have a package-level <Type>Values function,
		// which reflection cannot reach; use String round trips instead:
		// small values are usually named.
		f.SetUint(uint64(r.IntN(8)))
		return
	}
	switch f.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x := r.Uint64()
		switch r.IntN(3) {
		case 0:
			x %= 16
		case 1:
			x %= 1 << 16
		}
		f.SetUint(x)
	case reflect.Int32, reflect.Int64:
		f.SetInt(int64(int32(r.Uint32())))
	}
}

// narrow keeps enum values (Go uint32 or uint64) within the field's wire
// width.
func narrow(f reflect.Value, wire string) {
	if f.Kind() != reflect.Uint32 && f.Kind() != reflect.Uint64 {
		return
	}
	switch wire {
	case "u8":
		f.SetUint(f.Uint() & 0xff)
	case "u16", "u16-array":
		f.SetUint(f.Uint() & 0xffff)
	case "u32", "u32-array":
		f.SetUint(f.Uint() & 0xffffffff)
	}
}

func randV4(r *rand.Rand) netip.Addr {
	var b [4]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return netip.AddrFrom4(b)
}

func randV6(r *rand.Rand) netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return netip.AddrFrom16(b)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

var alphabet = []rune("abcXYZ0189 -_.é€😀")

func randString(r *rand.Rand) string {
	n := r.IntN(12)
	if n == 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randTLV(r *rand.Rand) mbim.TLV {
	t := mbim.TLV{Type: mbim.TLVType(r.IntN(20))}
	if n := r.IntN(10); n > 0 {
		t.Data = randBytes(r, n)
	}
	return t
}
