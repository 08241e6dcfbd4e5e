/**
 * Captures on a device and prints the time stamp and length of each packet,
 * from a callback: the course's `basic_dump` (`pcap_loop`).
 *
 *   deno run --allow-ffi examples/basic_dump.ts eth0 --count 10
 *   bun examples/basic_dump.ts lo
 */
import { openLive } from "../mod.ts";
import { args, clock } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: basic_dump.ts DEVICE [--count N] [--filter EXPR]

Prints "time len:N" for every packet captured on DEVICE (pcap_loop with a callback).
  --count N      stop after N packets (default: run until Ctrl-C)
  --filter EXPR  a BPF filter, e.g. "tcp port 80"
`,
  { count: { type: "string" }, filter: { type: "string" } },
  1,
);

using capture = openLive(positionals[0], {
  promiscuous: true,
  timeout: 1000,
  filter: values.filter as string | undefined,
});
console.log(`listening on ${capture.device} (${capture.linkTypeName})...`);
capture.loop((packet) => {
  console.log(`${clock(packet.seconds, packet.nanoseconds)} len:${packet.length}`);
}, Number(values.count ?? -1));
