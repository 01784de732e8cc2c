#!/usr/bin/env bash
# Compares gombim's typed decode and encode with libmbim's typed parsers on
# the shared COMMAND_DONE vectors, on this machine, in one run:
#   1. builds bench/libmbim-bench.c against libmbim-glib into a temp dir and
#      runs it (median of 5 batches of ~0.1 s per vector);
#   2. runs go test -bench 'BenchmarkDecode/|BenchmarkDecodeFresh/|BenchmarkEncode/'
#      -count 5;
#   3. prints the medians side by side.
#
# Usage (from anywhere):  bash bench/compare.sh
# Environment:
#   GOMBIM_VECTORS  vector file (default: ../shared/vectors/basic-connect.hex
#                   relative to the repository root)
#   COUNT           go test -count, and libmbim batches (default 5)
#   BENCHTIME       go test -benchtime (default 1s)
#   LIBMBIM_MS      libmbim time per vector in ms (default 500)
#
# ns/op is wall-clock time (Go's usual figure). cpu-ns/op is the benchmark
# thread's CPU time (CLOCK_THREAD_CPUTIME_ID; /proc/thread-self/schedstat on
# the Go side); it is not inflated by time slices lost to other processes,
# so on a busy machine (see the load printed first) compare that column.
# ratio = libmbim / gombim: above 1 gombim is faster; the target is >= 2.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
vectors=${GOMBIM_VECTORS:-$root/../shared/vectors/basic-connect.hex}
count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
libmbim_ms=${LIBMBIM_MS:-500}

missing=()
for tool in go gcc pkg-config awk sort; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if command -v pkg-config >/dev/null 2>&1 && ! pkg-config --exists mbim-glib; then
  missing+=("libmbim-glib (pkg-config module mbim-glib)")
fi
if ((${#missing[@]})); then
  echo "compare.sh: missing: ${missing[*]}" >&2
  echo "install with: apt-get install -y libmbim-glib-dev pkg-config gcc" >&2
  echo "(and Go 1.26 or later from https://go.dev/dl/ if 'go' is missing)" >&2
  exit 1
fi
if [[ ! -r $vectors ]]; then
  echo "compare.sh: vector file $vectors not found; clone shared/ beside the repository or set GOMBIM_VECTORS" >&2
  exit 1
fi
vectors=$(cd "$(dirname "$vectors")" && pwd)/$(basename "$vectors")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2046 # pkg-config output is a list of flags
gcc -O2 -Wall -o "$tmp/libmbim-bench" bench/libmbim-bench.c $(pkg-config --cflags --libs mbim-glib)

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "machine: $(uname -sm), $(nproc) CPUs${cpu:+ ($cpu)}, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') before the run"
echo "libmbim $(pkg-config --modversion mbim-glib); $(go version)"
echo "vectors: $vectors"
echo

echo "running libmbim-bench (${libmbim_ms} ms per vector, $count batches)..." >&2
"$tmp/libmbim-bench" -t "$libmbim_ms" -r "$count" "$vectors" >"$tmp/libmbim.txt"
echo "running go test -bench (count $count, benchtime $benchtime)..." >&2
GOMBIM_VECTORS=$vectors go test -run '^$' -bench 'BenchmarkDecode/|BenchmarkDecodeFresh/|BenchmarkEncode/' \
  -benchmem -count "$count" -benchtime "$benchtime" ./catalog/ >"$tmp/go.txt" || {
  cat "$tmp/go.txt" >&2
  echo "compare.sh: go test failed" >&2
  exit 1
}
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo

# Go lines: BenchmarkDecode/device_caps-2  N  x ns/op  y MB/s  z cpu-ns/op  b B/op  a allocs/op
# Flatten them to "kind name unit value" and take medians with sort.
awk '
  /^Benchmark(Decode|DecodeFresh|Encode)\// {
    split($1, p, "/"); kind = substr(p[1], 10); name = p[2]
    sub(/-[0-9]+$/, "", name)
    for (i = 3; i <= NF; i++)
      if ($i == "ns/op" || $i == "cpu-ns/op" || $i == "allocs/op" || $i == "B/op")
        print kind, name, $i, $(i-1)
  }' "$tmp/go.txt" | sort -k1,1 -k2,2 -k3,3 -k4,4g >"$tmp/go.flat"

awk -v vecfile="$vectors" -v gofile="$tmp/go.flat" '
  function fmt(v) { return v == "" ? "-" : v }
  function ratio(a, b) { return (a == "" || b == "" || a == "-" || b + 0 == 0) ? "-" : sprintf("%.2fx", a / b) }
  BEGIN {
    # medians of the Go runs
    while ((getline line < gofile) > 0) {
      split(line, f, " "); k = f[1] SUBSEP f[2] SUBSEP f[3]
      n[k]++; val[k, n[k]] = f[4]
    }
    for (k in n) {
      c = n[k]
      med[k] = (c % 2) ? val[k, (c + 1) / 2] : (val[k, c / 2] + val[k, c / 2 + 1]) / 2
    }
    # vector order
    while ((getline line < vecfile) > 0) {
      if (line ~ /^[ \t]*(#|$)/) continue
      split(line, f, "\t"); order[++nv] = f[1]
    }
  }
  /^#same-layout-builder/ { note[$2] = $3 " " $4 " ns/op (" $5 " cpu-ns/op)"; next }
  /^#/ { next }
  { lm[$1] = $2; lb[$1] = $3; lc[$1] = $4 }
  END {
    print "DECODE: whole message -> typed value (libmbim: mbim_message_new + *_response_parse + frees;"
    print "        gombim: ParseMessageTo + layout lookup + UnmarshalMBIM)"
    print "  reused = into a value of the layout type kept from the previous message (as libmbim"
    print "           out parameters; arrays reuse their storage, the strings share one new buffer)"
    print "  fresh  = into layout.New(), a new value each time"
    hdr = "%-18s %10s %10s %7s %6s %10s %7s %6s %12s\n"
    for (pass = 1; pass <= 2; pass++) {
      unit = pass == 1 ? "cpu-ns/op" : "ns/op"
      print ""
      print (pass == 1 ? "thread CPU time (cpu-ns/op; compare this column on a busy machine)" : "wall clock (ns/op)")
      printf hdr, "vector", "libmbim", "reused", "ratio", "allocs", "fresh", "ratio", "allocs", "2x (reused)"
      for (i = 1; i <= nv; i++) {
        v = order[i]
        l = (pass == 1) ? lc[v] : lm[v]
        g = med["Decode", v, unit]; fr = med["DecodeFresh", v, unit]
        verdict = "-"
        if (l != "" && l != "-" && g != "") verdict = (l / g >= 2) ? "met" : "MISSED"
        printf hdr, v, fmt(l), fmt(g), ratio(l, g), fmt(med["Decode", v, "allocs/op"]), \
          fmt(fr), ratio(l, fr), fmt(med["DecodeFresh", v, "allocs/op"]), verdict
      }
    }
    print ""
    print "ENCODE: typed value -> information buffer (gombim: AppendMBIM into a reused buffer)"
    hdr2 = "%-18s %16s %14s %10s %15s\n"
    printf hdr2, "vector", "libmbim build", "gombim ns/op", "allocs/op", "gombim cpu-ns"
    for (i = 1; i <= nv; i++) {
      v = order[i]
      printf hdr2, v, fmt(lb[v]), fmt(med["Encode", v, "ns/op"]), fmt(med["Encode", v, "allocs/op"]), fmt(med["Encode", v, "cpu-ns/op"])
    }
    print "libmbim 1.28 has no builders for response messages (\"-\")."
    for (v in note) print "same layout: " v " query builder " note[v] " (whole message, allocated and freed)"
  }' "$tmp/libmbim.txt"
