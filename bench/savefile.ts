// Savefile reader benchmark (Deno and Bun): packets/s of readPacketsSync over bytes and of
// readBatches from a file path, for pcap and pcapng, against libpcap (bench/savefile_baseline.c).
//
//   deno run -A bench/savefile.ts [run|gen|mem]      bun bench/savefile.ts [run|gen|mem]
//
// Every packet's data is touched as a Uint8Array (`sink += p.data[0]`): records make their
// `data` view lazily, so this makes one view per packet, as an application reading the bytes
// would (the C baseline likewise reads d[0] of each packet).
//
// "gen" writes bench/out/bench.pcap and bench.pcapng (1M x 64-byte packets) if missing;
// "run" (default) measures; "mem" streams a 2 GB pcapng (bench/out/big.pcapng, created and
// deleted by bench/savefile.sh) and reports peak RSS.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { PcapngWriter, PcapWriter, readBatches, readPacketsSync } from "../src/savefile/mod.ts";

const outDir = fileURLToPath(new URL("./out/", import.meta.url));
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const COUNT = Number(process.env.BENCH_PACKETS ?? 1_000_000);
const files = {
  pcap: join(outDir, "savefile-1m.pcap"),
  pcapng: join(outDir, "savefile-1m.pcapng"),
};

async function generate(): Promise<void> {
  const data = new Uint8Array(64);
  for (let i = 0; i < 64; i++) data[i] = i;
  if (!existsSync(files.pcap)) {
    const w = await PcapWriter.open(files.pcap, { linkType: 1, precision: "micro" });
    for (let i = 0; i < COUNT; i++) {
      data[0] = i & 0xff;
      await w.writePacket({
        data,
        seconds: 1_700_000_000 + (i >>> 10),
        nanoseconds: (i & 1023) * 1000,
      });
    }
    await w.close();
  }
  if (!existsSync(files.pcapng)) {
    const w = await PcapngWriter.open(files.pcapng, {
      interfaces: [{ linkType: 1, tsResolution: 6 }],
    });
    for (let i = 0; i < COUNT; i++) {
      data[0] = i & 0xff;
      await w.writePacket({
        data,
        seconds: 1_700_000_000 + (i >>> 10),
        nanoseconds: (i & 1023) * 1000,
      });
    }
    await w.close();
  }
}

function cBaseline(file: string): number {
  const exe = join(outDir, "savefile_baseline");
  if (!existsSync(exe)) return NaN;
  const [n, s] = execFileSync(exe, [file, "5"]).toString().trim().split(" ");
  return Number(n) / Number(s);
}

function best(runs: number, f: () => number | Promise<number>): Promise<number> {
  return (async () => {
    let bestRate = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const n = await f();
      const rate = n / ((performance.now() - t0) / 1000);
      if (n !== COUNT) throw new Error(`read ${n} packets, expected ${COUNT}`);
      if (rate > bestRate) bestRate = rate;
    }
    return bestRate;
  })();
}

/**
 * One batch's records, walked in a plain function as `readBatches` advises (JavaScriptCore
 * compiles a `for...of` that updates variables of an enclosing `async` function, live across
 * its `for await`, about half as fast); the work per record is the same as in the
 * `readPacketsSync` loop.
 */
function walkBatch(batch: Iterable<{ readonly data: Uint8Array }>): number {
  let n = 0, s = 0;
  for (const p of batch) {
    s += p.data[0];
    n++;
  }
  sink += s;
  return n;
}

let sink = 0;

/** One measurement, in this process: packets/s, best of 5 (the first warms the JIT up). */
async function measure(fmt: "pcap" | "pcapng", way: "sync" | "batches"): Promise<number> {
  const file = files[fmt];
  if (way === "sync") {
    const bytes = new Uint8Array(readFileSync(file));
    return await best(5, () => {
      let n = 0;
      for (const p of readPacketsSync(bytes)) {
        sink += p.data[0];
        n++;
      }
      return n;
    });
  }
  return await best(5, async () => {
    let n = 0;
    for await (const batch of readBatches(file)) n += walkBatch(batch);
    return n;
  });
}

/**
 * Each measurement in a fresh process of this runtime, as the C baseline is: in one process,
 * the records and views one measurement leaves behind are swept (lazily, by JavaScriptCore)
 * inside the next one, which on Bun then reads at half speed or less.
 */
function measureApart(fmt: "pcap" | "pcapng", way: "sync" | "batches"): number {
  const script = fileURLToPath(import.meta.url);
  const args = runtime === "deno"
    ? ["run", "-A", script, "one", fmt, way]
    : [script, "one", fmt, way];
  return Number(execFileSync(process.execPath, args).toString().trim());
}

async function run(): Promise<void> {
  await generate();
  const rows: string[] = [];
  for (const fmt of ["pcap", "pcapng"] as const) {
    const c = cBaseline(files[fmt]);
    const sync = measureApart(fmt, "sync");
    const batches = measureApart(fmt, "batches");
    const line = (what: string, rate: number): string =>
      `${runtime.padEnd(5)} ${fmt.padEnd(7)} ${what.padEnd(26)} ${
        (rate / 1e6).toFixed(2).padStart(7)
      } Mpkt/s   C ${(c / 1e6).toFixed(2).padStart(6)} Mpkt/s   ratio ${(rate / c).toFixed(2)}x`;
    rows.push(line("readPacketsSync(bytes)", sync));
    rows.push(line("readBatches(path)", batches));
  }
  console.log(rows.join("\n"));
}

const bigFile = join(outDir, "savefile-2g.pcapng");

async function generateBig(): Promise<void> {
  const file = bigFile;
  const target = 2 * 1024 ** 3;
  if (!existsSync(file) || statSync(file).size < target) {
    const data = new Uint8Array(1500).fill(0x55);
    const w = await PcapngWriter.open(file, { interfaces: [{ linkType: 1 }] });
    for (let i = 0; w.bytesWritten < target; i++) {
      await w.writePacket({ data, seconds: 1_700_000_000 + (i >>> 14), nanoseconds: i & 0x3fff });
    }
    await w.close();
  }
}

async function mem(): Promise<void> {
  const file = bigFile;
  if (!existsSync(file)) await generateBig();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  let n = 0, bytes = 0;
  for await (const batch of readBatches(file)) {
    for (const p of batch) {
      n++;
      bytes += p.data.length;
    }
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  clearInterval(timer);
  const s = (performance.now() - t0) / 1000;
  const mib = peak / 1024 ** 2;
  console.log(
    `${runtime.padEnd(5)} stream ${
      (statSync(file).size / 1024 ** 3).toFixed(2)
    } GiB pcapng: ${n} packets, ${(bytes / 1024 ** 3).toFixed(2)} GiB data in ${
      s.toFixed(1)
    } s; peak RSS (sampled) ${mib.toFixed(0)} MiB ${mib < 100 ? "OK (< 100 MiB)" : "OVER 100 MiB"}`,
  );
}

const mode = process.argv[2] ?? "run";
if (mode === "gen") await generate();
else if (mode === "gen-big") await generateBig();
else if (mode === "mem") await mem();
else if (mode === "one") {
  console.log(await measure(process.argv[3] as "pcap" | "pcapng", process.argv[4] as "sync"));
  if (sink === -1) console.log(sink);
} else await run();
