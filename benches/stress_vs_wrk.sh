#!/usr/bin/env bash
# Plexus's generator against wrk on the same endpoint of the same server in the same run:
# GET /api/federation/status with a bearer token, 64 connections (wrk) / 64 in flight (Plexus),
# alternating for ROUNDS rounds of SECONDS each; prints each round and the medians.
# Needs: cargo build --release --bin plexus; wrk (apt-get install -y wrk).
# Run: bash benches/stress_vs_wrk.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; rounds=${2:-5}
bin=target/release/plexus
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
P="$bin --data-dir $work/data"
token=$($P users token "$(id -un)" 2>/dev/null)
$P --neurons 24 serve --listen 127.0.0.1:7793 2>/dev/null &
sleep 2
url=http://127.0.0.1:7793
for r in $(seq 1 "$rounds"); do
  w=$(wrk -t2 -c64 -d"${secs}s" -H "Authorization: Bearer $token" "$url/api/federation/status" \
      | awk '/Requests\/sec/ {print $2}')
  p=$($bin --connect "$url" --token "$token" --json stress run benches/profiles/status-max.toml \
      --duration "$secs" --out "$work/r$r" 2>/dev/null | jq -r '.metrics.requests_per_sec')
  echo "$r $w $p"
done | awk '{ printf "round %d: wrk %.0f req/s, plexus %.0f req/s, ratio %.2f\n", $1, $2, $3, $3 / $2;
              w[NR] = $2; p[NR] = $3; q[NR] = $3 / $2 }
     function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
       if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
     END { printf "median: wrk %.0f req/s, plexus %.0f req/s, ratio %.2f\n",
           median(w, NR), median(p, NR), median(q, NR) }'
