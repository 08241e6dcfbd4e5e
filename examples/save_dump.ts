/**
 * Captures on a device into a savefile: the course's `savedump`
 * (`pcap_dump_open`, `pcap_dump`). Ctrl-C flushes and closes the file.
 *
 *   deno run --allow-ffi examples/save_dump.ts eth0 out.pcap
 */
import { openLive } from "../mod.ts";
import { args } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: save_dump.ts DEVICE FILE [--count N] [--filter EXPR]

Writes the packets captured on DEVICE to FILE (pcap). Ctrl-C stops, flushes and closes.
  --count N      stop after N packets
  --filter EXPR  a BPF filter
`,
  { count: { type: "string" }, filter: { type: "string" } },
  2,
);

const [device, file] = positionals;
const capture = openLive(device, { timeout: 100, filter: values.filter as string | undefined });
const dumper = capture.dump(file);
const limit = Number(values.count ?? Infinity);
// Ctrl-C closes the capture: the loop below ends at once, even with no traffic.
process.on("SIGINT", () => capture.close());
let written = 0;
try {
  for await (const batch of capture.batches()) {
    for (const packet of batch) {
      if (written >= limit) break;
      dumper.write(packet);
      written++;
    }
    if (written >= limit) break;
  }
} finally {
  dumper.close();
  capture.close();
  console.error(`\n${written} packets written to ${file}`);
}
process.exit(0);
