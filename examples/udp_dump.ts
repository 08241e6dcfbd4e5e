/**
 * Captures UDP and prints addresses and ports: the course's `udpdump`
 * (filter "ip and udp"), with the headers read by this package's decoders
 * instead of by hand. A reusable decoder allocates nothing per packet.
 *
 *   deno run --allow-ffi examples/udp_dump.ts eth0
 *   bun examples/udp_dump.ts lo --filter "udp port 53"
 */
import { openLive } from "../mod.ts";
import { PacketDecoder } from "../src/decode/mod.ts";
import { args, clock } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: udp_dump.ts DEVICE [--count N] [--filter EXPR]

Prints "time len:N src.port -> dst.port" for each UDP packet on DEVICE.
  --count N      stop after N packets
  --filter EXPR  the capture filter (default "ip and udp")
`,
  { count: { type: "string" }, filter: { type: "string" } },
  1,
);

const capture = openLive(positionals[0], {
  timeout: 100,
  filter: (values.filter as string | undefined) ?? "ip and udp",
});
process.on("SIGINT", () => capture.close());
const decoder = new PacketDecoder();
const limit = Number(values.count ?? Infinity);
let seen = 0;
for await (const packet of capture) {
  const udp = decoder.decode(packet.linkType, packet.data).udp;
  if (!udp?.ip) continue;
  console.log(
    `${clock(packet.seconds, packet.nanoseconds)} len:${packet.length} ` +
      `${udp.ip.srcString}.${udp.srcPort} -> ${udp.ip.dstString}.${udp.dstPort}`,
  );
  if (++seen >= limit) break;
}
capture.close();
