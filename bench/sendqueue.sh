#!/usr/bin/env bash
# Send-queue and statistics-engine benchmark (issue 6): @netcap/pcap under Deno and Bun
# against C programs built here with gcc (bench/sendqueue_baseline.c) and tcpreplay, on a veth
# pair between two network namespaces made here (root).
#
#   bash bench/sendqueue.sh
#
# 1. Unsynchronised transmit of N_FAST x 64-byte frames from namespace A: a C pcap_sendpacket
#    loop (frames in memory), SendQueue.transmit(), and `tcpreplay --topspeed` on the same file.
#    Best of ROUNDS for C and ours (tcpreplay: one run; its own figure).
# 2. Synchronised replay of an N_SYNC-packet file (gaps log-uniform in 10 us .. 1 ms):
#    SendQueue.transmit(sync) and tcpreplay (recorded speed), the gaps measured on the
#    receiving side by tcpdump in namespace B with nanosecond time stamps; median, p99 and
#    largest |gap error|. Each sender runs at nice $SYNC_NICE.
# 3. Statistics at the sender's top rate: a C pcap_sendpacket loop sends N_STATS frames (half
#    of them pass the filter); counted in B by two C pcap_dispatch loops (same filter, snaplen
#    14): "c" in immediate mode polled every 200 us, "c-batched" with libpcap's own batching
#    (read timeout 62 ms as openStatistics uses for a 250 ms interval, 16 MiB buffer, blocking
#    reads); and by openStatistics(); counts and CPU time per counted packet (total CPU /
#    packets, and the slope against a run on a tenth of the frames). Ratios are against the
#    cheaper of the two C loops.
#
# Environment: N_FAST (1000000), N_SYNC (10000), N_STATS (2000000), ROUNDS (3), DENO, BUN,
# LIBPCAP, SYNC_NICE (-10), STATS_ROUNDS (3), SPIN_MS (SendQueue's spinMs for the synchronised replay, default 2),
# PARTS ("1 2 3": which parts to run). Raw results: bench/out/sendqueue_results.jsonl; a table at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/_veth.sh

OUT=bench/out
DENO=${DENO:-node_modules/.bin/deno}
BUN=${BUN:-node_modules/.bin/bun}
if [ -z "${LIBPCAP:-}" ]; then
  for f in /usr/lib/x86_64-linux-gnu/libpcap.so.0.8 /usr/lib/*/libpcap.so.1 /usr/lib/*/libpcap.so.0.8; do
    if [ -e "$f" ]; then LIBPCAP=$f && break; fi
  done
fi
N_FAST=${N_FAST:-1000000}
N_SYNC=${N_SYNC:-10000}
N_STATS=${N_STATS:-2000000}
ROUNDS=${ROUNDS:-3}
SYNC_NICE=${SYNC_NICE:--10}
PARTS=${PARTS:-1 2 3}
part() { [[ " $PARTS " == *" $1 "* ]]; }
JS=bench/sendqueue_bench.ts
C=$OUT/sendqueue_baseline
mkdir -p "$OUT"
RESULTS=$OUT/sendqueue_results.jsonl
: >"$RESULTS"
log() { echo "[sendqueue.sh] $*" >&2; }
record() { echo "{\"kind\":\"$1\",\"impl\":\"$2\",\"result\":$3}" >>"$RESULTS"; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
command -v tcpreplay >/dev/null && command -v tcpdump >/dev/null ||
  { echo "needs tcpreplay and tcpdump" >&2; exit 1; }

log "building the C baseline against $LIBPCAP"
gcc -O2 -Wall -o "$C" bench/sendqueue_baseline.c "$LIBPCAP" -lm
FAST=$OUT/sendqueue_fast_$N_FAST.pcap
SYNC=$OUT/sendqueue_sync_$N_SYNC.pcap
MIX=$OUT/sendqueue_mix_$N_STATS.pcap
[ -s "$FAST" ] || "$C" gen "$FAST" "$N_FAST" 64
[ -s "$SYNC" ] || "$C" gengaps "$SYNC" "$N_SYNC" 1
[ -s "$MIX" ] || "$C" genmix "$MIX" "$N_STATS"

TAG=ncsq$$
NSA=${TAG}a
NSB=${TAG}b
TCPDUMP_PID=
cleanup() {
  [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
  ip netns del "$NSA" 2>/dev/null || true
  ip netns del "$NSB" 2>/dev/null || true
}
trap cleanup EXIT
make_veth_pair "$TAG"
inA() { ip netns exec "$NSA" "$@"; }
inB() { ip netns exec "$NSB" "$@"; }
# The command line that runs bench/sendqueue_bench.ts with a runtime (no spaces in paths).
js() { if [ "$1" = deno ]; then echo "$DENO run --allow-all --no-check $JS"; else echo "$BUN $JS"; fi; }

# --- 1. unsynchronised transmit ---------------------------------------------------------
if part 1; then
log "1. transmit $N_FAST x 64-byte frames on vA, best of $ROUNDS"
r=$(inA "$C" send vA "$FAST" "$ROUNDS"); record fast c "$r"; log "  c: $r"
for impl in deno bun; do
  r=$(inA $(js "$impl") transmit vA "$FAST" "$ROUNDS")
  record fast "$impl" "$r"; log "  $impl: $r"
done
t=$(inA tcpreplay --topspeed -i vA "$FAST" 2>&1)
pps=$(sed -n 's/.*Rated: .* \([0-9.]*\) pps.*/\1/p' <<<"$t" | head -1)
secs=$(sed -n 's/.*Actual: \([0-9]*\) packets .* sent in \([0-9.]*\) seconds.*/\2/p' <<<"$t" | head -1)
record fast tcpreplay "{\"packets\":$N_FAST,\"pps\":${pps:-0},\"ms\":$(awk "BEGIN{print ${secs:-0}*1000}")}"
log "  tcpreplay --topspeed: $pps pps"
fi

# --- 2. synchronised replay -------------------------------------------------------------
if part 2; then
log "2. synchronised replay of $N_SYNC packets, gaps measured by tcpdump in B (nanoseconds)"
for impl in deno bun tcpreplay; do
  capf=$OUT/sendqueue_sync_$impl.pcap
  rm -f "$capf" "$OUT/tcpdump.err"
  # (ip netns exec execs tcpdump: $! is tcpdump's pid.)
  ip netns exec "$NSB" tcpdump -i vB -Q in -s 64 -B 65536 --time-stamp-precision=nano --immediate-mode \
    -w "$capf" ether proto 0x88b5 2>"$OUT/tcpdump.err" &
  TCPDUMP_PID=$!
  for _ in $(seq 100); do grep -q listening "$OUT/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
  case $impl in
    tcpreplay) sent=$(inA nice -n "$SYNC_NICE" tcpreplay -i vA "$SYNC" 2>&1 | tr '\n' ' ') ;;
    *) sent=$(inA nice -n "$SYNC_NICE" $(js "$impl") transmit vA "$SYNC" 1 sync) ;;
  esac
  sleep 1
  kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true
  TCPDUMP_PID=
  g=$("$DENO" run --allow-all --no-check "$JS" gaps "$SYNC" "$capf")
  record sync "$impl" "$g"
  log "  $impl: $g"
  [ "$impl" = tcpreplay ] || log "    sender: $sent"
done
fi

# --- 3. statistics at the sender's top rate ---------------------------------------------
# Each counter runs twice per round, on the full mix and on a tenth of it: CPU per packet is given
# both as total CPU / packets (start-up, JIT compilation and the idle tail included) and as the
# slope between the two runs (what one more packet costs), for C and for us alike; the table
# shows the median over STATS_ROUNDS rounds (3) and the range.
if part 3; then
MIX_SMALL=$OUT/sendqueue_mix_$((N_STATS / 10)).pcap
# Busy CPU time of the whole machine (every core, every process and the kernel), in ns: the
# user, nice, system, irq, softirq and steal columns of /proc/stat, in USER_HZ ticks.
machine_cpu_ns() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * (1e9 / hz); exit }' /proc/stat
}
[ -s "$MIX_SMALL" ] || "$C" genmix "$MIX_SMALL" "$((N_STATS / 10))"
log "3. statistics: $N_STATS (and $((N_STATS / 10))) frames at the C sender's top rate, filter 'ether proto 0x88b5'"
for round in $(seq "${STATS_ROUNDS:-3}"); do
for size in small full; do
  mix=$MIX
  n=$N_STATS
  if [ "$size" = small ]; then mix=$MIX_SMALL && n=$((N_STATS / 10)); fi
  for impl in c c-batched deno bun deno-ring bun-ring; do
    f=$OUT/sendqueue_stats_$impl.out
    : >"$f"
    case $impl in
      c) inB "$C" count vB "ether proto 0x88b5" 14 500 >"$f" & ;;
      c-batched) inB "$C" count vB "ether proto 0x88b5" 14 500 62 >"$f" & ;;
      *-ring) inB $(js "${impl%-ring}") stats vB "ether proto 0x88b5" 250 ring >"$f" & ;;
      *) inB $(js "$impl") stats vB "ether proto 0x88b5" 250 >"$f" & ;;
    esac
    pid=$!
    for _ in $(seq 300); do grep -q '^ready$' "$f" && break; sleep 0.05; done
    sleep 0.2
    m0=$(machine_cpu_ns)
    s=$(inA "$C" send vA "$mix" 1)
    wait "$pid"
    m1=$(machine_cpu_ns)
    r=$(grep -v '^ready$' "$f")
    kind=stats
    [ "$size" = small ] && kind=stats-small
    record "$kind" "$impl" "{\"sender\":$s,\"count\":$r,\"machineNs\":$((m1 - m0)),\"expect\":{\"packets\":$((n / 2)),\"bytes\":$((n / 2 * 64))}}"
    log "  $impl ($size, round $round): sender $s count $r"
  done
done
done
fi

"$DENO" run --allow-all --no-check - "$RESULTS" <<'TS'
import { readFileSync } from "node:fs";
const rows = readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const get = (kind: string, impl: string) => rows.find((r) => r.kind === kind && r.impl === impl)?.result;
const c = get("fast", "c");
console.log("\n| unsynchronised transmit, 64-byte frames | packets/s | vs C |\n| --- | ---: | ---: |");
for (const impl of ["c", "deno", "bun", "tcpreplay"]) {
  const r = get("fast", impl);
  if (r) console.log(`| ${impl} | ${Math.round(r.pps)} | ${(r.pps / c.pps).toFixed(2)}x |`);
}
console.log("\n| synchronised replay | gaps | lost | median |err| µs | p99 µs | max µs |\n| --- | ---: | ---: | ---: | ---: | ---: |");
for (const impl of ["deno", "bun", "tcpreplay"]) {
  const r = get("sync", impl);
  if (r) console.log(`| ${impl} | ${r.n} | ${r.missing} | ${r.medianUs} | ${r.p99Us} | ${r.maxUs} |`);
}
console.log("\n| statistics at top rate (median of rounds) | counter | sent pps | counted = expected, every run | CPU ns/packet (total) | vs cheaper C | CPU ns/packet (slope) | vs cheaper C | slope range | machine CPU ns / frame sent |\n| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
const all = (kind: string, impl: string) => rows.filter((r) => r.kind === kind && r.impl === impl).map((r) => r.result);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// Per round: [total CPU per packet of the full run, slope between the small and the full run].
const perRound = (impl: string): [number, number][] => {
  const full = all("stats", impl), small = all("stats-small", impl);
  return full.map((r, i) => {
    const s = small[i];
    const total = r.count.cpuNs / r.count.packets;
    const slope = s ? (r.count.cpuNs - s.count.cpuNs) / (r.count.packets - s.count.packets) : NaN;
    return [total, slope];
  });
};
const cImpls = ["c", "c-batched"].filter((i) => all("stats", i).length > 0);
const cTotal = Math.min(...cImpls.map((i) => median(perRound(i).map((x) => x[0]))));
const cSlope = Math.min(...cImpls.map((i) => median(perRound(i).map((x) => x[1]))));
for (const impl of ["c", "c-batched", "deno", "bun", "deno-ring", "bun-ring"]) {
  const runs = [...all("stats", impl), ...all("stats-small", impl)];
  if (runs.length === 0) continue;
  const exact = runs.every((r) => r.count.packets === r.expect.packets && r.count.bytes === r.expect.bytes);
  const pr = perRound(impl);
  const total = median(pr.map((x) => x[0])), slope = median(pr.map((x) => x[1]));
  const slopes = pr.map((x) => x[1]);
  const pps = median(all("stats", impl).map((r) => r.sender.pps));
  const counter = runs[0].count.counter ?? "C loop";
  // The whole machine's busy CPU (the sender, the kernel's receive path, the counter) per frame
  // sent, full runs: where counting moved into the kernel, its cost shows here.
  const machine = median(all("stats", impl).map((r) => r.machineNs / r.sender.packets));
  console.log(`| ${impl} | ${counter} | ${Math.round(pps)} | ${exact} (${runs.length} runs) | ${total.toFixed(0)} | ${(total / cTotal).toFixed(2)}x | ${slope.toFixed(0)} | ${(slope / cSlope).toFixed(2)}x | ${Math.min(...slopes).toFixed(0)}-${Math.max(...slopes).toFixed(0)} | ${machine.toFixed(0)} |`);
}
TS
