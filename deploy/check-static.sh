#!/usr/bin/env bash
# Checks the static dist binary: size ≤ 15 MB, `file` says statically linked, and it runs `demo`,
# `mock` and a run against that mock inside an empty root filesystem (only the binary: no /proc,
# /dev, /etc, libc or CA files), as it would in a `FROM scratch` image. Needs root (chroot).
# Usage: deploy/check-static.sh [BINARY]  (default: the `cargo build --profile dist` static output)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/x86_64-unknown-linux-gnu/dist/llmload}
size=$(stat -c %s "$bin")
echo "size: $size bytes"
[ "$size" -le 15000000 ] || { echo "the binary is over 15 MB" >&2; exit 1; }
kind=$(file -b "$bin")
echo "file: $kind"
case "$kind" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "the binary is not statically linked" >&2; exit 1 ;;
esac
root=$(mktemp -d)
mock_pid=""
cleanup() {
    if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
    rm -rf "$root"
}
trap cleanup EXIT
cp "$bin" "$root/llmload"
echo "== demo in an empty root"
timeout 60 chroot "$root" /llmload demo -d 2s -c 4 -q >"$root/demo.out" 2>&1 || { cat "$root/demo.out"; exit 1; }
grep -q "Accuracy against the mock" "$root/demo.out"
echo "== mock and a run against it in an empty root"
# Port 0: the mock picks a free one and says which.
chroot "$root" /llmload mock --port 0 --ttft 5ms --itl 1ms --tokens 8 >"$root/mock.out" 2>&1 &
mock_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's|^llmload mock listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$root/mock.out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "the mock did not start" >&2; cat "$root/mock.out"; exit 1; }
timeout 60 chroot "$root" /llmload run --url "http://127.0.0.1:$port" --api openai-chat -c 4 -n 20 -q \
    --records /rec.jsonl --json /out.json >"$root/run.out" 2>&1 || { cat "$root/run.out" "$root/mock.out"; exit 1; }
[ "$(wc -l <"$root/rec.jsonl")" -eq 20 ] || { echo "expected 20 records" >&2; cat "$root/run.out"; exit 1; }
grep -q '"ok": *20' "$root/out.json" || { echo "expected 20 ok requests" >&2; cat "$root/out.json"; exit 1; }
if grep -qi "panicked" "$root"/*.out; then cat "$root"/*.out; exit 1; fi
echo "static binary ok: demo, mock and run work in an empty root"
