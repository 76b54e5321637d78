#!/usr/bin/env bash
# Builds the shipped binary: glibc's static libc (`crt-static`), linked at a fixed address
# (`relocation-model=static`: a static-pie's relocation table would cost 0.45 MB of the 15 MB
# deploy/check-static.sh allows), with the `dist` profile (whole-program LTO, no symbols).
# Output: target/x86_64-unknown-linux-gnu/dist/llmload. Extra arguments go to cargo (`--locked`).
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
    exec cargo build --profile dist --target x86_64-unknown-linux-gnu "$@"
