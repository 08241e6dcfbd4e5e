/**
 * Captures UDP over IPv4 and prints addresses and ports: the course's
 * `udpdump` (filter "ip and udp", decode the IP and UDP headers).
 *
 *   deno run --allow-ffi examples/udp_dump.ts eth0
 */
import { LinkType, openLive } from "../mod.ts";
import { args, clock } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: udp_dump.ts DEVICE [--count N]

Prints "time len:N src.port -> dst.port" for each UDP/IPv4 packet on DEVICE.
  --count N   stop after N packets
`,
  { count: { type: "string" } },
  1,
);

const capture = openLive(positionals[0], { timeout: 100, filter: "ip and udp" });
if (capture.linkType !== LinkType.EN10MB) {
  console.error("This program works only on Ethernet networks.");
  process.exit(1);
}
process.on("SIGINT", () => capture.close());
const limit = Number(values.count ?? Infinity);
let seen = 0;
for await (const packet of capture) {
  const d = packet.data;
  const ip = 14; // Ethernet header
  const ihl = (d[ip] & 0x0f) * 4;
  const udp = ip + ihl;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const addr = (o: number): string => `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
  console.log(
    `${clock(packet.seconds, packet.nanoseconds)} len:${packet.length} ` +
      `${addr(ip + 12)}.${v.getUint16(udp)} -> ${addr(ip + 16)}.${v.getUint16(udp + 2)}`,
  );
  if (++seen >= limit) break;
}
capture.close();
