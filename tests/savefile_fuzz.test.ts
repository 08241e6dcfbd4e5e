// Fuzzing the savefile reader with mutated corpus files: only PcapFormatError may escape, and
// every case must end. Deterministic (seeded); FUZZ_CASES scales the number of cases.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";
import { PcapFormatError } from "../src/errors.ts";
import { BlockType, readPackets, readPacketsSync, SavefileReader } from "../src/savefile/mod.ts";

const TOTAL = Number(process.env.FUZZ_CASES ?? 200_000);

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BLOCK_TYPES = [
  BlockType.SHB,
  BlockType.IDB,
  BlockType.PB,
  BlockType.SPB,
  BlockType.NRB,
  BlockType.ISB,
  BlockType.EPB,
  BlockType.DSB,
  BlockType.CUSTOM_COPY,
  BlockType.CUSTOM_NO_COPY,
  0x12345678,
];
const INTERESTING = [
  0,
  1,
  3,
  4,
  7,
  8,
  11,
  12,
  13,
  16,
  20,
  24,
  28,
  32,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  0x40000,
  0x7fffffff,
  0x80000000,
  0xfffffffc,
  0xffffffff,
];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const kind = pick(7);
  let b: Uint8Array;
  if (kind === 0) return src.subarray(0, pick(src.length + 1)); // truncation
  if (kind === 1) {
    // remove or insert a few bytes
    const at = pick(src.length + 1), n = 1 + pick(8);
    if (rnd() < 0.5) {
      const head = src.subarray(0, at), tail = src.subarray(Math.min(src.length, at + n));
      b = new Uint8Array(head.length + tail.length);
      b.set(head);
      b.set(tail, head.length);
      return b;
    }
    b = new Uint8Array(src.length + n);
    b.set(src.subarray(0, at));
    for (let i = 0; i < n; i++) b[at + i] = pick(256);
    b.set(src.subarray(at), at + n);
    return b;
  }
  b = src.slice();
  if (b.length < 4) return b;
  const dv = new DataView(b.buffer);
  const le = rnd() < 0.5;
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    // Mostly mutate near the start, where the headers are.
    const limit = rnd() < 0.6 ? Math.min(b.length, 256) : b.length;
    const at32 = pick(Math.max(1, Math.floor((limit - 4) / 4) + 1)) * 4;
    switch (kind) {
      case 2: // bit flips
        b[pick(limit)] ^= 1 << pick(8);
        break;
      case 3: // random bytes
        b[pick(limit)] = pick(256);
        break;
      case 4: // length-like fields
        if (at32 + 4 <= b.length) dv.setUint32(at32, INTERESTING[pick(INTERESTING.length)], le);
        break;
      case 5: // 16-bit fields (option codes/lengths, versions, link types)
        if (at32 + 4 <= b.length) {
          dv.setUint16(at32 + 2 * pick(2), INTERESTING[pick(INTERESTING.length)] & 0xffff, le);
        }
        break;
      default: // block types
        if (at32 + 4 <= b.length) dv.setUint32(at32, BLOCK_TYPES[pick(BLOCK_TYPES.length)], le);
    }
  }
  return b;
}

function consume(bytes: Uint8Array): number {
  let n = 0;
  const r = SavefileReader.fromBytes(bytes);
  void r.info;
  for (const p of r) {
    n++;
    if (p.data.length !== p.caplen) throw new Error("caplen mismatch");
    if (p.data.length) n += p.data[0] & 0;
    if (n % 3 === 0) {
      void p.flags;
      void p.comments;
      void p.options;
    }
  }
  void r.interfaces.length;
  return n;
}

describe("savefile fuzz", { skip: !haveCorpus && "corpus not found" }, () => {
  if (!haveCorpus) return;
  const manifest = corpusJson<{ files: { path: string }[] }>("manifest.json");
  const files = manifest.files.map((f) => new Uint8Array(readFileSync(join(corpusDir, f.path))))
    .filter((b) => b.length <= 200_000);

  test(`${TOTAL} mutated files (sync reader)`, () => {
    const rnd = prng(0x5eed);
    let errors = 0, ok = 0;
    for (let i = 0; i < TOTAL; i++) {
      const src = files[i % files.length];
      const m = mutate(src, rnd);
      try {
        consume(m);
        ok++;
      } catch (e) {
        if (!(e instanceof PcapFormatError)) {
          throw new Error(`case ${i}: ${e}`, { cause: e });
        }
        assert.ok(e.offset >= 0 && e.offset <= m.length + 16, `case ${i}: offset ${e.offset}`);
        errors++;
      }
    }
    console.log(`fuzz: ${TOTAL} cases, ${ok} read to the end, ${errors} PcapFormatError`);
    assert.equal(ok + errors, TOTAL);
  });

  test("mutated files through streams agree with the sync reader", async () => {
    const rnd = prng(0xbeef);
    const cases = Math.max(200, Math.floor(TOTAL / 50));
    for (let i = 0; i < cases; i++) {
      const m = mutate(files[i % files.length], rnd);
      let syncCount = 0, syncErr: unknown;
      try {
        for (const _ of readPacketsSync(m)) syncCount++;
      } catch (e) {
        syncErr = e;
      }
      const size = 1 + Math.floor(rnd() * 300);
      let o = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(c): void {
          if (o >= m.length) return c.close();
          c.enqueue(m.slice(o, o + size));
          o += size;
        },
      });
      let n = 0, err: unknown;
      try {
        for await (const _ of readPackets(stream)) n++;
      } catch (e) {
        err = e;
      }
      if (err !== undefined) assert.ok(err instanceof PcapFormatError, `case ${i}: ${err}`);
      assert.equal(n, syncCount, `case ${i}`);
      assert.equal(err === undefined, syncErr === undefined, `case ${i}: ${err} / ${syncErr}`);
    }
  });
});
