// next() on a savefile: packets are views of libpcap's read buffer (no copy),
// detached when that buffer may go (libpcap grows it, or the handle closes).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openOffline, PacketBatch } from "../mod.ts";

interface Rec {
  seconds: number;
  fraction: number;
  data: Uint8Array;
  length?: number;
}

/** A little-endian pcap file (µs or ns magic) holding `recs`. */
function pcapFile(recs: Rec[], nano = false): Uint8Array {
  const size = 24 + recs.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, 1, true);
  let off = 24;
  for (const r of recs) {
    v.setUint32(off, r.seconds, true);
    v.setUint32(off + 4, r.fraction, true);
    v.setUint32(off + 8, r.data.length, true);
    v.setUint32(off + 12, r.length ?? r.data.length, true);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}

function bytes(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

const dir = mkdtempSync(join(tmpdir(), "pcap-next-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("next() on a savefile", () => {
  // Sizes chosen so that libpcap has to grow its read buffer mid-file.
  const sizes = [60, 60, 1500, 60, 9000, 70000, 64, 64, 0, 200000, 60];
  const recs: Rec[] = sizes.map((n, i) => ({
    seconds: 1_700_000_000 + i,
    fraction: i * 1000 + 7,
    data: bytes(n, i),
    length: n + (i % 3),
  }));
  const file = join(dir, "sizes.pcap");
  writeFileSync(file, pcapFile(recs));

  test("every packet's header and bytes are right when read", () => {
    using cap = openOffline(file);
    for (const r of recs) {
      const p = cap.next();
      assert.ok(p);
      assert.equal(p.seconds, r.seconds);
      assert.equal(p.nanoseconds, r.fraction * 1000);
      assert.equal(p.caplen, r.data.length);
      assert.equal(p.length, r.length);
      assert.equal(p.data.length, r.data.length);
      assert.deepEqual(p.data, r.data);
    }
    assert.equal(cap.next(), null);
    assert.equal(cap.next(), null);
  });

  test("a clone keeps its bytes; the shared view is detached once the handle closes", () => {
    const cap = openOffline(file);
    cap.next(); // the first packet is a copy (libpcap's buffer is not known to stay put yet)
    const second = cap.next()!;
    const kept = second.clone();
    assert.deepEqual(second.data, recs[1].data);
    cap.close();
    // The shared memory is gone: its views have no bytes left (no read of freed memory).
    assert.equal(second.data.length, 0);
    assert.equal(second.data[0], undefined);
    assert.deepEqual(kept.data, recs[1].data);
    assert.equal(kept.caplen, recs[1].data.length);
  });

  test("views of a buffer libpcap has since grown are detached, not left dangling", () => {
    using cap = openOffline(file);
    const held: Uint8Array[] = [];
    for (let i = 0; i < recs.length; i++) {
      const p = cap.next()!;
      assert.deepEqual(p.data, recs[i].data, `packet ${i}`);
      held.push(p.data);
    }
    // Each held view now shows either the memory libpcap still reads into
    // (the bytes of a later packet: the documented sharing) or nothing.
    for (const [i, d] of held.entries()) {
      assert.ok(d.length === 0 || d.length === recs[i].data.length, `view ${i}: ${d.length}`);
    }
    assert.ok(held.some((d) => d.length === 0), "growing the buffer detached the older views");
  });

  test("packets from for-await and dispatch own their memory", async () => {
    const seen: Uint8Array[] = [];
    {
      using cap = openOffline(file);
      cap.dispatch((p) => seen.push(p.data), 3);
      for await (const p of cap) seen.push(p.data);
    }
    assert.equal(seen.length, recs.length);
    for (const [i, d] of seen.entries()) assert.deepEqual(d, recs[i].data, `packet ${i}`);
  });

  test("nanosecond files; seconds are signed 32-bit in the file, as libpcap reads them", () => {
    const nano = join(dir, "nano.pcap");
    const late: Rec[] = [
      { seconds: 0xfffffffe, fraction: 999_999_999, data: bytes(42, 1) },
      { seconds: 3_000_000_000, fraction: 1, data: bytes(43, 2) },
      { seconds: 0, fraction: 0, data: bytes(44, 3) },
    ];
    writeFileSync(nano, pcapFile(late, true));
    using cap = openOffline(nano, { precision: "nano" });
    for (const r of late) {
      const p = cap.next()!;
      assert.equal(p.seconds, r.seconds | 0);
      assert.equal(p.nanoseconds, r.fraction);
      assert.deepEqual(p.data, r.data);
    }
    assert.equal(cap.next(), null);
  });

  test("a missing or malformed file is reported with libpcap's text", () => {
    assert.throws(() => openOffline(join(dir, "none.pcap")), /No such file or directory/);
    const bad = join(dir, "bad.pcap");
    writeFileSync(bad, new Uint8Array(64).fill(0x55));
    assert.throws(() => openOffline(bad), /unknown file format/);
  });
});

describe("columnBatches()", () => {
  const recs: Rec[] = Array.from({ length: 700 }, (_, i) => ({
    seconds: 1_600_000_000 + (i >> 4),
    fraction: (i * 997) % 1_000_000,
    data: bytes(20 + (i * 37) % 1500, i),
    length: 1600,
  }));
  const file = join(dir, "columns.pcap");
  writeFileSync(file, pcapFile(recs));

  test("columns equal the packets, batch by batch, with no object per packet", async () => {
    using cap = openOffline(file);
    let i = 0;
    let batches = 0;
    for await (const batch of cap.columnBatches({ maxPackets: 256 })) {
      batches++;
      assert.ok(batch instanceof PacketBatch);
      assert.ok(batch.length > 0 && batch.length <= 256);
      assert.equal(batch.linkType, 1);
      for (let k = 0; k < batch.length; k++, i++) {
        const r = recs[i];
        assert.equal(batch.seconds[k], r.seconds);
        assert.equal(batch.nanoseconds[k], r.fraction * 1000);
        assert.equal(batch.caplens[k], r.data.length);
        assert.equal(batch.lengths[k], 1600);
        const o = batch.offsets[k];
        assert.deepEqual(batch.bytes.subarray(o, o + batch.caplens[k]), r.data);
        assert.deepEqual(batch.data(k), r.data);
      }
      const packets = batch.toArray();
      assert.equal(packets.length, batch.length);
      assert.deepEqual([...batch].map((p) => p.caplen), packets.map((p) => p.caplen));
      assert.throws(() => batch.packet(batch.length), {
        name: "RangeError",
        message: `packet index must be an integer from 0 to ${
          batch.length - 1
        }, got ${batch.length}`,
      });
    }
    assert.equal(i, recs.length);
    assert.equal(batches, Math.ceil(recs.length / 256));
  });

  test("nextBatch(): the same batches synchronously, null at the end", () => {
    using cap = openOffline(file);
    let i = 0;
    for (
      let batch = cap.nextBatch({ maxPackets: 300 });
      batch;
      batch = cap.nextBatch({ maxPackets: 300 })
    ) {
      assert.ok(batch.length > 0 && batch.length <= 300);
      for (let k = 0; k < batch.length; k++, i++) assert.deepEqual(batch.data(k), recs[i].data);
    }
    assert.equal(i, recs.length);
    assert.equal(cap.nextBatch(), null, "still null after the end");
    assert.throws(() => cap.nextBatch({ maxPackets: 0 }), {
      name: "RangeError",
      message: "maxPackets must be a positive integer or -1",
    });
    cap.close();
    assert.throws(() => cap.nextBatch(), { name: "PcapError", code: "CLOSED" });
  });

  test("batches keep their bytes after the handle closes", async () => {
    const kept: PacketBatch[] = [];
    {
      using cap = openOffline(file);
      for await (const batch of cap.columnBatches()) kept.push(batch);
    }
    let i = 0;
    for (const batch of kept) {
      for (const p of batch) assert.deepEqual(p.data, recs[i++].data);
    }
    assert.equal(i, recs.length);
  });
});
