#!/usr/bin/env bash
# Remote-capture (rpcap) throughput benchmark (issue 7): the highest rate of 64-byte frames a
# server -> client pair carries with no loss, over loopback, for
#   a      libpcap's rpcapd -> libpcap's client (C: pcap_open + pcap_next_ex)   the baseline
#   b-RT   our serveRemote on RT (deno, bun) -> libpcap's client
#   c-RT   rpcapd -> our client on RT (connectRemote + batches())
# with ratios b/a and c/a (target >= 0.9).
#
#   bash bench/remote.sh        (root: makes a network namespace)
#
# Everything runs in one namespace made here: a veth pair vA/vB; the servers capture vB
# and listen on 127.0.0.1; a C pcap_inject sender paced at a fixed rate sends N frames on vA
# (EtherType 0x88b5; the clients filter on it). A trial passes when the client receives all
# N. The rate starts at RATE0 and grows by x1.5 while trials pass, then is bisected
# BISECT times between the last pass and the first failure; the reported figure is the
# highest passing rate, best of ROUNDS searches (the configurations take turns). A trial
# whose sender fell more than 3% behind its rate (an overloaded machine) counts as failed. Servers and clients use the same settings: snaplen 256, read
# timeout 10 ms, libpcap's default 2 MB buffer, TCP data channel.
#
# Environment: DURATION (seconds of traffic per trial, 2), RATE0 (40000), BISECT (3), ROUNDS (2),
# MAX_RATE (cap, default: 90% of the sender's measured top rate), IDLE_MS (700),
# CONFIGS ("a b-deno b-bun c-deno c-bun"), DENO, BUN, PCAP_REMOTE_PREFIX (the remote-enabled
# libpcap, built by ../shared/tools/libpcap-remote/build.sh when missing).
# Raw results: bench/out/remote_results.jsonl. Takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
DENO=$(realpath "${DENO:-node_modules/.bin/deno}")
BUN=$(realpath "${BUN:-node_modules/.bin/bun}")
PREFIX=${PCAP_REMOTE_PREFIX:-/tmp/libpcap-remote}
DURATION=${DURATION:-2}
RATE0=${RATE0:-40000}
BISECT=${BISECT:-3}
IDLE_MS=${IDLE_MS:-700}
ROUNDS=${ROUNDS:-2}
CONFIGS=${CONFIGS:-a b-deno b-bun c-deno c-bun}
JS=bench/remote_bench.ts
C=$OUT/remote_baseline
mkdir -p "$OUT"
RESULTS=${RESULTS:-$OUT/remote_results.jsonl}
: >"$RESULTS"
log() { echo "[remote.sh] $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "not root: skipped (needs a network namespace and live capture)"
  exit 0
fi
if [ ! -e "$PREFIX/lib/libpcap.so.1" ] || [ ! -e "$PREFIX/sbin/rpcapd" ]; then
  log "building the remote-enabled libpcap into $PREFIX"
  bash ../shared/tools/libpcap-remote/build.sh "$PREFIX" >/dev/null
fi
log "building the C client and sender against $PREFIX"
gcc -O2 -Wall -o "$C" bench/remote_baseline.c -I"$PREFIX/include" -L"$PREFIX/lib" \
  -Wl,-rpath,"$PREFIX/lib" -lpcap

NS=rmb$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link add vA type veth peer name vB
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
for i in lo vA vB; do ip -n "$NS" link set "$i" up; done
in_ns() { ip netns exec "$NS" "$@"; }

wait_line() { # file line seconds
  for _ in $(seq $(($3 * 20))); do
    grep -qx "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# --- servers (all up for the whole run; idle unless a client captures) -----------------
P_RPCAPD=2002 P_DENO=2003 P_BUN=2004
in_ns "$PREFIX/sbin/rpcapd" -n -b 127.0.0.1 -p $P_RPCAPD >/dev/null 2>&1 &
PIDS+=($!)
in_ns "$DENO" run --allow-all --no-check "$JS" server $P_DENO vB >"$OUT/remote_srv_deno.out" 2>&1 &
PIDS+=($!)
in_ns "$BUN" "$JS" server $P_BUN vB >"$OUT/remote_srv_bun.out" 2>&1 &
PIDS+=($!)
wait_line "$OUT/remote_srv_deno.out" ready 30 || { log "our Deno server did not start"; exit 1; }
wait_line "$OUT/remote_srv_bun.out" ready 30 || { log "our Bun server did not start"; exit 1; }
for _ in $(seq 100); do
  in_ns ss -Hltn "sport = :$P_RPCAPD" | grep -q . && break
  sleep 0.05
done

# --- the sender's top rate (nobody capturing) ------------------------------------------
top=$(in_ns "$C" send vA 1000000 0 | sed 's/.*"pps":\([0-9]*\).*/\1/')
MAX_RATE=${MAX_RATE:-$((top * 9 / 10))}
log "sender top rate ${top} pps; rates capped at $MAX_RATE"
echo "{\"kind\":\"sender\",\"pps\":$top}" >>"$RESULTS"

# --- one trial: 0 = no loss --------------------------------------------------------------
trial() { # config rate
  local cfg=$1 rate=$2 n f port cmd pid r
  n=$((rate * DURATION))
  f=$OUT/remote_client.out
  : >"$f"
  case $cfg in
    a) cmd=("$C" client "rpcap://127.0.0.1:$P_RPCAPD/vB" "$n" "$IDLE_MS") ;;
    b-deno) cmd=("$C" client "rpcap://127.0.0.1:$P_DENO/vB" "$n" "$IDLE_MS") ;;
    b-bun) cmd=("$C" client "rpcap://127.0.0.1:$P_BUN/vB" "$n" "$IDLE_MS") ;;
    c-deno) cmd=("$DENO" run --allow-all --no-check "$JS" client 127.0.0.1 $P_RPCAPD vB "$n" "$IDLE_MS") ;;
    c-bun) cmd=("$BUN" "$JS" client 127.0.0.1 $P_RPCAPD vB "$n" "$IDLE_MS") ;;
  esac
  in_ns "${cmd[@]}" >"$f" 2>>"$OUT/remote_client.err" &
  pid=$!
  if ! wait_line "$f" ready 30; then
    log "$cfg: client did not start"; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 2
  fi
  sleep 0.3
  s=$(in_ns "$C" send vA "$n" "$rate")
  wait "$pid" || true
  r=$(grep -v '^ready$' "$f" | tail -1)
  [ -n "$r" ] || r='{"received":0}'
  echo "{\"kind\":\"trial\",\"config\":\"$cfg\",\"rate\":$rate,\"n\":$n,\"sender\":$s,\"client\":$r}" >>"$RESULTS"
  got=$(echo "$r" | sed 's/.*"received":\([0-9]*\).*/\1/')
  spps=$(echo "$s" | sed 's/.*"pps":\([0-9]*\).*/\1/')
  log "  $cfg @ $rate pps: $got / $n (sender at $spps pps)"
  [ "$got" -ge "$n" ] && [ $((spps * 100)) -ge $((rate * 97)) ]
}

search() { # config -> prints the highest passing rate
  local cfg=$1 lo=0 hi=0 rate=$RATE0 i
  while :; do
    if trial "$cfg" "$rate"; then
      lo=$rate
      [ "$rate" -ge "$MAX_RATE" ] && break
      rate=$((rate * 3 / 2))
      [ "$rate" -gt "$MAX_RATE" ] && rate=$MAX_RATE
    else
      hi=$rate
      break
    fi
  done
  if [ "$hi" -gt 0 ]; then
    [ "$lo" -eq 0 ] && lo=$((RATE0 / 4)) && { trial "$cfg" "$lo" || lo=0; }
    for i in $(seq "$BISECT"); do
      rate=$(((lo + hi) / 2))
      if trial "$cfg" "$rate"; then lo=$rate; else hi=$rate; fi
    done
  fi
  echo "$lo"
}

# Rounds interleave the configurations, so that a busy moment of a shared machine does not
# hit one of them only; each keeps its best round.
declare -A best
for round in $(seq "$ROUNDS"); do
  for cfg in $CONFIGS; do
    log "round $round: $cfg"
    r=$(search "$cfg")
    echo "{\"kind\":\"search\",\"round\":$round,\"config\":\"$cfg\",\"pps\":$r}" >>"$RESULTS"
    [ "$r" -gt "${best[$cfg]:-0}" ] && best[$cfg]=$r
  done
done
for cfg in $CONFIGS; do
  echo "{\"kind\":\"best\",\"config\":\"$cfg\",\"pps\":${best[$cfg]}}" >>"$RESULTS"
done

echo
echo "Remote capture over loopback, 64-byte frames: highest rate with no loss (pps)"
echo "(sender top rate $top pps; cap $MAX_RATE; $DURATION s per trial; best of $ROUNDS)"
printf '  %-8s %-34s %10s %8s\n' config "server -> client" pps "vs a"
a=${best[a]:-0}
for cfg in $CONFIGS; do
  case $cfg in
    a) what="rpcapd -> libpcap (C)" ;;
    b-*) what="ours (${cfg#b-}) -> libpcap (C)" ;;
    c-*) what="rpcapd -> ours (${cfg#c-})" ;;
  esac
  ratio=n/a
  [ "$a" -gt 0 ] && ratio=$(awk -v x="${best[$cfg]}" -v y="$a" 'BEGIN { printf "%.2fx", x / y }')
  printf '  %-8s %-34s %10s %8s\n' "$cfg" "$what" "${best[$cfg]}" "$ratio"
done
