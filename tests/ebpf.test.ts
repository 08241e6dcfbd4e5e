// The classic-to-eBPF translation behind the statistics engine's kernel counter, checked by
// the kernel itself: every expression of ../shared/corpus/filters.json, compiled by libpcap
// (optimized and not) for each Ethernet file it lists, is translated, loaded through bpf(2)
// (the verifier accepts it) and run on every packet of the file with BPF_PROG_TEST_RUN; the
// packets it accepts must be the ones libpcap matched. Then the counting form: the map adds
// up the accepted packets and their lengths.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFilter, openOffline, type Packet } from "../mod.ts";
import {
  bpfAvailable,
  closeFd,
  createCounterMap,
  loadSocketFilter,
  readCounterMap,
  testRunSocketFilter,
  translateFilter,
} from "../src/ebpf.ts";
import type { BpfInstruction } from "../src/filter.ts";
import type { Filters } from "./_corpus_checks.ts";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";

/** Why the kernel cannot run these tests here, or false. */
function unavailable(): string | false {
  if (!haveCorpus) return `no corpus at ${corpusDir}`;
  if (!bpfAvailable()) return "bpf(2) is only called on Linux (x86-64, arm64)";
  const map = createCounterMap();
  if (map < 0) return "bpf(2) refused a map: needs root or CAP_BPF";
  closeFd(map);
  return false;
}
const skip = unavailable();

/** Loads a translation; the verifier's account in the failure message. */
function load(insns: Uint8Array, what: string): number {
  const log = new Uint8Array(1 << 16);
  const fd = loadSocketFilter(insns, log);
  assert.ok(
    fd >= 0,
    `${what}: the verifier refused it:\n${new TextDecoder().decode(log).split("\0")[0]}`,
  );
  return fd;
}

/**
 * The frame as the test run needs it: BPF_PROG_TEST_RUN takes the first 14 bytes as the
 * Ethernet header and starts the socket filter's view after them, where a packet socket's
 * starts at the Ethernet header. So a copy of the header goes in front.
 */
function testFrame(data: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + data.length);
  f.set(data.subarray(0, 14), 0);
  f.set(data, 14);
  return f;
}

const usesExtensions = (p: readonly BpfInstruction[]): boolean =>
  p.some((i) => (i.code & 0xe7) === 0x20 && i.k >>> 0 >= 0xfffff000);
const usesLength = (p: readonly BpfInstruction[]): boolean =>
  p.some((i) => (i.code & 0xe6) === 0x80); // ld #len, ldx #len
const jumpsBack = (p: readonly BpfInstruction[]): boolean =>
  p.some((i) => i.code === 0x05 && i.k >= 0x80000000);

describe("classic BPF to eBPF, run by the kernel", { skip }, () => {
  const data = haveCorpus ? corpusJson<Filters>("filters.json") : null;
  if (!data) return;
  const ethernet = data.files.filter((f) => f.dlt === 1);
  let packets: Promise<Map<string, Packet[]>> | null = null;
  const loadPackets = (): Promise<Map<string, Packet[]>> =>
    packets ??= (async () => {
      const m = new Map<string, Packet[]>();
      for (const f of ethernet) {
        const list: Packet[] = [];
        const cap = openOffline(join(corpusDir, f.path));
        for await (const p of cap) list.push(p);
        cap.close();
        m.set(f.path, list);
      }
      return m;
    })();

  let runs = 0, tooBig = 0, untranslated = 0;
  for (const c of data.filters.filter((c) => c.ok)) {
    test(JSON.stringify(c.expr), async () => {
      const all = await loadPackets();
      for (const f of ethernet) {
        const m = c.matches[f.path];
        if (!m?.ok) continue;
        for (const optimize of [true, false]) {
          using prog = compileFilter(c.expr, { linkType: 1, snaplen: f.snaplen, optimize });
          const insns = translateFilter(prog.instructions, { kind: "verdict" });
          if (!insns) {
            // Only what the kernel's classic checker refuses as well: jumps backwards.
            assert.ok(jumpsBack(prog.instructions), `${c.expr}: not translated`);
            untranslated++;
            continue;
          }
          // Offline, libpcap cannot know the packet's direction or its VLAN tag outside the
          // frame: those programs are run by the live statistics tests instead.
          if (usesExtensions(prog.instructions)) continue;
          const fd = load(insns, c.expr);
          try {
            const want = new Set(m.indices);
            all.get(f.path)!.forEach((p, i) => {
              // The socket buffer's length is the bytes present: "len" tests need whole frames.
              if (p.caplen < p.length && usesLength(prog.instructions)) return;
              const r = testRunSocketFilter(fd, testFrame(p.data));
              if (r === null) {
                tooBig++; // larger than the test run's one page
                return;
              }
              runs++;
              assert.equal(
                r !== 0,
                want.has(i),
                `${c.expr} on ${f.path} #${i} (optimize ${optimize})`,
              );
            });
          } finally {
            closeFd(fd);
          }
        }
      }
    });
  }

  test("every packet of the Ethernet files was run", () => {
    console.log(
      `${runs} test runs; ${tooBig} frames over a page left out; ${untranslated} backward-jump programs`,
    );
    assert.ok(runs > 100_000, `${runs} runs`);
    assert.ok(tooBig < runs / 100, `${tooBig} frames too large`);
  });

  test("counting form: the map adds up accepted packets and their lengths, drops all", () => {
    const map = createCounterMap();
    assert.ok(map >= 0);
    try {
      using prog = compileFilter("udp dst port 7777", { linkType: 1 });
      const insns = translateFilter(prog.instructions, {
        kind: "count",
        mapFd: map,
        skipOutgoing: false,
      });
      assert.ok(insns);
      const fd = load(insns, "count");
      let packets = 0, bytes = 0;
      try {
        for (let i = 0; i < 40; i++) {
          const f = new Uint8Array(14 + 20 + 8 + i * 3);
          const v = new DataView(f.buffer);
          v.setUint16(12, 0x0800);
          f[14] = 0x45;
          v.setUint16(16, f.length - 14);
          f[23] = 17;
          v.setUint16(34 + 2, i % 2 ? 7777 : 53);
          assert.equal(testRunSocketFilter(fd, testFrame(f)), 0, "every packet dropped");
          if (i % 2) {
            packets++;
            bytes += f.length;
          }
        }
      } finally {
        closeFd(fd);
      }
      const counts = readCounterMap(map);
      assert.ok(counts);
      assert.equal(counts.packets, packets);
      assert.equal(counts.bytes, bytes);
    } finally {
      closeFd(map);
    }
  });

  test("what has no eBPF counterpart is refused, not guessed", () => {
    const ret = { code: 0x06, jt: 0, jf: 0, k: 1 };
    assert.equal(
      translateFilter([{ code: 0x20, jt: 0, jf: 0, k: 0xfffff000 + 28 }, ret], { kind: "verdict" }),
      null,
    ); // hatype
    assert.equal(translateFilter([{ code: 0x0e, jt: 0, jf: 0, k: 0 }], { kind: "verdict" }), null); // ret x
    assert.equal(
      translateFilter([{ code: 0x05, jt: 0, jf: 0, k: 5 }, ret], { kind: "verdict" }),
      null,
    ); // past the end
    assert.equal(translateFilter([{ code: 0x00, jt: 0, jf: 0, k: 1 }], { kind: "verdict" }), null); // runs off
  });
});
