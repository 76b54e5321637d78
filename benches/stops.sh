#!/usr/bin/env bash
# How soon llmload stops when it is told to, against `llmload mock` on 127.0.0.1: the times the
# integration tests used to bound, now measured here (the tests assert what happened, by counts;
# a busy machine makes any time bound flaky). Each line is the process's wall time, from its start
# or from the signal, beside what it is meant to be. About 30 seconds.
#   deadline cuts streams    -d 1s, answers of about 5 s           → about 1 s
#   deadline cuts backoff    -d 2s, a port with nothing listening   → about 2 s
#   deadline cuts Retry-After -d 300ms, every answer a 429 (1 s)    → about 0.3 s
#   Ctrl-C lets requests end  INT after 1.5 s, answers of about 1 s → within the 5 s grace
#   second Ctrl-C             INT, INT 300 ms apart, --grace 30s    → about 0.3 s after the first
#   --grace 200ms             TERM, answers of about 5 s            → about 0.2 s
#   refused preflight         -d 3s, nothing listening              → at once
# Usage: bash benches/stops.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=target/release/llmload
out=$(mktemp -d)
port=18600
MOCK=

mock() { # mock ARGS…: starts a mock on a fresh port
    port=$((port + 1))
    "$B" mock --port "$port" "$@" >/dev/null 2>&1 &
    MOCK=$!
    sleep 0.5
}
stop() { kill "$MOCK" 2>/dev/null; wait "$MOCK" 2>/dev/null || true; }
url() { echo "http://127.0.0.1:$port"; }
now() { date +%s.%N; }
since() { python3 -c "print('%.2f s' % ($(now) - $1))"; }
dead() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run() { "$B" run --api openai-chat --quiet --no-preflight --json "$out/s.json" "$@" >/dev/null 2>&1 || true; }
# signalled SIGNALS PAUSE ARGS…: runs llmload, sends each signal 1 s in (PAUSE apart) and prints
# the time from the first signal to the exit.
signalled() {
    local signals=$1 pause=$2; shift 2
    "$B" run --api openai-chat --quiet --no-preflight --json "$out/s.json" "$@" >/dev/null 2>&1 &
    local pid=$! first=
    sleep 1
    for sig in $signals; do
        [ -n "$first" ] && sleep "$pause"
        [ -z "$first" ] && first=$(now)
        kill -"$sig" "$pid"
    done
    wait "$pid" || true
    since "$first"
}

mock --ttft 10ms --itl 50ms --tokens 100
t=$(now); run --url "$(url)" -c 3 -d 1s; echo "deadline cuts streams:     $(since "$t") (-d 1s)"
stop

t=$(now); run --url "http://127.0.0.1:$(dead)" -c 4 -d 2s
echo "deadline cuts backoff:     $(since "$t") (-d 2s)"

mock --fault http-429
t=$(now); run --url "$(url)" -d 300ms --retries 10; echo "deadline cuts Retry-After: $(since "$t") (-d 300ms)"
stop

mock --ttft 10ms --itl 50ms --tokens 20
echo "Ctrl-C lets requests end: $(signalled INT 0 --url "$(url)" -c 4 -d 60s) (grace 5s, answers ~1 s)"
stop

mock --ttft 10ms --itl 50ms --tokens 100
echo "second Ctrl-C:             $(signalled "INT INT" 0.3 --url "$(url)" -c 2 -d 60s --grace 30s) (0.3 s between)"
echo "--grace 200ms:             $(signalled TERM 0 --url "$(url)" -c 2 -d 60s --grace 200ms)"
stop

t=$(now)
"$B" run --url "http://127.0.0.1:$(dead)" -c 4 -d 3s --quiet >/dev/null 2>&1 || true
echo "refused preflight:         $(since "$t") (-d 3s never starts)"
rm -rf "$out"
