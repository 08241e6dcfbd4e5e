// The Deno/Bun side of bench/capture.sh (run under either runtime). Each mode
// prints one JSON line on stdout, with the same fields as capture_baseline.c.
//
//   read FILE ROUNDS                                  next(), batches(), dispatch(): best of ROUNDS each
//   inject DEV COUNT ROUNDS                           LiveCapture.inject() loop, best of ROUNDS
//   capture DEV COUNT SNAPLEN BUFSIZE TIMEOUT_MS IDLE_MS [columns|reuse|sync]
//                                                     batches() (or columnBatches(), with reuse:
//                                                     columnBatches({ reuse: true }), with sync:
//                                                     nextBatch({ reuse: true })) until COUNT packets
import process from "node:process";
import { openLive, openOffline, type PacketBatch } from "../mod.ts";

const [mode, ...args] = process.argv.slice(2);

function frame(seq: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5], 0);
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < 64; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** One timed pass: packets, wall seconds, CPU seconds (user+sys, whole process), check sum. */
interface Pass {
  n: number;
  s: number;
  cpu: number;
  sum: number;
}

function timer(): () => { s: number; cpu: number } {
  const t0 = performance.now();
  const c0 = cpuUs();
  return () => ({ s: (performance.now() - t0) / 1000, cpu: (cpuUs() - c0) / 1e6 });
}

function readNext(file: string): Pass {
  const cap = openOffline(file);
  let n = 0;
  let sum = 0;
  const t = timer();
  for (let p = cap.next(); p !== null; p = cap.next()) {
    n++;
    const d = p.data;
    if (d.length) sum = (sum + d[0] + d[d.length - 1]) >>> 0;
  }
  const { s, cpu } = t();
  cap.close();
  return { n, s, cpu, sum };
}

async function readBatches(file: string): Promise<Pass> {
  const cap = openOffline(file);
  let n = 0;
  let sum = 0;
  const t = timer();
  for await (const batch of cap.batches()) {
    for (const p of batch) {
      n++;
      const d = p.data;
      if (d.length) sum = (sum + d[0] + d[d.length - 1]) >>> 0;
    }
  }
  const { s, cpu } = t();
  cap.close();
  return { n, s, cpu, sum };
}

function readDispatch(file: string): Pass {
  const cap = openOffline(file);
  let n = 0;
  let sum = 0;
  const t = timer();
  while (
    cap.dispatch((p) => {
      n++;
      const d = p.data;
      if (d.length) sum = (sum + d[0] + d[d.length - 1]) >>> 0;
    }, 65536) > 0
  );
  const { s, cpu } = t();
  cap.close();
  return { n, s, cpu, sum };
}

async function read(file: string, rounds: number): Promise<void> {
  const ways: [string, () => Promise<Pass> | Pass][] = [
    ["next", () => readNext(file)],
    ["batches", () => readBatches(file)],
    ["dispatch", () => readDispatch(file)],
  ];
  const best: Record<string, { pps: number; ppsCpu: number; packets: number; check: number }> = {};
  for (const [name] of ways) best[name] = { pps: 0, ppsCpu: 0, packets: 0, check: 0 };
  // Round 0 warms up (compiles) each path; the ways take turns so that a
  // burst of load elsewhere on the machine hits all of them alike.
  for (let r = 0; r <= rounds; r++) {
    for (const [name, fn] of ways) {
      const res = await fn();
      const b = best[name];
      b.packets = res.n;
      b.check = res.sum;
      if (r === 0) continue;
      b.pps = Math.max(b.pps, Math.round(res.n / res.s));
      b.ppsCpu = Math.max(b.ppsCpu, Math.round(res.n / res.cpu));
    }
  }
  console.log(JSON.stringify(best));
}

function inject(dev: string, count: number, rounds: number): void {
  const cap = openLive(dev, { snaplen: 128, timeout: 10 });
  const f = frame(0);
  // Warm-up: compile the call path before timing.
  for (let i = 0; i < 20000; i++) cap.inject(f);
  let best = 0;
  let bestCpu = 0;
  for (let r = 0; r < rounds; r++) {
    const t = timer();
    for (let i = 0; i < count; i++) {
      if (cap.inject(f) !== 64) throw new Error("short inject");
    }
    const { s, cpu } = t();
    best = Math.max(best, count / s);
    bestCpu = Math.max(bestCpu, count / cpu);
  }
  cap.close();
  console.log(
    JSON.stringify({ packets: count, pps: Math.round(best), ppsCpu: Math.round(bestCpu) }),
  );
}

async function capture(
  dev: string,
  count: number,
  snaplen: number,
  bufferSize: number,
  timeout: number,
  idleMs: number,
  columns: boolean,
  reuse: boolean,
  sync: boolean,
): Promise<void> {
  const cap = openLive(dev, {
    snaplen,
    timeout,
    ...(bufferSize > 0 ? { bufferSize } : {}),
    filter: "ether proto 0x88b5",
  });
  let got = 0;
  let batches = 0;
  let sum = 0;
  let t0 = 0;
  let last = performance.now();
  const deadline = last + 60_000;
  // Ends the iteration when the sender has gone quiet (or never started).
  const timer = setInterval(() => {
    const t = performance.now();
    if ((got > 0 && t - last > idleMs) || t > deadline) cap.breakLoop();
  }, Math.max(10, idleMs / 4));
  console.log("ready");
  const c0 = cpuUs();
  // Steady state: the CPU from the first quarter of the packets on (start-up, JIT compilation left
  // out), as for C.
  let cq = -1;
  let gq = 0;
  const sumBatch = (batch: PacketBatch): void => {
    const { bytes, offsets, caplens } = batch;
    for (let i = 0; i < batch.length; i++) {
      const n = caplens[i];
      if (n) sum = (sum + bytes[offsets[i]] + bytes[offsets[i] + n - 1]) >>> 0;
    }
  };
  if (sync) {
    // nextBatch({ reuse: true }): blocking reads, as the C loop does (no event loop turns).
    for (;;) {
      const batch = cap.nextBatch({ reuse: true });
      const t = performance.now();
      if (batch === null) {
        if ((got > 0 && t - last > idleMs) || t > deadline) break;
        continue;
      }
      sumBatch(batch);
      got += batch.length;
      batches++;
      last = t;
      if (t0 === 0) t0 = last;
      if (cq < 0 && got >= count / 4) {
        cq = cpuUs();
        gq = got;
      }
      if (got >= count) break;
    }
  } else if (columns) {
    // columnBatches(): the same bytes touched, no object per packet.
    for await (const batch of cap.columnBatches({ reuse })) {
      const { bytes, offsets, caplens } = batch;
      for (let i = 0; i < batch.length; i++) {
        const n = caplens[i];
        if (n) sum = (sum + bytes[offsets[i]] + bytes[offsets[i] + n - 1]) >>> 0;
      }
      got += batch.length;
      batches++;
      last = performance.now();
      if (t0 === 0) t0 = last;
      if (cq < 0 && got >= count / 4) {
        cq = cpuUs();
        gq = got;
      }
      if (got >= count) break;
    }
  } else {
    for await (const batch of cap.batches()) {
      for (const p of batch) {
        const d = p.data;
        if (d.length) sum = (sum + d[0] + d[d.length - 1]) >>> 0;
      }
      got += batch.length;
      batches++;
      last = performance.now();
      if (t0 === 0) t0 = last;
      if (cq < 0 && got >= count / 4) {
        cq = cpuUs();
        gq = got;
      }
      if (got >= count) break;
    }
  }
  const c1 = cpuUs();
  clearInterval(timer);
  const st = cap.stats();
  cap.close();
  console.log(JSON.stringify({
    received: got,
    batches,

    psRecv: st.received,
    psDrop: st.dropped,
    psIfdrop: st.interfaceDropped,
    cpuUs: c1 - c0,
    steadyCpuUs: cq < 0 ? 0 : c1 - cq,
    steadyPackets: got - gq,
    wallS: t0 ? (last - t0) / 1000 : 0,
    check: sum,
  }));
}

const num = (i: number): number => Number(args[i]);
if (mode === "read") await read(args[0], num(1));
else if (mode === "inject") inject(args[0], num(1), num(2));
else if (mode === "capture") {
  const how = args[6] ?? "";
  await capture(
    args[0],
    num(1),
    num(2),
    num(3),
    num(4),
    num(5),
    how !== "",
    how === "reuse",
    how === "sync",
  );
} else {
  console.error("usage: capture_bench.ts read|inject|capture ...");
  process.exit(2);
}
