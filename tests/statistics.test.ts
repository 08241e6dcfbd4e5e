// The statistics engine (src/statistics.ts): counts per interval on a veth pair between two
// namespaces made here (counting in B with tests/fixtures/sendqueue_worker.ts, N frames sent
// from A with a SendQueue): the samples add up exactly to N packets and their byte total, with
// and without a filter; empty intervals are zeros; close() and an AbortSignal end the
// iteration on an idle interface.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileFilter, LinkType, openLive } from "../mod.ts";
import { filterSnaplen, openStatistics, type StatisticsSample } from "../src/statistics.ts";
import { createVethPair, netnsUnavailable } from "./_netns.ts";
import {
  frame,
  lastJson,
  startWorker,
  transmitFile,
  writePcap,
} from "./fixtures/sendqueue_helpers.ts";

const skip = netnsUnavailable() ?? false;

describe("statistics engine", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "statistics-"));

  async function count(
    filter: string,
    frames: Uint8Array[],
    intervalMs: number,
    counter: "kernel" | "ring" | "libpcap",
  ): Promise<{ samples: StatisticsSample[]; native: boolean; counter: string }> {
    const pair = createVethPair();
    try {
      const file = join(dir, `f${Math.random().toString(36).slice(2)}.pcap`);
      writePcap(file, frames, frames.map((_, i) => 1_700_000_000_000_000 + i));
      const w = startWorker(pair.nsB, [
        "stats",
        pair.ifB,
        filter,
        String(intervalMs),
        "3000",
        counter,
      ]);
      await w.ready;
      const sent = await transmitFile(pair, file, false);
      assert.equal(sent.error, null);
      return lastJson(await w.done);
    } finally {
      pair.destroy();
    }
  }

  const check = (samples: StatisticsSample[], intervalMs: number): void => {
    for (let i = 1; i < samples.length; i++) {
      assert.equal(samples[i].timestamp - samples[i - 1].timestamp, intervalMs, "one per interval");
    }
  };

  for (const counter of ["kernel", "ring", "libpcap"] as const) {
    test(`${counter}: no filter: the samples add up to N packets and their byte total`, async () => {
      const n = 5000;
      const frames = Array.from({ length: n }, (_, i) => frame(i, 60 + (i % 1400)));
      const r = await count("", frames, 250, counter);
      assert.equal(r.native, false);
      assert.equal(r.counter, counter);
      check(r.samples, 250);
      assert.ok(r.samples.length >= 10, `${r.samples.length} samples in 3 s`);
      assert.ok(r.samples.some((s) => s.packets === 0), "empty intervals are zeros");
      assert.equal(r.samples.reduce((a, s) => a + s.packets, 0), n);
      assert.equal(
        r.samples.reduce((a, s) => a + s.bytes, 0),
        frames.reduce((a, f) => a + f.length, 0),
      );
    });

    test(`${counter}: a filter: only the frames that pass it are counted`, async () => {
      const frames = Array.from(
        { length: 6000 },
        (_, i) => frame(i, 64 + (i % 700), i % 3 === 0 ? 0x88b5 : 0x88b6),
      );
      const passing = frames.filter((_, i) => i % 3 === 0);
      const r = await count("ether proto 0x88b5", frames, 500, counter);
      assert.equal(r.counter, counter);
      check(r.samples, 500);
      assert.equal(r.samples.reduce((a, s) => a + s.packets, 0), passing.length);
      assert.equal(
        r.samples.reduce((a, s) => a + s.bytes, 0),
        passing.reduce((a, f) => a + f.length, 0),
      );
    });

    test(`${counter}: a filter reading past a variable-length IP header (udp dst port)`, async () => {
      // Ethernet + IPv4 (with 8 bytes of options on every fourth) + UDP to port 7777 or 7778.
      const udp = (i: number): Uint8Array => {
        const ihl = i % 4 === 0 ? 7 : 5;
        const f = new Uint8Array(14 + ihl * 4 + 8 + (i % 200));
        f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
        const v = new DataView(f.buffer);
        f[14] = 0x40 | ihl;
        v.setUint16(16, f.length - 14);
        f[22] = 64;
        f[23] = 17;
        v.setUint32(26, 0x0a000001);
        v.setUint32(30, 0x0a000002);
        const u = 14 + ihl * 4;
        v.setUint16(u, 5555);
        v.setUint16(u + 2, i % 2 === 0 ? 7777 : 7778);
        v.setUint16(u + 4, f.length - u);
        return f;
      };
      const frames = Array.from({ length: 3000 }, (_, i) => udp(i));
      const passing = frames.filter((_, i) => i % 2 === 0);
      const r = await count("udp dst port 7777", frames, 500, counter);
      assert.equal(r.samples.reduce((a, s) => a + s.packets, 0), passing.length);
      assert.equal(
        r.samples.reduce((a, s) => a + s.bytes, 0),
        passing.reduce((a, f) => a + f.length, 0),
      );
    });

    test(`${counter}: 802.1Q-tagged frames count with their tag (the kernel takes it out)`, async () => {
      // Ethernet + 802.1Q (VLAN 5) + EtherType 0x88b5 or 0x88b6, every other frame tagged.
      const frames = Array.from({ length: 2000 }, (_, i) => {
        const inner = frame(i, 64 + (i % 300), i % 4 < 2 ? 0x88b5 : 0x88b6);
        if (i % 2 === 1) return inner;
        const f = new Uint8Array(inner.length + 4);
        f.set(inner.subarray(0, 12), 0);
        f.set([0x81, 0x00, 0x00, 0x05], 12);
        f.set(inner.subarray(12), 16);
        return f;
      });
      const r = await count("", frames, 500, counter);
      assert.equal(r.samples.reduce((a, s) => a + s.packets, 0), frames.length);
      assert.equal(
        r.samples.reduce((a, s) => a + s.bytes, 0),
        frames.reduce((a, f) => a + f.length, 0),
      );
      // libpcap compiles "vlan" for a live Linux handle with the kernel's extension loads
      // (is a tag present, which one): the eBPF translation reads them from the socket buffer.
      const tagged = frames.filter((_, i) => i % 2 === 0);
      const v = await count("vlan 5", frames, 500, counter);
      assert.equal(v.counter, counter);
      assert.equal(v.samples.reduce((a, s) => a + s.packets, 0), tagged.length);
      assert.equal(
        v.samples.reduce((a, s) => a + s.bytes, 0),
        tagged.reduce((a, f) => a + f.length, 0),
      );
    });
  }

  for (const counter of ["kernel", "ring", "libpcap"] as const) {
    test(`lo, ${counter}: each frame sent counts once (not again as outgoing)`, async () => {
      using stats = openStatistics("lo", { filter: "ether proto 0x88b9", interval: 100, counter });
      assert.equal(stats.counter, counter);
      const frames = Array.from({ length: 50 }, (_, i) => frame(i, 60 + i, 0x88b9));
      setTimeout(() => {
        using out = openLive("lo");
        for (const f of frames) out.inject(f);
        setTimeout(() => stats.close(), 300);
      }, 50);
      let packets = 0, bytes = 0;
      for await (const s of stats) {
        packets += s.packets;
        bytes += s.bytes;
      }
      assert.equal(packets, frames.length);
      assert.equal(bytes, frames.reduce((a, f) => a + f.length, 0));
    });
  }

  for (const counter of ["kernel", "ring", "libpcap"] as const) {
    test(`idle lo, ${counter}: zeros every interval; close() ends it after a last sample`, async () => {
      using stats = openStatistics("lo", { filter: "ether proto 0x88b7", interval: 100, counter });
      assert.equal(stats.counter, counter);
      const samples: StatisticsSample[] = [];
      const t0 = Date.now();
      setTimeout(() => stats.close(), 550);
      for await (const s of stats) samples.push(s);
      const ms = Date.now() - t0;
      assert.ok(ms < 1000, `ended ${ms} ms after start`);
      assert.ok(samples.length >= 5 && samples.length <= 7, `${samples.length} samples`);
      assert.ok(samples.every((s) => s.packets === 0 && s.bytes === 0));
    });
  }

  test("an AbortSignal ends it by throwing the signal's reason", async () => {
    const ac = new AbortController();
    const stats = openStatistics("lo", { filter: "ether proto 0x88b7", signal: ac.signal });
    const reason = new Error("stop");
    setTimeout(() => ac.abort(reason), 150);
    const t0 = Date.now();
    await assert.rejects(async () => {
      for await (const _ of stats) { /* none in 150 ms at the default 1 s interval */ }
    }, (e: unknown) => e === reason);
    assert.ok(Date.now() - t0 < 800);
    stats.close();
  });

  test("filterSnaplen: the bytes a filter reads", () => {
    const of = (e: string): number => {
      using p = compileFilter(e, { linkType: LinkType.EN10MB });
      return filterSnaplen(p.instructions);
    };
    assert.equal(of("ether proto 0x88b5"), 14);
    assert.equal(of("ip"), 14);
    assert.equal(of("udp dst port 53"), 14 + 2 + 2 + 60);
    assert.equal(of("ip proto \\tcp"), 24);
    assert.equal(filterSnaplen([]), 1);
  });

  test("argument errors", () => {
    assert.throws(() => openStatistics("lo", { interval: 0 }), RangeError);
    assert.throws(() => openStatistics("lo", { mode: "x" as "user" }), TypeError);
    assert.throws(() => openStatistics("lo", { counter: "x" as "ring" }), {
      name: "TypeError",
      message: 'counter must be "kernel", "ring" or "libpcap"',
    });
    assert.throws(() => openStatistics("lo", { mode: "native" }), /pcap_setmode|WinPcap/);
  });

  test("cleanup", () => {
    rmSync(dir, { recursive: true, force: true });
  });
});
