#!/usr/bin/env bash
# Compares gombim's proxy with libmbim's mbim-proxy, with the same simulated
# modem (on a pty) behind both, in one run: transactions per second with 1
# and 8 clients doing one transaction at a time, and with 16 in flight each
# (capacity); latency added to a transaction over a direct connection
# (median), next to that of a forwarder that understands nothing
# (bench/forwarder.c); the proxies' CPU time per transaction; their resident
# memory with 8 clients. See TestProxyCompare in proxy/compare_test.go.
#
# Usage (from anywhere, as root: each proxy runs in a network namespace of
# its own, so that both can use libmbim's socket name):
#   bash bench/proxy-compare.sh
# Environment:
#   ROUNDS     rounds, alternating which proxy goes first (default 3)
#   BENCHTIME  length of each throughput run (default 3s)
#   GOMBIM_BIN a gombim binary to test instead of building one
#
# The figures depend on the machine and on its load (printed with them):
# run it on an otherwise idle machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
for tool in go gcc /usr/libexec/mbim-proxy; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "proxy-compare.sh: missing $tool (apt-get install libmbim-proxy gcc)" >&2
    exit 1
  fi
done
if [[ $(id -u) != 0 ]]; then
  echo "proxy-compare.sh: run as root (network namespaces)" >&2
  exit 1
fi

GOMBIM_PROXY_BENCH=1 \
GOMBIM_PROXY_BENCH_ROUNDS=${ROUNDS:-3} \
GOMBIM_PROXY_BENCH_TIME=${BENCHTIME:-3s} \
  go test -count=1 -run '^TestProxyCompare$' -v ./proxy/ >"${TMPDIR:-/tmp}/proxy-compare.log" 2>&1 ||
  { cat "${TMPDIR:-/tmp}/proxy-compare.log"; exit 1; }
sed 's/^ *//' "${TMPDIR:-/tmp}/proxy-compare.log" | awk '/^medians of/ {p = 1} p && /^$/ {exit} p'
