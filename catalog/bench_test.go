package catalog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// The benchmarks below measure what a user pays per message, on the shared
// COMMAND_DONE vectors (lines "name<TAB>hex"). bench/compare.sh runs
// BenchmarkDecode and BenchmarkEncode next to libmbim's typed parsers
// (bench/libmbim-bench.c) on the same vectors.
//
//	BenchmarkDecode/<name>       ParseMessage + layout lookup (MBIMEx 1.0) +
//	                             UnmarshalMBIM into layout.New(): a fresh value
//	BenchmarkDecodeTyped/<name>  UnmarshalMBIM of the information buffer into
//	                             a reused value, no header, no lookup: the floor
//	BenchmarkEncode/<name>       AppendMBIM into a reused buffer (0 allocs)
//	BenchmarkMarshal/<name>      mbim.Marshal (1 alloc)
//
// TestBenchmarkAllocations turns the allocation figures into assertions.

// benchVectorsFile is the shared vector file relative to this package's
// directory, where go test runs (CI clones the repository with shared/
// beside it). GOMBIM_VECTORS overrides it.
const benchVectorsFile = "../../shared/vectors/basic-connect.hex"

type benchVector struct {
	name string
	raw  []byte            // the whole COMMAND_DONE message
	msg  mbim.Message      // raw, parsed
	desc *mbim.MessageDesc // its layout at MBIMEx 1.0
}

// loadBenchVectors reads the shared vectors. A missing file fails the test in
// CI (CI set) and skips it elsewhere.
func loadBenchVectors(tb testing.TB) []benchVector {
	tb.Helper()
	path := os.Getenv("GOMBIM_VECTORS")
	if path == "" {
		path = filepath.FromSlash(benchVectorsFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("benchmark vectors are required in CI: %v", err)
		}
		tb.Skipf("benchmark vectors not available (set GOMBIM_VECTORS or clone shared/ beside the repository): %v", err)
	}
	var out []benchVector
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, h, ok := strings.Cut(line, "\t")
		if !ok {
			tb.Fatalf("%s:%d: want name<TAB>hex", path, i+1)
		}
		raw, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil {
			tb.Fatalf("%s:%d (%s): %v", path, i+1, name, err)
		}
		m, err := mbim.ParseMessage(raw)
		if err != nil {
			tb.Fatalf("%s:%d (%s): %v", path, i+1, name, err)
		}
		desc, err := benchLayout(&m)
		if err != nil {
			tb.Fatalf("%s:%d (%s): %v", path, i+1, name, err)
		}
		out = append(out, benchVector{name: name, raw: raw, msg: m, desc: desc})
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no vectors", path)
	}
	return out
}

var errNoLayout = errors.New("no layout for this payload")

// benchLayout finds the layout of m's payload at MBIMEx 1.0.
func benchLayout(m *mbim.Message) (*mbim.MessageDesc, error) {
	k, ok := KindOf(m)
	if !ok {
		return nil, errNoLayout
	}
	_, _, l := Layout(m.Service, m.CID, k, mbim.MBIMEx1)
	if l == nil || l.New == nil {
		return nil, errNoLayout
	}
	return l, nil
}

// benchDecode is what a user does with a message off the wire: parse the
// header, look the layout up, decode into a fresh value of its type.
func benchDecode(raw []byte) (mbim.Info, error) {
	m, err := mbim.ParseMessage(raw)
	if err != nil {
		return nil, err
	}
	l, err := benchLayout(&m)
	if err != nil {
		return nil, err
	}
	info := l.New()
	if err := info.UnmarshalMBIM(m.InformationBuffer); err != nil {
		return nil, err
	}
	return info, nil
}

// decoded returns v's payload decoded into a fresh value.
func (v *benchVector) decoded(tb testing.TB) mbim.Info {
	tb.Helper()
	info, err := benchDecode(v.raw)
	if err != nil {
		tb.Fatalf("%s: %v", v.name, err)
	}
	return info
}

var (
	benchSinkInfo  mbim.Info
	benchSinkBytes []byte
)

// startCPU pins the benchmark to its OS thread and returns a function that,
// called after the b.Loop loop, reports the thread's CPU time per operation
// as "cpu-ns/op". Unlike ns/op (wall clock), cpu-ns/op is not inflated by
// time slices lost to other processes on a busy machine; bench/compare.sh
// compares it with libmbim's CLOCK_THREAD_CPUTIME_ID figure. It reports
// nothing where /proc/thread-self/schedstat is missing (non-Linux).
func startCPU(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	t0, ok := threadCPUNanos()
	return func() {
		t1, ok1 := threadCPUNanos()
		runtime.UnlockOSThread()
		if ok && ok1 && b.N > 0 {
			b.ReportMetric(float64(t1-t0)/float64(b.N), "cpu-ns/op")
		}
	}
}

// threadCPUNanos returns the nanoseconds the calling thread has spent on a
// CPU (the first field of Linux's /proc/thread-self/schedstat, the same
// clock as CLOCK_THREAD_CPUTIME_ID).
func threadCPUNanos() (int64, bool) {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0, false
	}
	f, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.ParseInt(f, 10, 64)
	return n, err == nil
}

func BenchmarkDecode(b *testing.B) {
	for _, v := range loadBenchVectors(b) {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(v.raw)))
			stop := startCPU(b)
			for b.Loop() {
				info, err := benchDecode(v.raw)
				if err != nil {
					b.Fatal(err)
				}
				benchSinkInfo = info
			}
			stop()
		})
	}
}

func BenchmarkDecodeTyped(b *testing.B) {
	for _, v := range loadBenchVectors(b) {
		b.Run(v.name, func(b *testing.B) {
			info := v.desc.New()
			ib := v.msg.InformationBuffer
			b.ReportAllocs()
			b.SetBytes(int64(len(ib)))
			stop := startCPU(b)
			for b.Loop() {
				if err := info.UnmarshalMBIM(ib); err != nil {
					b.Fatal(err)
				}
			}
			stop()
			benchSinkInfo = info
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, v := range loadBenchVectors(b) {
		b.Run(v.name, func(b *testing.B) {
			info := v.decoded(b)
			buf := make([]byte, 0, info.SizeMBIM())
			b.ReportAllocs()
			b.SetBytes(int64(info.SizeMBIM()))
			stop := startCPU(b)
			for b.Loop() {
				out, err := info.AppendMBIM(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = out
			}
			stop()
			benchSinkBytes = buf
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, v := range loadBenchVectors(b) {
		b.Run(v.name, func(b *testing.B) {
			info := v.decoded(b)
			b.ReportAllocs()
			b.SetBytes(int64(info.SizeMBIM()))
			stop := startCPU(b)
			for b.Loop() {
				out, err := mbim.Marshal(info)
				if err != nil {
					b.Fatal(err)
				}
				benchSinkBytes = out
			}
			stop()
		})
	}
}

// TestBenchmarkAllocations checks the allocation properties the benchmarks
// report, for every vector:
//   - decoding into a reused value allocates at most once per non-empty
//     string or slice in the result (one for the slice itself, plus those of
//     its elements), and never for scalars;
//   - the full decode (header, lookup, fresh value) adds at most the value;
//   - encoding into a reused buffer allocates nothing; Marshal allocates once;
//   - the encoding is the information buffer of the vector, byte for byte
//     (so the encode benchmarks measure the real work).
//
// In a -race (or -msan, -asan, -gcflags=-N) build the compiler does not turn
// append(dst, make([]byte, n)...) into an in-place extension, which
// mbim.NewEncoder relies on: a structure whose fixed part has a variable
// size (visible_providers: 4+8n bytes) then allocates a temporary. The encode
// figures are logged rather than enforced there (CI's go test -race) until
// NewEncoder extends dst in place itself; the decode figures are enforced in
// every build.
func TestBenchmarkAllocations(t *testing.T) {
	const runs = 200
	unoptimized := allocUnoptimizedBuild()
	encodeCheck := func(t *testing.T, format string, args ...any) {
		t.Helper()
		if unoptimized != "" {
			t.Logf(format+" (not enforced in a "+unoptimized+" build)", args...)
			return
		}
		t.Errorf(format, args...)
	}
	for _, v := range loadBenchVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			info := v.decoded(t)
			want := countAllocatedFields(reflect.ValueOf(info))
			ib := v.msg.InformationBuffer

			reused := v.desc.New()
			var err error
			typed := testing.AllocsPerRun(runs, func() { err = reused.UnmarshalMBIM(ib) })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(reused, info) {
				t.Errorf("decoding into a reused value gives %+v, a fresh one %+v", reused, info)
			}
			if typed > float64(want) {
				t.Errorf("typed decode: %v allocs, want at most %d (one per non-empty string or slice)", typed, want)
			}

			full := testing.AllocsPerRun(runs, func() { _, err = benchDecode(v.raw) })
			if err != nil {
				t.Fatal(err)
			}
			if full > float64(want+1) {
				t.Errorf("decode (parse, lookup, fresh value): %v allocs, want at most %d (the value and one per non-empty string or slice)", full, want+1)
			}

			buf := make([]byte, 0, info.SizeMBIM())
			enc := testing.AllocsPerRun(runs, func() { buf, err = info.AppendMBIM(buf[:0]) })
			if err != nil {
				t.Fatal(err)
			}
			if enc != 0 {
				encodeCheck(t, "AppendMBIM into a reused buffer: %v allocs, want 0", enc)
			}
			if !bytes.Equal(buf, ib) {
				t.Errorf("encoding differs from the vector's information buffer:\n got %x\nwant %x", buf, ib)
			}

			var out []byte
			mar := testing.AllocsPerRun(runs, func() { out, err = mbim.Marshal(info) })
			if err != nil {
				t.Fatal(err)
			}
			if mar != 1 {
				encodeCheck(t, "mbim.Marshal: %v allocs, want 1", mar)
			}
			if len(out) != info.SizeMBIM() || cap(out) != info.SizeMBIM() {
				t.Errorf("mbim.Marshal: len %d cap %d, want both %d (SizeMBIM)", len(out), cap(out), info.SizeMBIM())
			}
			t.Logf("%s: %d strings/slices; allocs: typed decode %v, decode %v, append %v, marshal %v",
				v.name, want, typed, full, enc, mar)
		})
	}
}

// allocUnoptimizedBuild names the build setting under which the compiler
// skips allocation optimizations (see TestBenchmarkAllocations), or "".
func allocUnoptimizedBuild() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "-race", "-msan", "-asan":
			if s.Value == "true" {
				return s.Key
			}
		case "-gcflags":
			if strings.Contains(s.Value, "-N") {
				return "-gcflags=" + s.Value
			}
		}
	}
	return ""
}

// countAllocatedFields counts the non-empty strings and slices reachable
// through exported fields of v, slice elements included: the allocations a
// decoder needs at most. Pointers met below the top level (optional
// structures) count as one allocation each.
func countAllocatedFields(v reflect.Value) int {
	return countAllocs(v, true)
}

func countAllocs(v reflect.Value, top bool) int {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 0 {
			return 1
		}
	case reflect.Slice:
		if v.Len() == 0 {
			return 0
		}
		n := 1
		if holdsAllocations(v.Type().Elem()) {
			for i := 0; i < v.Len(); i++ {
				n += countAllocs(v.Index(i), false)
			}
		}
		return n
	case reflect.Array:
		n := 0
		if holdsAllocations(v.Type().Elem()) {
			for i := 0; i < v.Len(); i++ {
				n += countAllocs(v.Index(i), false)
			}
		}
		return n
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				n += countAllocs(v.Field(i), false)
			}
		}
		return n
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 0
		}
		n := countAllocs(v.Elem(), false)
		if !top && v.Kind() == reflect.Pointer {
			n++
		}
		return n
	}
	return 0
}

// holdsAllocations reports whether values of t can contain strings, slices
// or pointers reachable through exported fields.
func holdsAllocations(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Pointer, reflect.Interface, reflect.Map:
		return true
	case reflect.Array:
		return holdsAllocations(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && holdsAllocations(f.Type) {
				return true
			}
		}
	}
	return false
}
