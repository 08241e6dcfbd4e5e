/**
 * Builds an ICMP echo request and a UDP datagram with this package's packet
 * builders (lengths and checksums computed) and injects them: libnet's job.
 *
 *   deno run --allow-ffi examples/build_and_send.ts lo
 *   bun examples/build_and_send.ts eth0 --dst 192.0.2.9 --dst-mac 02:00:00:00:00:09
 */
import { openLive } from "../mod.ts";
import { buildPacket, ethernet, icmpEcho, ipv4, udp } from "../src/build/mod.ts";
import { decode } from "../src/decode/mod.ts";
import { args } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: build_and_send.ts DEVICE [--src IP] [--dst IP] [--src-mac MAC] [--dst-mac MAC]
                         [--port N] [--message TEXT]

Builds an ICMP echo request and a UDP datagram, prints tcpdump-like summaries of both, and
injects them on DEVICE.
  --src, --dst          IPv4 addresses (default 127.0.0.1 to 127.0.0.1)
  --src-mac, --dst-mac  Ethernet addresses (default 00:00:00:00:00:00, as on lo)
  --port N              UDP destination port (default 9999)
  --message TEXT        the payload (default "hello from @netcap/pcap")
`,
  {
    src: { type: "string" },
    dst: { type: "string" },
    "src-mac": { type: "string" },
    "dst-mac": { type: "string" },
    port: { type: "string" },
    message: { type: "string" },
  },
  1,
);

const src = (values.src as string | undefined) ?? "127.0.0.1";
const dst = (values.dst as string | undefined) ?? "127.0.0.1";
const eth = ethernet({
  src: (values["src-mac"] as string | undefined) ?? "00:00:00:00:00:00",
  dst: (values["dst-mac"] as string | undefined) ?? "00:00:00:00:00:00",
});
const message = (values.message as string | undefined) ?? "hello from @netcap/pcap";
const ping = buildPacket([eth, ipv4({ src, dst }), icmpEcho({ id: 0x4e43, seq: 1 }), message]);
const datagram = buildPacket([
  eth,
  ipv4({ src, dst }),
  udp({ srcPort: 40000, dstPort: Number(values.port ?? 9999) }),
  message,
]);

using capture = openLive(positionals[0], { snaplen: 2048 });
for (const frame of [ping, datagram]) {
  const sent = capture.inject(frame);
  console.log(`${decode(capture.linkType, frame).summary()}  (${sent} bytes sent)`);
}
