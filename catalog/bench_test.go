package catalog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// The benchmarks below measure what a user pays per message, on the shared
// COMMAND_DONE vectors (lines "name<TAB>hex"). bench/compare.sh runs
// BenchmarkDecode, BenchmarkDecodeFresh and BenchmarkEncode next to
// libmbim's typed parsers (bench/libmbim-bench.c) on the same vectors.
//
//	BenchmarkDecode/<name>       ParseMessageTo + layout lookup (MBIMEx 1.0) +
//	                             UnmarshalMBIM into a reused value of the
//	                             layout's type: what a session that keeps one
//	                             value per CID pays, and the counterpart of
//	                             libmbim's caller-provided out parameters
//	                             (libmbim still allocates its strings and
//	                             arrays each time; we allocate one buffer for
//	                             all the strings, and reuse the arrays)
//	BenchmarkDecodeFresh/<name>  the same into layout.New(): a fresh value
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
	_, _, l := LayoutOf(m, mbim.MBIMEx1)
	if l == nil || l.New == nil {
		return nil, errNoLayout
	}
	return l, nil
}

// benchDecode is what a user does with a message off the wire without
// keeping values: parse the header, look the layout up, decode into a fresh
// value of its type.
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

// benchReuse is a decoder that keeps its message and the value of the last
// layout it decoded, as a session keeps one value per CID.
type benchReuse struct {
	msg  mbim.Message
	desc *mbim.MessageDesc
	info mbim.Info
}

// decode parses raw, looks its layout up and decodes into the kept value
// when the layout is the same as last time, else into a new one.
func (r *benchReuse) decode(raw []byte) (mbim.Info, error) {
	if err := mbim.ParseMessageTo(&r.msg, raw); err != nil {
		return nil, err
	}
	l, err := benchLayout(&r.msg)
	if err != nil {
		return nil, err
	}
	if l != r.desc {
		r.desc, r.info = l, l.New()
	}
	if err := r.info.UnmarshalMBIM(r.msg.InformationBuffer); err != nil {
		return nil, err
	}
	return r.info, nil
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
			var r benchReuse
			b.ReportAllocs()
			b.SetBytes(int64(len(v.raw)))
			stop := startCPU(b)
			for b.Loop() {
				info, err := r.decode(v.raw)
				if err != nil {
					b.Fatal(err)
				}
				benchSinkInfo = info
			}
			stop()
		})
	}
}

func BenchmarkDecodeFresh(b *testing.B) {
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
// report, for every vector, in every build (-race included):
//   - decoding into a reused value allocates nothing but the one buffer that
//     all the message's strings share (one per 16 strings), in steady state:
//     slices, byte arrays and optional structures reuse their storage; so
//     does the whole decode (header, lookup, reused value);
//   - decoding into a fresh value allocates at most the value, that string
//     buffer, and one per non-empty slice (its elements included), never
//     for scalars;
//   - encoding into a reused buffer allocates nothing; Marshal allocates once;
//   - the encoding is the information buffer of the vector, byte for byte
//     (so the encode benchmarks measure the real work).
func TestBenchmarkAllocations(t *testing.T) {
	const runs = 200
	for _, v := range loadBenchVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			info := v.decoded(t)
			strs, slices := countAllocatedFields(reflect.ValueOf(info))
			buffers := (strs + maxStringsPerBuffer - 1) / maxStringsPerBuffer
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
			if typed > float64(buffers) {
				t.Errorf("typed decode into a reused value: %v allocs, want at most %d (the string buffer)", typed, buffers)
			}

			var r benchReuse
			full := testing.AllocsPerRun(runs, func() { _, err = r.decode(v.raw) })
			if err != nil {
				t.Fatal(err)
			}
			if full > float64(buffers) {
				t.Errorf("decode (parse, lookup, reused value): %v allocs, want at most %d (the string buffer)", full, buffers)
			}

			fresh := testing.AllocsPerRun(runs, func() { _, err = benchDecode(v.raw) })
			if err != nil {
				t.Fatal(err)
			}
			if want := 1 + buffers + slices; fresh > float64(want) {
				t.Errorf("decode into a fresh value: %v allocs, want at most %d (the value, the string buffer and one per non-empty slice)", fresh, want)
			}

			buf := make([]byte, 0, info.SizeMBIM())
			enc := testing.AllocsPerRun(runs, func() { buf, err = info.AppendMBIM(buf[:0]) })
			if err != nil {
				t.Fatal(err)
			}
			if enc != 0 {
				t.Errorf("AppendMBIM into a reused buffer: %v allocs, want 0", enc)
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
				t.Errorf("mbim.Marshal: %v allocs, want 1", mar)
			}
			if len(out) != info.SizeMBIM() || cap(out) != info.SizeMBIM() {
				t.Errorf("mbim.Marshal: len %d cap %d, want both %d (SizeMBIM)", len(out), cap(out), info.SizeMBIM())
			}
			t.Logf("%s: %d strings, %d slices; allocs: typed decode (reused) %v, decode (reused) %v, decode (fresh) %v, append %v, marshal %v",
				v.name, strs, slices, typed, full, fresh, enc, mar)
		})
	}
}

// maxStringsPerBuffer is how many strings mbim.Decoder converts into one
// buffer (its maxPendingStrings).
const maxStringsPerBuffer = 16

// countAllocatedFields counts the non-empty strings, and the non-empty
// slices (slice elements included) and pointers below the top level
// (optional structures), reachable through exported fields of v.
func countAllocatedFields(v reflect.Value) (strs, others int) {
	countAllocs(v, true, &strs, &others)
	return strs, others
}

func countAllocs(v reflect.Value, top bool, strs, others *int) {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 0 {
			*strs++
		}
	case reflect.Slice:
		if v.Len() == 0 {
			return
		}
		*others++
		if holdsAllocations(v.Type().Elem()) {
			for i := 0; i < v.Len(); i++ {
				countAllocs(v.Index(i), false, strs, others)
			}
		}
	case reflect.Array:
		if holdsAllocations(v.Type().Elem()) {
			for i := 0; i < v.Len(); i++ {
				countAllocs(v.Index(i), false, strs, others)
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				countAllocs(v.Field(i), false, strs, others)
			}
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		countAllocs(v.Elem(), false, strs, others)
		if !top && v.Kind() == reflect.Pointer {
			*others++
		}
	}
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
