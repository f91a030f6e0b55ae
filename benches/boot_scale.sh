#!/usr/bin/env bash
# A large fleet's boot, measured from outside as an operator sees it: `plexus serve --neurons N`
# on a fresh data dir, GET /api/federation/status every 0.5 s until 99% are healthy (the time
# from start), any fleet condition seen meanwhile, then the steady cost over a window (cores from
# /proc/PID/stat, RSS), one status call's latency, and how long SIGINT takes to end it.
#   bash benches/boot_scale.sh 100000 [WINDOW_S] [BIN]     (several sizes: "30000 100000 200000")
set -euo pipefail
sizes=${1:-100000}; window=${2:-20}; bin=${3:-target/release/plexus}
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
now() { date +%s.%N; }
for n in $sizes; do
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  token=$("$bin" --data-dir "$dir" users token "$(whoami)" 2>/dev/null)
  start=$(now)
  "$bin" --neurons "$n" --data-dir "$dir" serve --listen "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
  pid=$!
  status() { curl -s -m 30 -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/federation/status"; }
  healthy_at=""; conditions=""
  for _ in $(seq 240); do
    sleep 0.5
    line=$(status | python3 -c 'import json,sys
try:
    v = json.load(sys.stdin)
except Exception:
    print("- -"); sys.exit()
print(v["neurons"]["healthy"], ",".join(c["kind"] for c in v["conditions"]) or "-")' 2>/dev/null || echo "- -")
    read -r healthy kinds <<<"$line"
    [ "$kinds" != "-" ] && conditions+="$kinds "
    if [ "$healthy" != "-" ] && [ $((healthy * 100)) -ge $((n * 99)) ]; then
      healthy_at=$(python3 -c "print(round($(now) - $start, 1))"); break
    fi
  done
  sleep 5
  a=$(cpu_ticks $pid); sleep "$window"; b=$(cpu_ticks $pid)
  cores=$(python3 -c "print(round(($b - $a) / $tick / $window, 3))"); rss=$(rss_mb $pid)
  s0=$(now); status >/dev/null; status_ms=$(python3 -c "print(round(($(now) - $s0) * 1000))")
  s0=$(now); kill -INT $pid; wait $pid 2>/dev/null || true
  stop_s=$(python3 -c "print(round($(now) - $s0, 2))")
  seen=$(echo "$conditions" | tr ' ' '\n' | { grep -v '^$' || true; } | sort | uniq -c | awk '{printf "%s (%d polls) ", $2, $1}')
  seen=${seen:-none}
  echo "$n neurons: 99% healthy at ${healthy_at:-never} s; conditions seen: ${seen}; steady ${cores} cores, RSS ${rss} MB; status ${status_ms} ms; SIGINT to exit ${stop_s} s"
  rm -rf "$dir"
done
