#!/usr/bin/env bash
# One-command latency of gombim and mbimcli against the same simulated
# modem on a pty, side by side in one hyperfine run:
#   gombim -d PTY basic-connect device-caps query
#   mbimcli -d PTY --query-device-caps
# Needs hyperfine (apt-get install -y hyperfine) and mbimcli
# (apt-get install -y libmbim-utils). Usage: bash bench/cli-compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
for tool in hyperfine mbimcli; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
dir=$(mktemp -d)
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null; rm -rf "$dir"' EXIT
CGO_ENABLED=0 go build -o "$dir/gombim" ./cmd/gombim
"$dir/gombim" sim --pty "$dir/modem" >/dev/null &
sim=$!
for _ in $(seq 100); do [ -e "$dir/modem" ] && break; sleep 0.05; done
# The simulator's pty takes a moment to accept a new client after one
# closed it: --prepare waits outside the measurement.
hyperfine -N --warmup 20 --runs "$runs" --prepare 'sleep 0.01' \
  --export-json "$dir/times.json" \
  -n gombim "$dir/gombim -d $dir/modem basic-connect device-caps query" \
  -n mbimcli "mbimcli -d $dir/modem --query-device-caps"
python3 - "$dir/times.json" <<'PY' 2>/dev/null || true
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
g, m = r["gombim"], r["mbimcli"]
print("median: gombim %.2f ms, mbimcli %.2f ms (gombim/mbimcli %.2f)" % (g["median"]*1e3, m["median"]*1e3, g["median"]/m["median"]))
print("min:    gombim %.2f ms, mbimcli %.2f ms" % (g["min"]*1e3, m["min"]*1e3))
PY
