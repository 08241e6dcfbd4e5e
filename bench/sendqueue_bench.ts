// The @netcap/pcap side of bench/sendqueue.sh (run under Deno and under Bun).
//   transmit DEV FILE ROUNDS [sync]  queue FILE in a SendQueue, transmit it ROUNDS times
//                                    (best of): {"packets","pps","ms","sent","length","queueMs"}
//   gaps ORIG CAPTURED               inter-packet gap errors of a capture (nanosecond time stamps)
//                                    against the original file, frames matched by sequence
//                                    number: {"n","missing","medianUs","p99Us","maxUs"}
//   stats DEV FILTER INTERVAL_MS [COUNTER]
//                                    "ready", then counts with openStatistics (with COUNTER:
//                                    kernel, ring or libpcap) until an empty interval follows
//                                    traffic: {"packets","bytes","cpuNs","samples","counter"}
import { openLive, openOffline, type Packet } from "../mod.ts";
import { SendQueue } from "../src/sendqueue.ts";
import { openStatistics } from "../src/statistics.ts";

const [mode, ...args] = process.argv.slice(2);

function readAll(file: string, precision: "micro" | "nano" = "micro"): Packet[] {
  using f = openOffline(file, { precision });
  const out: Packet[] = [];
  for (;;) {
    const batch: Packet[] = [];
    f.dispatch((p) => batch.push(p), 65536);
    if (batch.length === 0) break;
    for (const p of batch) out.push(p);
  }
  return out;
}

if (mode === "transmit") {
  const [dev, file, roundsText, syncText] = args;
  const packets = readAll(file);
  const t0 = performance.now();
  const size = packets.reduce((s, p) => s + SendQueue.headerSize + p.caplen, 0);
  using q = new SendQueue(size);
  for (const p of packets) if (!q.queue(p)) throw new Error("queue full");
  const queueMs = performance.now() - t0;
  using cap = openLive(dev, { snaplen: 65535 });
  let best = Infinity;
  let sent = 0;
  for (let r = 0; r < Number(roundsText); r++) {
    const t = performance.now();
    sent = q.transmit(cap, {
      sync: syncText === "sync",
      spinMs: process.env.SPIN_MS ? Number(process.env.SPIN_MS) : undefined,
    });
    best = Math.min(best, performance.now() - t);
    if (sent !== q.length) throw new Error(`sent ${sent} of ${q.length}: ${q.lastError}`);
  }
  console.log(JSON.stringify({
    packets: q.packetCount,
    pps: Math.round((q.packetCount / best) * 1000),
    ms: +best.toFixed(3),
    sent,
    length: q.length,
    queueMs: +queueMs.toFixed(1),
  }));
} else if (mode === "gaps") {
  const [orig, captured] = args;
  const want = new Map<number, bigint>();
  for (const p of readAll(orig, "nano")) {
    want.set(new DataView(p.data.buffer, p.data.byteOffset).getUint32(14), p.timestampNs);
  }
  const got: [number, bigint][] = [];
  for (const p of readAll(captured, "nano")) {
    if (p.caplen < 18) continue;
    const seq = new DataView(p.data.buffer, p.data.byteOffset).getUint32(14);
    if (want.has(seq)) got.push([seq, p.timestampNs]);
  }
  const errors: number[] = [];
  for (let i = 1; i < got.length; i++) {
    const [s0, t0] = got[i - 1];
    const [s1, t1] = got[i];
    if (s1 !== s0 + 1) continue; // a gap across a lost frame is not one of the file's gaps
    const wantGap = want.get(s1)! - want.get(s0)!;
    errors.push(Math.abs(Number((t1 - t0) - wantGap)) / 1000);
  }
  errors.sort((a, b) => a - b);
  const q = (f: number): number =>
    +errors[Math.min(errors.length - 1, Math.floor(errors.length * f))].toFixed(1);
  console.log(JSON.stringify({
    n: errors.length,
    missing: want.size - got.length,
    medianUs: q(0.5),
    p99Us: q(0.99),
    maxUs: +errors.at(-1)!.toFixed(1),
  }));
} else if (mode === "stats") {
  const [dev, filter, intervalText, counter] = args;
  const cpu0 = process.cpuUsage();
  const stats = openStatistics(dev, {
    filter,
    interval: Number(intervalText),
    counter: counter as "kernel" | "ring" | "libpcap" | undefined,
  });
  console.log("ready");
  let packets = 0;
  let bytes = 0;
  let samples = 0;
  for await (const s of stats) {
    samples++;
    packets += s.packets;
    bytes += s.bytes;
    if (packets > 0 && s.packets === 0) stats.close();
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({
    packets,
    bytes,
    cpuNs: (cpu.user + cpu.system) * 1000,
    samples,
    counter: stats.counter,
  }));
} else {
  console.error("usage: sendqueue_bench.ts transmit|gaps|stats ...");
  process.exit(2);
}
