/**
 * Sends one raw Ethernet frame: the course's `sendpack` (`pcap_sendpacket`):
 * destination 01:01:01:01:01:01, source 02:02:02:02:02:02, the rest filled
 * with a counting pattern.
 *
 *   deno run --allow-ffi examples/send_packet.ts lo
 */
import { openLive } from "../mod.ts";
import { args } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: send_packet.ts DEVICE [--size N] [--count N]

Sends a raw frame (dst 01:01:01:01:01:01, src 02:02:02:02:02:02) on DEVICE.
  --size N    frame size in bytes (default 100)
  --count N   how many times (default 1)
`,
  { size: { type: "string" }, count: { type: "string" } },
  1,
);

const size = Number(values.size ?? 100);
const count = Number(values.count ?? 1);
if (!Number.isInteger(size) || size < 14) throw new RangeError("--size must be an integer >= 14");
const frame = new Uint8Array(size);
frame.fill(1, 0, 6);
frame.fill(2, 6, 12);
for (let i = 12; i < size; i++) frame[i] = i % 256;

using capture = openLive(positionals[0], { snaplen: 100 });
for (let i = 0; i < count; i++) capture.sendPacket(frame);
console.log(`sent ${count} frame(s) of ${size} bytes on ${capture.device}`);
