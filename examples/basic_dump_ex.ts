/**
 * Captures on a device by pulling packets one at a time: the course's
 * `basic_dump_ex` (`pcap_next_ex`). A null means the read timeout expired.
 *
 *   deno run --allow-ffi examples/basic_dump_ex.ts eth0 --count 10
 */
import { openLive } from "../mod.ts";
import { args, clock } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: basic_dump_ex.ts DEVICE [--count N]

Prints "time len:N" for every packet, reading with next() (pcap_next_ex).
  --count N   stop after N packets (default: run until Ctrl-C)
`,
  { count: { type: "string" } },
  1,
);

using capture = openLive(positionals[0], { promiscuous: true, timeout: 1000 });
const limit = Number(values.count ?? Infinity);
let seen = 0;
while (seen < limit) {
  const packet = capture.next();
  if (packet === null) continue; // the read timeout expired with no packet
  console.log(`${clock(packet.seconds, packet.nanoseconds)} len:${packet.length}`);
  seen++;
}
