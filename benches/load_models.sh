#!/usr/bin/env bash
# The load models' targets, against `llmload mock` on 127.0.0.1 (benches/README.md records the
# results): a constant and a Poisson rate (requests counted by the mock, gaps from the records),
# the dispatcher's lag up to its ceiling, a server stall while --max-concurrency binds, and the
# capacity search against a server with 8 slots. Each block ends with the instrument's own
# lateness: its TTFT and ITL p99 (from /mock/stats) minus the configured ones; with --slots or a
# stall, its TTFT includes the wait by design, so read its ITL. About 4 minutes.
# Usage: bash benches/load_models.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=target/release/llmload
out=$(mktemp -d)
port=18500

mock() { # mock ARGS…: starts a mock on a fresh port at nice −10 where allowed
    port=$((port + 1))
    if nice -n -10 true 2>/dev/null; then
        nice -n -10 "$B" mock --port "$port" "$@" >/dev/null 2>&1 &
    else
        "$B" mock --port "$port" "$@" >/dev/null 2>&1 &
    fi
    MOCK=$!
    sleep 0.5
}
# late TTFT_MS ITL_MS: the running mock's p99 TTFT and ITL over the configured ones.
late() {
    python3 -c "import json,urllib.request; s=json.load(urllib.request.urlopen('$(url)/mock/stats')); print('instrument late: TTFT p99 %+.1f ms, ITL p99 %+.1f ms' % (s['ttft_ms']['p99']-$1, s['itl_ms']['p99']-$2))"
}
stop() { kill "$MOCK" 2>/dev/null; wait "$MOCK" 2>/dev/null || true; }
url() { echo "http://127.0.0.1:$port"; }

echo "== --rate 50, constant and poisson, -d 20s"
for arrival in constant poisson; do
    mock --ttft 50ms --itl 10ms --tokens 20
    "$B" run --url "$(url)" --api openai-chat --rate 50 --arrival "$arrival" -d 20s --no-preflight --quiet \
        --json "$out/$arrival.json" --records "$out/$arrival.jsonl" >/dev/null
    sent=$(python3 -c "import json,urllib.request; print(json.load(urllib.request.urlopen('$(url)/mock/stats'))['requests'])")
    late 50 10
    stop
    python3 - "$out/$arrival.jsonl" "$out/$arrival.json" "$arrival" "$sent" <<'PY'
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
j = json.load(open(sys.argv[2]))
starts = sorted(r["start_ms"] for r in recs)
gaps = [b - a for a, b in zip(starts, starts[1:])]
mean, sd = statistics.mean(gaps), statistics.pstdev(gaps)
lag = j["client"]["start_lag_ms"]
print(f"{sys.argv[3]}: mock received {sys.argv[4]} requests; gaps between sends mean {mean:.3f} ms, sd {sd:.3f} ms, CV {sd/mean:.3f}; dispatch lag p99 {lag['p99']} ms, max {lag['max']} ms; verdict {j['client']['verdict']}")
PY
done

echo "== the dispatcher's lag against the rate (-d 10s, 5-token streams)"
for rate in 100 500 1000 2000 4000; do
    mock --ttft 10ms --itl 2ms --tokens 5
    "$B" run --url "$(url)" --api openai-chat --rate "$rate" --arrival constant -d 10s --no-preflight --quiet \
        --json "$out/r$rate.json" >/dev/null
    late 10 2
    stop
    python3 - "$out/r$rate.json" "$rate" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
lag, c = j["client"]["start_lag_ms"], j["client"]
print(f"rate {sys.argv[2]}/s: {j['requests']['total']} requests, dispatch lag p50 {lag['p50']} / p99 {lag['p99']} / max {lag['max']} ms, client CPU {c['cpu_s']:.2f} s, verdict {c['verdict']}")
PY
done

echo "== a 2 s server stall while --max-concurrency 8 binds (--rate 20, -d 8s; stall from 3 s)"
mock --ttft 50ms --itl 10ms --tokens 10 --stall-at 3s --stall-for 2s
"$B" run --url "$(url)" --api openai-chat --rate 20 --arrival constant --max-concurrency 8 -d 8s --no-preflight \
    --quiet --json "$out/stall.json" --records "$out/stall.jsonl" >/dev/null || true
late 50 10
stop
python3 - "$out/stall.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["outcome"] == "ok"]
def row(name, lo, hi):
    sel = [r for r in recs if lo <= r["scheduled_ms"] < hi]
    sched = [r["start_ms"] - r["scheduled_ms"] + r["ttft_ms"] for r in sel]
    sent = [r["ttft_ms"] for r in sel]
    print(f"scheduled {name}: {len(sel)} requests; TTFT from send max {max(sent):.0f} ms, median {sorted(sent)[len(sent)//2]:.0f} ms; from schedule max {max(sched):.0f} ms, median {sorted(sched)[len(sched)//2]:.0f} ms")
row("before the stall (0-2.5 s)", 0, 2500)
row("inside the stall (3.5-5 s)", 3500, 5000)
row("after it (6.5-8 s)", 6500, 8000)
PY

echo "== --find concurrency against 8 slots (TTFT 100 ms, 50 tokens at 10 ms), ttft<=150ms at 0.95"
mock --ttft 100ms --itl 10ms --tokens 50 --slots 8
"$B" sweep --url "$(url)" --api openai-chat --find concurrency --concurrency 4 --slo 'ttft<=150ms' \
    --slo-target 0.95 -d 10s --max-level-time 40s --no-preflight --json "$out/find.json"
late 100 10
stop
python3 -c "import json; c=json.load(open('$out/find.json'))['capacity']; print('capacity', c['value'], c['stop_reason'], [(p['level'], p['attainment'], p['decided']) for p in c['probes']])"
echo "(files in $out)"
