#!/usr/bin/env bash
# A stress profile against `plexus serve`, with the server's RSS sampled every 10 s beside it: the
# soak's memory curve (rss.csv: seconds, MB) and its slope over the second half, where a leak
# shows and warm-up does not. Also good for `high` (its report names the breaking point).
#   bash benches/soak_rss.sh [PROFILE] [DURATION_S] [BIN]   (default: soak, the profile's own 60 min)
set -euo pipefail
profile=${1:-soak}; duration=${2:-}; bin=${3:-target/release/plexus}
dir=$(mktemp -d); out=${OUT:-$dir/results}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=$("$bin" --data-dir "$dir" users token "$(whoami)" 2>/dev/null)
"$bin" --neurons 0 --data-dir "$dir" serve --listen "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
start=$(date +%s)
( while kill -0 $server 2>/dev/null; do
    echo "$(( $(date +%s) - start )),$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$server/status)"
    sleep 10
  done ) >"$dir/rss.csv" &
sampler=$!
args=(--connect "http://127.0.0.1:$port" --token "$token" --json stress run "$profile" --out "$out")
[ -n "$duration" ] && args+=(--duration "$duration")
set +e; "$bin" "${args[@]}" >"$dir/summary.json"; code=$?; set -e
kill $sampler 2>/dev/null || true
cp "$dir/rss.csv" "$out/rss.csv" 2>/dev/null || true
python3 - "$dir/rss.csv" "$code" "$out" <<'PY'
import sys
rows = [tuple(map(float, l.split(","))) for l in open(sys.argv[1]) if l.count(",") == 1]
half = [r for r in rows if r[0] >= rows[-1][0] / 2]
n = len(half); mx = sum(t for t, _ in half) / n; my = sum(m for _, m in half) / n
slope = sum((t - mx) * (m - my) for t, m in half) / max(1e-9, sum((t - mx) ** 2 for t, _ in half))
print(f"stress exit {sys.argv[2]}; report {sys.argv[3]}/report.md; RSS {rows[0][1]:.0f} MB at start, "
      f"{max(m for _, m in rows):.0f} MB peak, {rows[-1][1]:.0f} MB at end; "
      f"second-half slope {slope * 1024:.2f} KiB/s over {n} samples")
PY
