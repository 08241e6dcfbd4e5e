#!/usr/bin/env bash
# Decode benchmark (called by bench/run.sh): TS read+decode vs C libpcap's bare pcap_next_ex loop.
# Prints the packets/s ratio on Deno and Bun. Env: COUNT (default 1000000), RUNS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-1000000}"
RUNS="${RUNS:-5}"
OUT=bench/out
mkdir -p "$OUT"
DENO="${DENO:-node_modules/.bin/deno}"
BUN="${BUN:-node_modules/.bin/bun}"
FILE="$OUT/decode-$COUNT.pcap"
LIBPCAP="${LIBPCAP:-/usr/lib/x86_64-linux-gnu/libpcap.so.0.8}"

if [ ! -s "$FILE" ]; then
  "$DENO" run -A bench/decode.ts --generate --count "$COUNT" "$FILE"
fi
gcc -O2 -o "$OUT/decode_baseline" bench/decode_baseline.c "$LIBPCAP"
read -r C_PACKETS C_SECONDS C_PPS _ < <("$OUT/decode_baseline" "$FILE" "$RUNS")
echo "C libpcap pcap_next_ex: $C_PACKETS packets in $C_SECONDS s = $(awk "BEGIN{printf \"%.2f\", $C_PPS/1e6}") Mpkt/s"
"$DENO" run -A bench/decode.ts --runs "$RUNS" --baseline "$C_PPS" "$FILE"
"$BUN" bench/decode.ts --runs "$RUNS" --baseline "$C_PPS" "$FILE"
# The same with this package's pure-TypeScript savefile reader (readBatches from the path, each
# record decoded in place with PacketDecoder.decodeRecord).
"$DENO" run -A bench/decode.ts --reader savefile --runs "$RUNS" --baseline "$C_PPS" "$FILE"
"$BUN" bench/decode.ts --reader savefile --runs "$RUNS" --baseline "$C_PPS" "$FILE"
