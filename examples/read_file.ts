/**
 * Reads a savefile through libpcap and prints every packet with a hex dump:
 * the course's `readfile` (`pcap_open_offline`).
 *
 *   deno run --allow-ffi --allow-read examples/read_file.ts capture.pcap
 */
import { openOffline } from "../mod.ts";
import { args, clock } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: read_file.ts FILE [--filter EXPR] [--no-hex]

Prints each packet of FILE: time stamp, length, and the bytes in hex.
  --filter EXPR  only the packets a BPF filter accepts
  --no-hex       headers only
`,
  { filter: { type: "string" }, "no-hex": { type: "boolean" } },
  1,
);

using capture = openOffline(positionals[0], { precision: "nano" });
if (values.filter) capture.setFilter(values.filter as string);
console.log(`${capture.linkTypeName ?? capture.linkType}, snaplen ${capture.snaplen}`);
for (let packet = capture.next(); packet; packet = capture.next()) {
  console.log(
    `${
      clock(packet.seconds, packet.nanoseconds)
    } (${packet.length} bytes, ${packet.caplen} captured)`,
  );
  if (values["no-hex"]) continue;
  const d = packet.data;
  for (let off = 0; off < d.length; off += 16) {
    const row = Array.from(d.subarray(off, off + 16), (b) => b.toString(16).padStart(2, "0"));
    console.log(`  ${off.toString(16).padStart(4, "0")}  ${row.join(" ")}`);
  }
}
