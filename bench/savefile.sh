#!/usr/bin/env bash
# Savefile benchmark section (called by bench/run.sh): builds the libpcap C baseline, runs
# bench/savefile.ts on Deno and Bun (packets/s and ratio vs C), then the 2 GB streaming
# memory check (peak RSS < 100 MiB), deleting the big file afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=${DENO:-node_modules/.bin/deno}
BUN=${BUN:-node_modules/.bin/bun}
mkdir -p bench/out
gcc -O2 -o bench/out/savefile_baseline bench/savefile_baseline.c \
  /usr/lib/x86_64-linux-gnu/libpcap.so.0.8

# The C baseline and every measurement (each a child process of the runner) on one CPU, the
# last by default: the first also serves the host's interrupts (see bench/capture.sh).
PIN_CPU=${PIN_CPU:-$(($(nproc) - 1))}
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c "$PIN_CPU"); fi
echo "== savefile: read throughput (1M x 64-byte packets; best of 5)"
"${PIN[@]}" "$DENO" run -A bench/savefile.ts run
"${PIN[@]}" "$BUN" bench/savefile.ts run

if [ "${SAVEFILE_SKIP_MEM:-}" = "" ]; then
  echo "== savefile: streaming a 2 GB pcapng with readBatches"
  "$DENO" run -A bench/savefile.ts gen-big
  for rt in deno bun; do
    if [ $rt = deno ]; then cmd=("$DENO" run -A bench/savefile.ts mem); else cmd=("$BUN" bench/savefile.ts mem); fi
    /usr/bin/time -v "${cmd[@]}" 2> bench/out/savefile-mem-$rt.time
    echo "$rt  peak RSS (/usr/bin/time): $(awk '/Maximum resident/ {printf "%.0f MiB", $6/1024}' bench/out/savefile-mem-$rt.time)"
  done
  rm -f bench/out/savefile-2g.pcapng
fi
