#!/usr/bin/env bash
# Profile-guided release build of the sheepdog binary.
#
#   bench/pgo-build.sh            # writes target/pgo/sheepdog
#
# Needs llvm-profdata of the same LLVM major version as rustc (`rustc -vV` names it; on Debian
# 12 with rustc 1.95, `apt-get install llvm-22`), or LLVM_PROFDATA pointing at one.
#
# 1. Builds an instrumented binary (its own target directory; `--target` keeps the flags off
#    build scripts and proc-macros, which would otherwise write profiles too).
# 2. Trains it on work it does in production: `score` over generated load, `eval` over the
#    simulator's labelled campaigns (seed 11: not the benchmarks' seed 5), `serve` answering
#    single events and batches over HTTP (curl), and `text scan`. Code never run in training
#    is laid out as cold, so every path a deployment leans on must be in the training.
# 3. Merges the profiles and builds the final binary with them.
#
# The output decides exactly as `cargo build --release` does (the profile changes code layout
# and inlining, never behaviour); BENCHMARKS.md records both builds' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/pgo
# Training must not touch an operator's configured data directory.
unset SHEEPDOG_CONFIG
host=$(rustc -vV | sed -n 's/^host: //p')
llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
rustup_profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
profdata=${LLVM_PROFDATA:-$(command -v "llvm-profdata-$llvm_major" || true)}
if [ -z "$profdata" ] && [ -x "$rustup_profdata" ]; then
    profdata=$rustup_profdata
fi
if [ -z "$profdata" ]; then
    echo "pgo-build: needs llvm-profdata for LLVM $llvm_major (Debian: apt-get install llvm-$llvm_major; rustup: rustup component add llvm-tools), or LLVM_PROFDATA=/path" >&2
    exit 2
fi
command -v curl > /dev/null || { echo "pgo-build: needs curl (to train the HTTP server)" >&2; exit 2; }

rm -rf "$work/profiles" "$work/train"
mkdir -p "$work/profiles" "$work/train"

echo "== 1/3 instrumented build"
RUSTFLAGS="-Cprofile-generate=$work/profiles" \
    cargo build --release --locked -p sheepdog --target "$host" --target-dir "$work/gen"
bin=$work/gen/$host/release/sheepdog
train=$work/train

echo "== 2/3 training"
"$bin" gen-load --count 200000 --seed 11 > "$train/load.ndjson"
"$bin" sim --seed 11 --out "$train/sim.ndjson" --truth "$train/truth.ndjson"
"$bin" score "$train/load.ndjson" > /dev/null
# (eval runs the engine over the campaigns, as score would.)
"$bin" eval --events "$train/sim.ndjson" --truth "$train/truth.ndjson" > /dev/null
cat crates/sheepdog-text/tests/data/honest.txt crates/sheepdog-text/tests/data/spam.txt | "$bin" text scan > /dev/null

# The server: single events and batches, on a free port, then a graceful stop.
port=$((20000 + RANDOM % 20000))
"$bin" serve --listen "127.0.0.1:$port" > "$train/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break
    sleep 0.1
done
if ! kill -0 "$server" 2> /dev/null || ! curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; then
    echo "pgo-build: the training server did not come up on port $port (see $train/serve.log)" >&2
    exit 1
fi
head -n 3000 "$train/sim.ndjson" | while IFS= read -r line; do
    printf '%s' "$line" | curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @- "http://127.0.0.1:$port/v1/events" ||
        { echo "pgo-build: the training server refused an event (see $train/serve.log)" >&2; exit 1; }
done
head -n 20000 "$train/load.ndjson" | split -l 500 - "$train/batch-"
for f in "$train"/batch-*; do
    curl -sf -o /dev/null -X POST -H 'Content-Type: application/x-ndjson' \
        --data-binary "@$f" "http://127.0.0.1:$port/v1/events:batch" ||
        { echo "pgo-build: the training server refused batch $f (see $train/serve.log)" >&2; exit 1; }
done
# The server must have decided them (else the profile would miss its whole path).
metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
decided=$(printf '%s\n' "$metrics" | awk '/^sheepdog_decisions_total\{/ { n += $NF } END { print n + 0 }')
if [ "$decided" -lt 20000 ]; then
    echo "pgo-build: the training server decided $decided events, fewer than its 20,000 batched ones (see $train/serve.log)" >&2
    exit 1
fi
kill -TERM "$server"
wait "$server" || true
trap - EXIT

echo "== 3/3 optimised build"
"$profdata" merge -o "$work/sheepdog.profdata" "$work/profiles"
RUSTFLAGS="-Cprofile-use=$work/sheepdog.profdata" \
    cargo build --release --locked -p sheepdog --target "$host" --target-dir "$work/use"
cp "$work/use/$host/release/sheepdog" "$work/sheepdog"
echo "pgo-build: $work/sheepdog"
