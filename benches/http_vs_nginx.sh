#!/usr/bin/env bash
# Requests per second of GET /api/federation/status (bearer token, through the gate) with 64
# connections, beside a static page of the same size served by nginx, with the same load command
# (wrk) in the same run. Needs: cargo build --release; wrk and nginx (apt-get install wrk nginx-light).
# Run: bash benches/http_vs_nginx.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bin=target/release/plexus
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
P="$bin --data-dir $work/data"
token=$($P users token "$(id -un)" 2>/dev/null)
$P --neurons 24 serve --listen 127.0.0.1:7790 2>/dev/null &
sleep 2
curl -s -H "Authorization: Bearer $token" http://127.0.0.1:7790/api/federation/status > "$work/status.json"
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
error_log $work/logs/error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:7791; root $work; default_type application/json; }
}
CONF
nginx -p "$work" -c nginx.conf
sleep 0.5
echo "body: $(wc -c < "$work/status.json") bytes (the same file for nginx)"
plexus=$(wrk -t2 -c64 -d"${secs}s" -H "Authorization: Bearer $token" http://127.0.0.1:7790/api/federation/status | awk '/Requests\/sec/ {print $2}')
static=$(wrk -t2 -c64 -d"${secs}s" http://127.0.0.1:7791/status.json | awk '/Requests\/sec/ {print $2}')
echo "plexus GET /api/federation/status: $plexus req/s"
echo "nginx static page of the same size: $static req/s"
awk -v p="$plexus" -v s="$static" 'BEGIN { printf "ratio plexus/nginx: %.2f\n", p / s }'
