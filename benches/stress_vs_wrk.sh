#!/usr/bin/env bash
# Plexus's generator against oha and wrk on the same endpoint of the same server in the same run:
# GET /api/federation/status with a bearer token, 64 connections each (oha -c 64, wrk -c 64,
# Plexus's benches/profiles/status-max.toml: 64 closed-loop workers), alternating for ROUNDS
# rounds of SECONDS each; prints each round and the medians, and Plexus's ratio to each.
# Needs: cargo build --release --bin plexus; oha (cargo install oha --locked); wrk (apt-get
# install -y wrk; optional: its column is left out without it); jq.
# Run: bash benches/stress_vs_wrk.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; rounds=${2:-5}
bin=target/release/plexus
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
P="$bin --data-dir $work/data"
token=$($P users token "$(id -un)" 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$P --neurons 24 serve --listen "127.0.0.1:$port" 2>/dev/null &
sleep 2
url=http://127.0.0.1:$port
endpoint="$url/api/federation/status"
have_wrk=$(command -v wrk >/dev/null && echo 1 || echo 0)
for r in $(seq 1 "$rounds"); do
  o=$(oha -z "${secs}s" -c 64 --no-tui --output-format json -H "Authorization: Bearer $token" \
      "$endpoint" | jq -r '.summary.requestsPerSec')
  if [ "$have_wrk" = 1 ]; then
    w=$(wrk -t2 -c64 -d"${secs}s" -H "Authorization: Bearer $token" "$endpoint" \
        | awk '/Requests\/sec/ {print $2}')
  else
    w=0
  fi
  p=$($bin --connect "$url" --token "$token" --json stress run benches/profiles/status-max.toml \
      --duration "$secs" --out "$work/r$r" 2>/dev/null | jq -r '.metrics.requests_per_sec')
  echo "$r $o $w $p"
done | awk '{ printf "round %d: oha %.0f req/s, wrk %.0f req/s, plexus %.0f req/s, plexus/oha %.2f, plexus/wrk %.2f\n",
                     $1, $2, $3, $4, $4 / $2, ($3 > 0 ? $4 / $3 : 0);
              o[NR] = $2; w[NR] = $3; p[NR] = $4; qo[NR] = $4 / $2; qw[NR] = ($3 > 0 ? $4 / $3 : 0) }
     function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
       if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
     END { printf "median of %d rounds: oha %.0f req/s, wrk %.0f req/s, plexus %.0f req/s; plexus/oha %.2f, plexus/wrk %.2f\n",
           NR, median(o, NR), median(w, NR), median(p, NR), median(qo, NR), median(qw, NR) }'
