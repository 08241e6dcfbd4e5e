// Malformed input: the whole corpus, every packet under every link type we decode, plus 200k
// seeded mutations, must never make decode() or any getter/method of any layer throw.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";
import { readCapture } from "./_pcap_read.ts";
import { decode, type Layer, LinkType, PacketDecoder } from "../src/decode/mod.ts";
import type { Packet } from "../src/decode/mod.ts";

const LINK_TYPES = Object.values(LinkType) as number[];

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// TypeScript-private helpers (not API; some mutate state by design)
const INTERNAL = new Set([
  "attach",
  "extend",
  "setContext",
  "verify",
  "grow",
  "findJumbo",
  "routing",
  "parseOptions",
  "hw",
  "pr",
  "text",
  "linkAddr",
  "parse",
]);

// getter names and zero/one-argument methods per layer class
const memberCache = new Map<object, { getters: string[]; methods: string[] }>();
function members(l: Layer): { getters: string[]; methods: string[] } {
  const proto = Object.getPrototypeOf(l);
  let m = memberCache.get(proto);
  if (m) return m;
  m = { getters: [], methods: [] };
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (k === "constructor" || k === "decodeFrom" || INTERNAL.has(k)) continue;
      if (d.get) m.getters.push(k);
      else if (typeof d.value === "function") m.methods.push(k);
    }
  }
  memberCache.set(proto, m);
  return m;
}

let sink = 0;
function touch(p: Packet): void {
  sink += p.layerCount;
  sink += p.summary().length;
  sink += p.truncated ? 1 : 0;
  sink += (p.error ?? "").length;
  for (let i = 0; i < p.layerCount; i++) {
    const l = p.layerAt(i)! as unknown as Record<string, unknown>;
    const m = members(l as unknown as Layer);
    for (const g of m.getters) {
      const v = l[g];
      if (typeof v === "number") sink += v;
      else if (typeof v === "string") sink += v.length;
      else if (v instanceof Uint8Array) sink += v.length;
      else if (v && typeof v === "object") sink += JSON.stringify(v).length;
    }
    for (const name of m.methods) {
      const f = l[name] as (...a: number[]) => unknown;
      for (const arg of [-1, 0, 1, 2, 3, 4, 5, 40, 1e9]) {
        const v = f.call(l, arg);
        if (typeof v === "number") sink += v;
        else if (typeof v === "string") sink += v.length;
        else if (Array.isArray(v)) sink += v.length;
        else if (v && typeof v === "object") sink += 1;
      }
    }
  }
}

interface Manifest {
  files: { path: string; packet_count: number | null }[];
}

const packets: { linkType: number; data: Uint8Array }[] = [];
if (haveCorpus) {
  for (const f of corpusJson<Manifest>("manifest.json").files) {
    for (const p of readCapture(join(corpusDir, f.path))) packets.push(p);
  }
}

describe("decode never throws", { skip: !haveCorpus }, () => {
  test("every corpus packet under every link type", { timeout: 180_000 }, () => {
    let n = 0;
    for (const p of packets) {
      for (const lt of [p.linkType, ...LINK_TYPES]) {
        touch(decode(lt, p.data));
        n++;
      }
    }
    assert.ok(n > 1000);
  });

  test("every prefix of every corpus packet (truncation at each byte, first 200 bytes)", {
    timeout: 180_000,
  }, () => {
    const dec = new PacketDecoder();
    for (const p of packets) {
      const max = Math.min(p.data.length, 200);
      for (let len = 0; len <= max; len++) touch(dec.decode(p.linkType, p.data, 0, len));
    }
  });

  test("200k seeded mutations (bounded to 90 s)", { timeout: 180_000 }, () => {
    const rnd = prng(0x5eed);
    const dec = new PacketDecoder();
    const deadline = Date.now() + 90_000;
    const buf = new Uint8Array(70000);
    let done = 0;
    for (; done < 200_000 && Date.now() < deadline; done++) {
      const src = packets[Math.floor(rnd() * packets.length)];
      let len = Math.min(src.data.length, 4096);
      buf.set(src.data.subarray(0, len));
      const nmut = 1 + Math.floor(rnd() * 6);
      for (let k = 0; k < nmut; k++) {
        const r = rnd();
        if (len === 0) break;
        if (r < 0.45) buf[Math.floor(rnd() * len)] = Math.floor(rnd() * 256); // random byte
        else if (r < 0.7) buf[Math.floor(rnd() * Math.min(len, 80))] ^= 1 << Math.floor(rnd() * 8); // header bit flip
        else if (r < 0.8) len = Math.floor(rnd() * len); // truncate
        else if (r < 0.9) { // interesting values
          const i = Math.floor(rnd() * len);
          const v = [0, 0xff, 0x7f, 0x80, 1, 0xc0][Math.floor(rnd() * 6)];
          buf[i] = v;
          if (i + 1 < len) buf[i + 1] = v;
        } else { // extend with random bytes
          const add = Math.floor(rnd() * 64);
          for (let j = 0; j < add && len < buf.length; j++) buf[len++] = Math.floor(rnd() * 256);
        }
      }
      const lt = rnd() < 0.8 ? src.linkType : LINK_TYPES[Math.floor(rnd() * LINK_TYPES.length)];
      const p = rnd() < 0.5 ? dec.decode(lt, buf, 0, len) : decode(lt, buf.slice(0, len));
      touch(p);
    }
    assert.ok(done >= 20_000, `only ${done} mutations ran`);
    assert.ok(Number.isFinite(sink) || Number.isNaN(sink));
  });
});
