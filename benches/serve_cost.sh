#!/usr/bin/env bash
# Engine cost of `plexus serve --neurons N` from outside: CPU (cores, from /proc/PID/stat) over a
# steady window after a warm-up, and resident memory at its end; binaries measured alternately,
# ROUNDS times each, medians printed. Compare a change with its parent:
#   bash benches/serve_cost.sh 10000 20 30 3 ./before/plexus target/release/plexus
set -euo pipefail
neurons=${1:-10000}; warm=${2:-20}; window=${3:-30}; rounds=${4:-3}; shift 4 || true
bins=("$@"); [ ${#bins[@]} -gt 0 ] || bins=(target/release/plexus)
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
declare -A cpu rss
for round in $(seq "$rounds"); do
  for bin in "${bins[@]}"; do
    dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$bin" --neurons "$neurons" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
    pid=$!
    sleep "$warm"; a=$(cpu_ticks $pid); sleep "$window"; b=$(cpu_ticks $pid)
    c=$(python3 -c "print(round(($b - $a) / $tick / $window, 3))"); r=$(rss_mb $pid)
    kill -INT $pid; wait $pid 2>/dev/null || true; rm -rf "$dir"
    echo "round $round  $bin  cpu ${c} cores  rss ${r} MB"
    cpu[$bin]+="$c "; rss[$bin]+="$r "
  done
done
med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for bin in "${bins[@]}"; do
  echo "median  $bin  cpu $(echo "${cpu[$bin]}" | med) cores  rss $(echo "${rss[$bin]}" | med) MB  ($neurons neurons)"
done
