// Batches read straight out of libpcap's ring (Linux, TPACKET_V3) against libpcap's own
// reads of the same traffic: two captures on lo side by side, one read by batches (the
// ring), one committed to libpcap by reading it packet by packet first. Frames are injected
// on lo: plain, 802.1Q-tagged (the kernel takes the tag out; both must put it back), longer
// than the snapshot length, and some the filter rejects, sent before and after the filter is
// set (libpcap filters the blocks already in the ring itself). EtherTypes 0x88b7/0x88b8 and
// VLANs 7/8 are this file's own (other tests send 0x88b5 on lo).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type LiveCapture, openLive, type Packet, type PacketBatch } from "../mod.ts";
import { frame, hex, netnsUnavailable } from "./_netns.ts";

const skip = netnsUnavailable() ?? false;
if (skip) console.log(`live ring tests skipped: ${skip}`);

/** A frame with an 802.1Q tag (VLAN `vid`) in front of EtherType `type`. */
function tagged(seq: number, size: number, vid: number, type = 0x88b7): Uint8Array {
  const plain = frame(seq, size - 4, type);
  const f = new Uint8Array(size);
  f.set(plain.subarray(0, 12), 0);
  f.set([0x81, 0x00, (vid >> 8) & 0x0f, vid & 0xff], 12);
  f.set(plain.subarray(12), 16);
  return f;
}

interface Seen {
  caplen: number;
  length: number;
  seconds: number;
  nanoseconds: number;
  data: string;
}

const seen = (p: Packet): Seen => ({
  caplen: p.caplen,
  length: p.length,
  seconds: p.seconds,
  nanoseconds: p.nanoseconds,
  data: hex(p.data),
});

/**
 * The same packets, lengths and bytes. Time stamps within 1 ms: where nothing asked the
 * kernel to stamp packets on arrival, each packet socket reads the clock itself.
 */
function assertSame(ring: Seen[], libpcap: Seen[]): void {
  const strip = (list: Seen[]) =>
    list.map(({ caplen, length, data }) => ({ caplen, length, data }));
  assert.deepEqual(strip(ring), strip(libpcap), "the same packets and bytes");
  ring.forEach((p, i) => {
    const q = libpcap[i];
    const apart = Math.abs((p.seconds - q.seconds) * 1e9 + p.nanoseconds - q.nanoseconds);
    assert.ok(apart < 1e6, `packet ${i}: time stamps ${apart} ns apart`);
  });
}

/**
 * The packets libpcap has for `ref` (non-blocking dispatch), until at least `n` came and
 * nothing more is there, or 5 s passed.
 */
function drainLibpcap(ref: LiveCapture, n: number): Seen[] {
  const out: Seen[] = [];
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if (ref.dispatch((p) => out.push(seen(p))) > 0) continue;
    if (out.length >= n) break;
    Atomics.wait(nap, 0, 0, 5);
  }
  return out;
}

/** Every packet of the ring capture, by nextBatch, until `n` or a read timeout passes. */
function drainRing(cap: LiveCapture, n: number, reuse: boolean): Seen[] {
  const out: Seen[] = [];
  const end = Date.now() + 5000;
  while (out.length < n && Date.now() < end) {
    const batch = cap.nextBatch({ reuse });
    if (batch) { for (const p of batch) out.push(seen(p)); }
  }
  return out;
}

/** Opens the pair: `ring` (read by batches) and `ref` (committed to libpcap's reads). */
function openPair(options: Parameters<typeof openLive>[1]): [LiveCapture, LiveCapture] {
  const ring = openLive("lo", { timeout: 20, ...options });
  const ref = openLive("lo", { timeout: 20, ...options });
  ref.nonblocking = true;
  assert.equal(ref.next(), null, "nothing yet (libpcap now reads this one)");
  return [ring, ref];
}

describe("batches read in place from libpcap's ring", { skip }, () => {
  for (const reuse of [true, false]) {
    for (const precision of ["micro", "nano"] as const) {
      test(`equal to libpcap's reads: tags put back, snaplen, late filter (reuse ${reuse}, ${precision})`, () => {
        const [ring, ref] = openPair({ snaplen: 120, timestampPrecision: precision });
        const tx = openLive("lo");
        try {
          const base = 1000 * (reuse ? 1 : 2) + (precision === "nano" ? 500 : 0);
          // Before the filter: rejected frames, and frames it accepts.
          for (let i = 0; i < 20; i++) tx.inject(frame(base + i, 80, 0x88b8));
          for (let i = 0; i < 10; i++) tx.inject(frame(base + 20 + i, 90 + i * 40, 0x88b7));
          // "vlan 7" tests the tag the kernel took out (its extension loads): where the
          // filter runs in user space, libpcap hands the tag to it.
          ring.setFilter("ether proto 0x88b7 or vlan 7");
          ref.setFilter("ether proto 0x88b7 or vlan 7");
          const sent: Uint8Array[] = [];
          for (let i = 0; i < 60; i++) {
            const seq = base + 100 + i;
            const size = 64 + ((i * 53) % 400);
            // Tagged frames carry 0x88b8: only the VLAN 7 ones pass.
            const vid = 7 + (i % 2);
            const f = i % 3 === 0
              ? tagged(seq, size, vid, 0x88b8)
              : i % 7 === 0
              ? frame(seq, size, 0x88b8)
              : frame(seq, size, 0x88b7);
            tx.inject(f);
            if (i % 3 === 0 ? vid === 7 : i % 7 !== 0) sent.push(f);
          }
          const fromRing = drainRing(ring, 10 + sent.length, reuse);
          const fromLibpcap = drainLibpcap(ref, fromRing.length);
          assert.ok(fromLibpcap.length >= sent.length, `libpcap saw ${fromLibpcap.length}`);
          assertSame(fromRing, fromLibpcap);
          // The frames sent after the filter, as sent (tags back in place), cut to 120 bytes.
          const tail = fromRing.slice(-sent.length);
          sent.forEach((f, i) => {
            assert.equal(tail[i].length, f.length);
            assert.equal(tail[i].data, hex(f.subarray(0, 120)));
          });
          if (precision === "micro") assert.ok(tail.every((p) => p.nanoseconds % 1000 === 0));
          assert.ok(!fromRing.some((p) => p.data.slice(24, 28) === "88b8"), "rejected frames");
        } finally {
          ring.close();
          ref.close();
          tx.close();
        }
      });
    }
  }

  test('setDirection("in") and a filter set before any traffic: equal to libpcap', () => {
    const [ring, ref] = openPair({ direction: "in", filter: "ether proto 0x88b7" });
    const tx = openLive("lo");
    try {
      const frames = Array.from({ length: 30 }, (_, i) => frame(3000 + i, 60 + i, 0x88b7));
      for (const f of frames) tx.inject(f);
      const fromRing = drainRing(ring, frames.length, true);
      assertSame(fromRing, drainLibpcap(ref, frames.length));
      assert.deepEqual(fromRing.map((p) => p.data), frames.map(hex), "each frame once, in order");
    } finally {
      ring.close();
      ref.close();
      tx.close();
    }
  });

  test("a reuse batch is a view of the ring; next, dispatch and loop then read the ring too", () => {
    const cap = openLive("lo", { timeout: 20, filter: "ether proto 0x88b7" });
    const tx = openLive("lo");
    try {
      const frames = Array.from({ length: 12 }, (_, i) => frame(4000 + i, 70 + i, 0x88b7));
      for (const f of frames) tx.inject(f);
      let batch: PacketBatch | null = null;
      const end = Date.now() + 5000;
      while (!batch && Date.now() < end) batch = cap.nextBatch({ reuse: true, maxPackets: 3 });
      assert.ok(batch);
      assert.equal(batch.length, 3);
      // libpcap's ring: 2 MiB (the default buffer size), the batch's bytes are inside it.
      assert.equal(batch.bytes.byteLength, 2 << 20, "the batch points into the ring");
      const got = [...batch].map((p) => hex(p.data));
      const first = cap.next();
      assert.ok(first);
      got.push(hex(first.data));
      assert.equal(cap.dispatch((p) => got.push(hex(p.data)), 3), 3);
      let calls = 0;
      const looped = cap.loop((p) => {
        got.push(hex(p.data));
        if (++calls === 2) cap.breakLoop();
      }, 5);
      assert.equal(looped, 2, "breakLoop() ends loop()");
      assert.equal(cap.loop((p) => got.push(hex(p.data)), 3), 3);
      assert.deepEqual(got, frames.map(hex));
      cap.nonblocking = true;
      assert.equal(cap.next(), null);
      assert.equal(cap.dispatch(() => {}), 0);
      cap.close();
      assert.equal(batch.bytes.byteLength, 0, "closing detaches the views of the ring");
    } finally {
      cap.close();
      tx.close();
    }
  });

  test("columnBatches() reads the ring and gets every frame once", async () => {
    const cap = openLive("lo", { timeout: 20, filter: "ether proto 0x88b7" });
    const tx = openLive("lo");
    try {
      const frames = Array.from({ length: 500 }, (_, i) => frame(5000 + i, 60 + (i % 900), 0x88b7));
      const got: string[] = [];
      const reading = (async () => {
        for await (const batch of cap.columnBatches({ reuse: true })) {
          for (let i = 0; i < batch.length; i++) got.push(hex(batch.data(i)));
          if (got.length >= frames.length) break;
        }
      })();
      for (const f of frames) tx.inject(f);
      const timer = setTimeout(() => cap.close(), 10000);
      await reading;
      clearTimeout(timer);
      assert.deepEqual(got, frames.map(hex));
    } finally {
      cap.close();
      tx.close();
    }
  });
});
