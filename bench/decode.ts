// Decode benchmark: read + decode Ethernet/IPv4/TCP-or-UDP headers (MACs, addresses, ports,
// TCP flags) of N x 64-byte packets from a pcap file with a pure-TS record walk and the reusable
// PacketDecoder, and compare with the packets/s of C libpcap's bare pcap_next_ex loop.
//
//   deno run -A bench/decode.ts --generate bench/out/decode.pcap [--count 1000000]
//   deno run -A bench/decode.ts bench/out/decode.pcap [--baseline PPS] [--runs 5]
//   bun bench/decode.ts ...
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildPacket, ethernet, ipv4, tcp, udp } from "../src/build/mod.ts";
import { PacketDecoder } from "../src/decode/mod.ts";
import { type PacketRecord, readBatches } from "../src/savefile/mod.ts";

const { values, positionals } = parseArgs({
  args: "Deno" in globalThis
    ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
    : process.argv.slice(2),
  options: {
    generate: { type: "boolean", default: false },
    count: { type: "string", default: "1000000" },
    baseline: { type: "string" },
    runs: { type: "string", default: "5" },
    reader: { type: "string", default: "walk" },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: true,
});
const file = positionals[0] ?? "bench/out/decode.pcap";
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** Writes a classic pcap of `count` 64-byte Ethernet/IPv4/{TCP,UDP} frames. */
function generate(path: string, count: number): void {
  const templates: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) {
    const l3 = ipv4({ src: `10.${i}.0.1`, dst: `192.168.${i}.2`, id: i });
    const l2 = ethernet({ src: 0x020000000000 + i, dst: 0x020000100000 + i });
    // 14 + 20 + 20 + 10 = 64 (TCP) and 14 + 20 + 8 + 22 = 64 (UDP)
    templates.push(
      i % 2 === 0
        ? buildPacket([
          l2,
          l3,
          tcp({ srcPort: 1024 + i, dstPort: 80, seq: i, ack: 1, flags: "PA" }),
          new Uint8Array(10),
        ])
        : buildPacket([l2, l3, udp({ srcPort: 2048 + i, dstPort: 4000 + i }), new Uint8Array(22)]),
    );
  }
  const out = new Uint8Array(24 + count * (16 + 64));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, 1, true);
  let p = 24;
  for (let i = 0; i < count; i++) {
    dv.setUint32(p, 1700000000 + Math.floor(i / 1000), true);
    dv.setUint32(p + 4, (i % 1000) * 1000, true);
    dv.setUint32(p + 8, 64, true);
    dv.setUint32(p + 12, 64, true);
    const t = templates[i & 15];
    out.set(t, p + 16);
    out[p + 16 + 14 + 4] = i >>> 8; // vary the IP id
    out[p + 16 + 14 + 5] = i;
    p += 80;
  }
  writeFileSync(path, out);
  console.log(`wrote ${count} packets to ${path}`);
}

const CHUNK = 1 << 20;

/** Reads the file in 1 MiB chunks into one reused buffer and decodes every record. */
function once(path: string): { packets: number; seconds: number; sink: number } {
  const t0 = performance.now();
  const fd = openSync(path, "r");
  const buf = new Uint8Array(CHUNK + 65536 + 16);
  const dv = new DataView(buf.buffer);
  let have = readSync(fd, buf, 0, CHUNK, null);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const linkType = dv.getUint32(20, le) & 0x03ffffff;
  const dec = new PacketDecoder();
  let n = 0, sink = 0;
  let p = 24;
  for (;;) {
    // decode the complete records in buf[p..have)
    for (;;) {
      if (p + 16 > have) break;
      const incl = dv.getUint32(p + 8, le);
      if (p + 16 + incl > have) break;
      const pkt = dec.decode(linkType, buf, p + 16, incl);
      const eth = pkt.ethernet;
      if (eth !== null) sink += eth.src - eth.dst;
      const ip = pkt.ipv4;
      if (ip !== null) {
        sink += (ip.src ^ ip.dst) & 0xffff;
        const t = pkt.tcp;
        if (t !== null) sink += t.srcPort + t.dstPort + t.flags;
        else {
          const u = pkt.udp;
          if (u !== null) sink += u.srcPort + u.dstPort;
        }
      }
      n++;
      p += 16 + incl;
    }
    // move the partial record to the front and refill
    const rest = have - p;
    buf.copyWithin(0, p, have);
    const got = readSync(fd, buf, rest, CHUNK, null);
    if (got <= 0) break;
    have = rest + got;
    p = 0;
  }
  closeSync(fd);
  return { packets: n, seconds: (performance.now() - t0) / 1000, sink };
}

/**
 * The same loop over this package's savefile reader (`readBatches` from a file path). Each
 * record is decoded in place with `decodeRecord` (from the record's buffer, so the record's
 * lazy `data` view is never made); every header field is read as in the record walk.
 *
 * The records of a batch are walked in a synchronous function, as the record walk above is:
 * JavaScriptCore (Bun) compiles a `for...of` loop that updates variables of an enclosing
 * `async` function (here the sums, live across the `for await`) about half as fast as the
 * same loop in a plain function, whatever the iterator; V8 (Deno) loses some too.
 */
async function onceSavefile(
  path: string,
): Promise<{ packets: number; seconds: number; sink: number }> {
  const t0 = performance.now();
  const dec = new PacketDecoder();
  const acc = { packets: 0, sink: 0 };
  for await (const batch of readBatches(path)) decodeBatch(dec, batch, acc);
  return { packets: acc.packets, seconds: (performance.now() - t0) / 1000, sink: acc.sink };
}

/** Decodes the records of one batch, adding to `acc`. */
function decodeBatch(
  dec: PacketDecoder,
  batch: Iterable<PacketRecord>,
  acc: { packets: number; sink: number },
): void {
  let n = 0, sink = 0;
  for (const rec of batch) {
    const pkt = dec.decodeRecord(rec);
    const eth = pkt.ethernet;
    if (eth !== null) sink += eth.src - eth.dst;
    const ip = pkt.ipv4;
    if (ip !== null) {
      sink += (ip.src ^ ip.dst) & 0xffff;
      const t = pkt.tcp;
      if (t !== null) sink += t.srcPort + t.dstPort + t.flags;
      else {
        const u = pkt.udp;
        if (u !== null) sink += u.srcPort + u.dstPort;
      }
    }
    n++;
  }
  acc.packets += n;
  acc.sink += sink;
}

async function run(): Promise<void> {
  const runs = Number(values.runs);
  const savefile = values.reader === "savefile";
  const measure = async (): Promise<{ packets: number; seconds: number }> =>
    savefile ? await onceSavefile(file) : once(file);
  let best = Infinity, packets = 0;
  await measure(); // warm-up (JIT)
  for (let r = 0; r < runs; r++) {
    const res = await measure();
    packets = res.packets;
    if (res.seconds < best) best = res.seconds;
  }
  const pps = packets / best;
  let line = `${runtime} (${
    savefile ? "savefile readBatches" : "record walk"
  }): ${packets} packets in ${best.toFixed(3)} s = ${(pps / 1e6).toFixed(2)} Mpkt/s`;
  if (values.baseline) {
    const base = Number(values.baseline);
    line += `; C pcap_next_ex ${(base / 1e6).toFixed(2)} Mpkt/s; ratio ${(pps / base).toFixed(2)}x`;
  }
  console.log(line);
}

if (values.help) {
  console.log("usage: decode.ts [--generate] [--count N] [--baseline PPS] [--runs N] FILE");
} else if (values.generate) {
  generate(file, Number(values.count));
} else {
  await run();
}
