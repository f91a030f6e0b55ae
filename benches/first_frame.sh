#!/usr/bin/env bash
# Start to first full frame: launch the release console in tmux (200x50) and poll the screen until
# the Neurons table shows its first row. Includes tmux's own polling (10 ms).
# Run: bash benches/first_frame.sh [NEURONS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
neurons=${1:-24}; runs=${2:-5}
bin=$(pwd)/target/release/plexus
for r in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  tmux new-session -d -s ff -x 200 -y 50 "$bin --data-dir $dir --neurons $neurons"
  until tmux capture-pane -p -t ff 2>/dev/null | grep -q "n-0001"; do sleep 0.01; done
  end=$(date +%s%N)
  tmux kill-session -t ff
  rm -rf "$dir"
  echo "$(( (end - start) / 1000000 ))"
done | sort -n | awk -v n="$neurons" '{a[NR]=$1} END {printf "first full frame with %d neurons: median %d ms (min %d, max %d, %d runs)\n", n, a[int((NR+1)/2)], a[1], a[NR], NR}'
