#!/usr/bin/env bash
# Time to detect and recover for a Byzantine FL attacker on real time: RUNS runs (default 20) of
# the shipped byzantine-fl experiment (2 of 24 neurons turn Byzantine during a Multi-Krum run),
# one fresh data dir and seed each; prints each run and the medians / p99.
# Usage: bash benches/chaos_byzantine_fl.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --quiet
out=$(mktemp)
for s in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  target/release/plexus --data-dir "$dir" --seed "$s" chaos run byzantine-fl --json --out "$dir/results" 2>/dev/null \
    | python3 -c 'import json,sys; j=json.load(sys.stdin); f=j["faults"][0]; print(j["verdict"], f.get("time_to_detect_ms"), f.get("time_to_recover_ms"), f.get("detection"))' \
    | tee -a "$out"
  rm -rf "$dir"
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split(maxsplit=3) for l in open(sys.argv[1])]
def stats(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, -(-99 * len(xs) // 100) - 1)]
d = stats([int(r[1]) for r in rows if r[1] != "None"])
r = stats([int(r[2]) for r in rows if r[2] != "None"])
print(f"{len(rows)} runs, verdicts {sorted(set(r[0] for r in rows))}")
print(f"detect median {d[0]:.0f} ms, p99 {d[1]} ms; recover median {r[0]:.0f} ms, p99 {r[1]} ms")
PY
rm -f "$out"
