"""Engine-owned FL run over HTTP: how long a run takes on its worker, and what it costs the
engine's other callers (GET /api/federation/status latency, idle vs while training).

    D=$(mktemp -d); plexus --data-dir $D users token root          # prints the token
    plexus --data-dir $D --neurons 20 serve --listen 127.0.0.1:7791 &
    PLEXUS_URL=http://127.0.0.1:7791 PLEXUS_TOKEN=... python3 benches/fl_engine_http.py
"""
import json, os, statistics, time, urllib.request

B = os.environ.get("PLEXUS_URL", "http://127.0.0.1:7791")
T = os.environ["PLEXUS_TOKEN"]
SPEC = {"rounds": 2000, "round_ms": 0, "rule": "multi-krum", "attack": "sign-flip", "byzantine": 0.2}


def req(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    r = urllib.request.Request(B + path, method=method, data=data,
                               headers={"Authorization": "Bearer " + T, "content-type": "application/json"})
    return json.load(urllib.request.urlopen(r, timeout=10))


def p50_p99(ms):
    ms = sorted(ms)
    return statistics.median(ms), ms[max(0, int(len(ms) * 0.99) - 1)]


idle = []
for _ in range(200):
    t = time.perf_counter(); req("GET", "/api/federation/status"); idle.append((time.perf_counter() - t) * 1e3)
print("idle status p50/p99 ms %.2f %.2f" % p50_p99(idle))
t0 = time.perf_counter()
run = req("POST", "/api/v1/fl/runs", SPEC)["run"]["id"]
busy = []
for _ in range(100_000):  # bounded: the run ends long before
    t = time.perf_counter(); req("GET", "/api/federation/status"); busy.append((time.perf_counter() - t) * 1e3)
    one = req("GET", "/api/v1/fl/runs/" + run)
    if one["run"]["state"] != "running":
        break
wall = time.perf_counter() - t0
print("run %s %s: %d rounds in %.2f s, final accuracy %.3f, excluded in the last round %s" % (
    run, one["run"]["state"], len(one["history"]), wall, one["run"]["final_accuracy"] or 0,
    [x["neuron"] for x in one["history"][-1]["excluded"]]))
print("attackers %s" % one["run"]["attackers"])
print("status while training p50/p99 ms %.2f %.2f (n=%d)" % (p50_p99(busy) + (len(busy),)))
