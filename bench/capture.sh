#!/usr/bin/env bash
# Capture-core benchmark (issue 3): libpcap through @netcap/pcap under Deno and
# Bun against C programs doing the same, built here with gcc.
#
#   bash bench/capture.sh            (root: the live and inject parts make network namespaces)
#
# 1. Offline read of N_READ x 64-byte packets: C pcap_next_ex loop vs next()
#    (plus batches() and dispatch() for information).
# 2. Live capture on a veth pair between two namespaces made here: a C
#    pcap_inject sender at its top rate in namespace A, the capture in B
#    (C pcap_dispatch loop vs batches(), columnBatches(), columnBatches({ reuse: true }) and
#    nextBatch({ reuse: true })); drops and CPU
#    time per packet.
# 3. Inject: N_INJECT x 64-byte frames, C pcap_inject loop vs inject().
#
# Environment: N_READ (1000000), N_LIVE (2000000), N_INJECT (1000000), PIN_CPU (the CPU of
# the offline and inject loops: the last),
# ROUNDS (5: best of, for the rates), LIVE_ROUNDS (3: median, for the live CPU), LIVE_IMPLS
# (which live readers, default all: c deno bun deno-columns … bun-sync),
# LIBPCAP (path of libpcap.so), DENO, BUN (the runtimes), NICE (-5: the
# priority of the measured processes; 0 to leave it).
# Raw results: bench/out/capture_results.jsonl. Takes about 2-3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/_veth.sh

OUT=bench/out
DENO=${DENO:-node_modules/.bin/deno}
BUN=${BUN:-node_modules/.bin/bun}
if [ -z "${LIBPCAP:-}" ]; then
  for f in /usr/lib/x86_64-linux-gnu/libpcap.so.0.8 /usr/lib/*/libpcap.so.1 /usr/lib/*/libpcap.so.0.8 \
    /usr/lib/libpcap.so.1 /usr/lib64/libpcap.so.1; do
    if [ -e "$f" ]; then LIBPCAP=$f && break; fi
  done
fi
N_READ=${N_READ:-1000000}
N_LIVE=${N_LIVE:-2000000}
N_INJECT=${N_INJECT:-1000000}
ROUNDS=${ROUNDS:-5}
LIVE_ROUNDS=${LIVE_ROUNDS:-3}
LIVE_IMPLS=${LIVE_IMPLS:-c deno bun deno-columns bun-columns deno-reuse bun-reuse deno-sync bun-sync}
NICE=${NICE:--5}
# Live capture options, the same for C and for us: non-immediate (TPACKET_V3
# blocks) with a short timeout.
SNAPLEN=${SNAPLEN:-256}
BUFSIZE=${BUFSIZE:-$((16 << 20))}
TIMEOUT_MS=${TIMEOUT_MS:-10}
IDLE_MS=${IDLE_MS:-1000}

mkdir -p "$OUT"
RESULTS=${RESULTS:-$OUT/capture_results.jsonl}
: >"$RESULTS"
C=$OUT/capture_baseline
PCAP=$OUT/capture_${N_READ}.pcap
run_nice() { if [ "$NICE" != 0 ]; then nice -n "$NICE" "$@"; else "$@"; fi; }
# The single-threaded loops (offline read, inject), C and ours alike, run on one CPU: the
# last one by default. On this 2-core VM the first CPU also serves the host's interrupts:
# there, the same Deno next() loop measured 5.2-8.8 M/s from process to process, against
# 8.8-9.1 M/s on the other.
PIN_CPU=${PIN_CPU:-$(($(nproc) - 1))}
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c "$PIN_CPU"); fi
deno_run() { "$DENO" run --allow-all --no-check "$@"; }
JS=${JS:-bench/capture_bench.ts}
record() { # kind impl json
  echo "{\"kind\":\"$1\",\"impl\":\"$2\",\"result\":$3}" >>"$RESULTS"
}
log() { echo "[capture.sh] $*" >&2; }

[ -n "$LIBPCAP" ] || { echo "libpcap not found: set LIBPCAP" >&2; exit 1; }
log "building the C baseline against $LIBPCAP"
gcc -O2 -Wall -o "$C" bench/capture_baseline.c "$LIBPCAP"
"$C" gen "$PCAP" "$N_READ"

# --- 1. offline read -------------------------------------------------------
log "offline read: $N_READ packets, best of $ROUNDS"
for impl in c c-unlocked deno bun; do
  case $impl in
    c) r=$(run_nice "${PIN[@]}" "$C" read "$PCAP" "$ROUNDS") ;;
    c-unlocked) r=$(run_nice "${PIN[@]}" "$C" read "$PCAP" "$ROUNDS" unlocked) ;;
    deno) r=$(run_nice "${PIN[@]}" "$DENO" run --allow-all --no-check "$JS" read "$PCAP" "$ROUNDS") ;;
    bun) r=$(run_nice "${PIN[@]}" "$BUN" "$JS" read "$PCAP" "$ROUNDS") ;;
  esac
  record read "$impl" "$r"
done

# --- namespaces ------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
  log "not root: skipping the live and inject measurements"
else
  TAG=ncb$$
  NSA=${TAG}a
  NSB=${TAG}b
  cleanup() {
    ip netns del "$NSA" 2>/dev/null || true
    ip netns del "$NSB" 2>/dev/null || true
  }
  trap cleanup EXIT
  make_veth_pair "$TAG"
  inA() { run_nice ip netns exec "$NSA" "$@"; }
  inB() { run_nice ip netns exec "$NSB" "$@"; }

  # --- 3. inject -----------------------------------------------------------
  log "inject: $N_INJECT frames on a veth end, best of 3"
  for impl in c deno bun; do
    case $impl in
      c) r=$(inA "${PIN[@]}" "$C" inject vA "$N_INJECT" 3) ;;
      deno) r=$(inA "${PIN[@]}" "$DENO" run --allow-all --no-check "$JS" inject vA "$N_INJECT" 3) ;;
      bun) r=$(inA "${PIN[@]}" "$BUN" "$JS" inject vA "$N_INJECT" 3) ;;
    esac
    record inject "$impl" "$r"
  done

  # --- 2. live capture -----------------------------------------------------
  log "live capture: $N_LIVE frames, $LIVE_ROUNDS rounds (snaplen $SNAPLEN, buffer $BUFSIZE, timeout ${TIMEOUT_MS} ms)"
  args=(vB "$N_LIVE" "$SNAPLEN" "$BUFSIZE" "$TIMEOUT_MS" "$IDLE_MS")
  for round in $(seq "$LIVE_ROUNDS"); do
    for impl in $LIVE_IMPLS; do
      f=$OUT/capture_live_$impl.out
      : >"$f"
      case $impl in
        c) inB "$C" capture "${args[@]}" >"$f" &;;
        deno) inB "$DENO" run --allow-all --no-check "$JS" capture "${args[@]}" >"$f" &;;
        bun) inB "$BUN" "$JS" capture "${args[@]}" >"$f" &;;
        deno-columns) inB "$DENO" run --allow-all --no-check "$JS" capture "${args[@]}" columns >"$f" &;;
        bun-columns) inB "$BUN" "$JS" capture "${args[@]}" columns >"$f" &;;
        deno-reuse) inB "$DENO" run --allow-all --no-check "$JS" capture "${args[@]}" reuse >"$f" &;;
        bun-reuse) inB "$BUN" "$JS" capture "${args[@]}" reuse >"$f" &;;
        deno-sync) inB "$DENO" run --allow-all --no-check "$JS" capture "${args[@]}" sync >"$f" &;;
        bun-sync) inB "$BUN" "$JS" capture "${args[@]}" sync >"$f" &;;
      esac
      pid=$!
      for _ in $(seq 300); do
        grep -q '^ready$' "$f" && break
        sleep 0.05
      done
      grep -q '^ready$' "$f" || { log "$impl capture did not start"; kill "$pid"; exit 1; }
      sleep 0.2
      sent=$(inA "$C" inject vA "$N_LIVE" 1)
      wait "$pid"
      r=$(grep -v '^ready$' "$f")
      record live "$impl" "{\"round\":$round,\"sender\":$sent,\"capture\":$r}"
      log "  round $round $impl: sender $sent capture $r"
    done
  done
fi

deno_run bench/capture_report.ts "$RESULTS"
