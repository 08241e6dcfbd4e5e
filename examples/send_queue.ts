/**
 * Sends a captured file: the course's "send a captured file" (`pcap_sendqueue_*`). Reads
 * FILE, queues every packet in one send queue, transmits it on DEVICE and prints the bytes
 * sent (headers included, as WinPcap counts them) and the time it took. With --sync, the
 * packets leave with the gaps their time stamps have.
 *
 *   deno run --allow-ffi --allow-read examples/send_queue.ts capture.pcap eth0 --sync
 */
import { openLive, openOffline, type Packet } from "../mod.ts";
import { SendQueue } from "../src/sendqueue.ts";
import { args } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: send_queue.ts FILE DEVICE [--sync]

Queues every packet of the savefile FILE and transmits them on DEVICE.
  --sync      reproduce the time stamps' gaps (default: as fast as possible)
`,
  { sync: { type: "boolean" } },
  2,
);
const [file, device] = positionals;

// Read the file and size the queue: each packet takes a header plus its bytes.
const packets: Packet[] = [];
let size = 0;
{
  using f = openOffline(file);
  for (let p = f.next(); p; p = f.next()) {
    packets.push(p.clone());
    size += SendQueue.headerSize + p.caplen;
  }
}

using queue = new SendQueue(size);
for (const p of packets) {
  if (!queue.queue(p)) throw new Error("the send queue is full (it was sized for the file)");
}

using capture = openLive(device, { snaplen: 65535 });
const start = performance.now();
const sent = queue.transmit(capture, { sync: values.sync === true });
const ms = performance.now() - start;

if (sent < queue.length) {
  console.error(`An error occurred sending the packets: ${queue.lastError?.message}`);
  console.error(`Only ${sent} of ${queue.length} bytes were sent`);
}
console.log(
  `${queue.packetCount} packets, ${sent} bytes sent in ${ms.toFixed(3)} ms ` +
    `(${((queue.packetCount / ms) * 1000).toFixed(0)} packets/s)`,
);
if (sent < queue.length) process.exitCode = 1;
