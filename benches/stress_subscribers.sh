#!/usr/bin/env bash
# How many concurrent WebSocket subscribers one `plexus serve` holds, and their fan-out lag, while
# the generator registers mock neurons (events for everyone) and opens a fresh subscriber per
# `subscribe` request. One server per count, so counts do not share a warm-up.
# Needs: cargo build --release --bin plexus; jq.
# Run: bash benches/stress_subscribers.sh [SECONDS] [COUNTS...]   (defaults: 20 s; 50 200 500 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}; shift || true
counts=${*:-50 200 500 1000}
bin=target/release/plexus
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
for n in $counts; do
  P="$bin --data-dir $work/data-$n"
  token=$($P users token "$(id -un)" 2>/dev/null)
  $P --neurons 24 serve --listen 127.0.0.1:7794 2>/dev/null &
  server=$!
  sleep 2
  $bin --connect http://127.0.0.1:7794 --token "$token" --json stress run \
      benches/profiles/subscribers.toml --duration "$secs" --subscribers "$n" --out "$work/r$n" \
      2>/dev/null | jq -r --arg n "$n" '"subscribers \($n): held \(.subscribers.held) (failed \(.subscribers.failed)), \(.subscribers.events_received) events, \(.subscribers.events_lost) lost, fan-out lag p50 \(.subscribers.fanout_lag_ms.p50) ms p99 \(.subscribers.fanout_lag_ms.p99) ms max \(.subscribers.fanout_lag_ms.max) ms; subscribe (open+auth+first frame) p50 \([.scenarios[] | select(.name == "subscribe")][0].send_latency_ms.p50) ms p99 \([.scenarios[] | select(.name == "subscribe")][0].send_latency_ms.p99) ms; \(.metrics.requests_per_sec) req/s, error rate \(.metrics.error_rate)"'
  kill $server; wait $server 2>/dev/null || true
done
