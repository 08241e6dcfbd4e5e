// Unit tests of PcapWriter and PcapngWriter: in-memory chunks, WritableStream, file path,
// append, and every pcapng block type read back by our reader (and tshark when present).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./_helpers.ts";
import { PcapError, PcapFormatError } from "../src/errors.ts";
import {
  BlockType,
  PcapngWriter,
  PcapWriter,
  readPackets,
  readPacketsSync,
  SavefileReader,
} from "../src/savefile/mod.ts";
import { haveTshark, tshark } from "./_savefile_util.ts";

const dir = join(repoRoot, "tests", "out", `savefile-writer-${process.pid}`);

function packet(i: number, size = 60): Uint8Array {
  const d = new Uint8Array(size);
  for (let j = 0; j < size; j++) d[j] = (i * 7 + j) & 0xff;
  return d;
}

describe("PcapWriter", () => {
  test("in memory, micro and nano, both byte orders, snaplen truncation", () => {
    for (const precision of ["micro", "nano"] as const) {
      for (const byteOrder of ["little", "big"] as const) {
        const w = PcapWriter.inMemory({ linkType: 101, snaplen: 50, precision, byteOrder });
        for (let i = 0; i < 1000; i++) {
          w.writePacket({ data: packet(i), seconds: 1_700_000_000 + i, nanoseconds: i * 1001 });
        }
        assert.equal(w.packetsWritten, 1000);
        const bytes = w.toBytes();
        assert.equal(bytes.length, 24 + 1000 * (16 + 50));
        assert.equal(w.bytesWritten, bytes.length);
        const r = SavefileReader.fromBytes(bytes);
        assert.equal(r.info.linkType, 101);
        assert.equal(r.info.snaplen, 50);
        assert.equal(r.info.byteOrder, byteOrder);
        assert.equal(r.info.tsPrecision, precision);
        let i = 0;
        for (const p of r) {
          assert.equal(p.seconds, 1_700_000_000 + i);
          const ns = i * 1001;
          assert.equal(p.nanoseconds, precision === "nano" ? ns : Math.floor(ns / 1000) * 1000);
          assert.equal(p.caplen, 50);
          assert.equal(p.length, 60);
          assert.deepEqual(p.data, packet(i).subarray(0, 50));
          i++;
        }
        assert.equal(i, 1000);
      }
    }
  });

  test("chunks are buffered into large pieces", () => {
    const w = PcapWriter.inMemory({ bufferSize: 64 * 1024 });
    for (let i = 0; i < 5000; i++) w.writePacket({ data: packet(i, 100), seconds: i });
    const chunks = w.chunks;
    assert.ok(chunks.length >= 8 && chunks.length <= 12, `chunks: ${chunks.length}`);
    for (const c of chunks.slice(0, -1)) assert.ok(c.length > 60 * 1024);
    assert.equal([...readPacketsSync(w.toBytes())].length, 5000);
  });

  test("WritableStream target, with backpressure", async () => {
    const got: Uint8Array[] = [];
    const stream = new WritableStream<Uint8Array>({
      async write(chunk): Promise<void> {
        await new Promise((r) => setTimeout(r, 1));
        got.push(chunk.slice());
      },
    }, { highWaterMark: 1 });
    const w = await PcapWriter.open(stream, { precision: "nano", bufferSize: 8192 });
    for (let i = 0; i < 3000; i++) {
      await w.writePacket({ data: packet(i, 1000), seconds: i, nanoseconds: 5 });
    }
    await w.close();
    await w.close(); // idempotent
    const total = got.reduce((a, c) => a + c.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of got) (all.set(c, o), o += c.length);
    const recs = [...readPacketsSync(all)];
    assert.equal(recs.length, 3000);
    assert.equal(recs[2999].nanoseconds, 5);
    assert.throws(() => w.writePacket({ data: packet(0) }), PcapError);
  });

  test("file path, flush, asyncDispose and append", async () => {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "append.pcap");
    {
      await using w = await PcapWriter.open(file, { linkType: 1, snaplen: 1500 });
      for (let i = 0; i < 10; i++) w.writePacket({ data: packet(i), seconds: i });
      await w.flush();
      assert.equal(statSync(file).size, 24 + 10 * 76);
    }
    {
      // options left out are taken from the file
      const w = await PcapWriter.open(file, { append: true });
      assert.equal(w.snaplen, 1500);
      for (let i = 10; i < 20; i++) w.writePacket({ data: packet(i), seconds: i });
      await w.close();
    }
    const recs = [];
    for await (const p of readPackets(file)) recs.push(p);
    assert.equal(recs.length, 20);
    assert.deepEqual(recs.map((p) => p.seconds), [...Array(20).keys()]);
    await assert.rejects(PcapWriter.open(file, { append: true, linkType: 105 }), PcapFormatError);
    await assert.rejects(
      PcapWriter.open(file, { append: true, precision: "nano" }),
      PcapFormatError,
    );
    // appending to a pcapng file is refused; appending to a missing file creates it
    const ng = join(dir, "x.pcapng");
    writeFileSync(ng, PcapngWriter.inMemory().toBytes());
    await assert.rejects(PcapWriter.open(ng, { append: true }), PcapFormatError);
    const fresh = join(dir, "fresh.pcap");
    const w2 = await PcapWriter.open(fresh, { append: true, precision: "nano" });
    w2.writePacket({ data: packet(1), seconds: 1 });
    await w2.close();
    assert.equal(SavefileReader.fromBytes(readFileSync(fresh)).info.tsPrecision, "nano");
    rmSync(dir, { recursive: true, force: true });
  });

  test("FCS bits in the link-type field", () => {
    const w = PcapWriter.inMemory({ linkType: 1, fcsLength: 4 });
    const r = SavefileReader.fromBytes(w.toBytes());
    assert.equal(r.info.linkType, 1);
    assert.equal(r.info.fcsLength, 4);
    assert.equal(r.info.linkTypeExt, 0x24000000);
  });
});

describe("PcapngWriter", () => {
  test("all block types round trip through our reader", () => {
    for (const byteOrder of ["little", "big"] as const) {
      const w = PcapngWriter.inMemory({
        byteOrder,
        section: { hardware: "hw", os: "Linux", userApplication: "netcap", comments: ["c1"] },
      });
      const a = w.addInterface({
        linkType: 1,
        snaplen: 128,
        name: "eth0",
        description: "first",
        tsResolution: 6,
        filter: "tcp port 80",
        os: "linux",
        hardware: "nic",
        fcsLength: 4,
        speed: 1_000_000_000n,
        ipv4Addresses: ["192.168.1.2/255.255.255.0"],
        ipv6Addresses: ["2001:db8::1/64"],
        macAddress: "00:11:22:33:44:55",
        comments: ["iface"],
      });
      const b = w.addInterface({
        linkType: 101,
        tsResolution: { base: 2, exponent: 20 },
        tsOffset: 1000,
      });
      const c = w.addInterface({ linkType: 113, tsResolution: 9 });
      w.writeNameResolution([
        { address: "10.0.0.1", names: ["a.example", "b.example"] },
        { address: "2001:db8::2", names: ["v6.example"] },
        { type: 3, address: "00:11:22:33:44:55", names: ["mac"] },
      ], { comments: ["nrb"] });
      w.writePacket({
        interfaceId: a,
        data: packet(1, 200),
        seconds: 1_700_000_000,
        nanoseconds: 123_456_789,
        flags: 1,
        comments: ["hello", "wörld"],
      });
      w.writePacket({
        interfaceId: b,
        data: packet(2, 33),
        seconds: 1_700_000_001,
        nanoseconds: 0,
      });
      w.writePacket({
        interfaceId: c,
        data: packet(3, 0),
        length: 9000,
        seconds: 4_323_283_200,
        nanoseconds: 999_999_999,
      });
      w.writeStatistics(a, {
        timestamp: { seconds: 1_700_000_002, nanoseconds: 0 },
        startTime: { seconds: 1_699_999_999, nanoseconds: 0 },
        received: 10n,
        dropped: 1,
        delivered: 9,
        comments: ["stats"],
      });
      w.writeCustomBlock({ pen: 32473, data: new TextEncoder().encode("custom!") });
      w.writeCustomBlock({ pen: 1, data: new Uint8Array(3), copyAllowed: false });
      w.writeDecryptionSecrets(0x544c534b, new TextEncoder().encode("CLIENT_RANDOM x y\n"));
      w.startSection({ comments: ["second"] });
      w.addInterface({ linkType: 228 });
      w.writePacket({ data: packet(4, 20), seconds: 5 });

      const r = SavefileReader.fromBytes(w.toBytes());
      assert.equal(r.info.format, "pcapng");
      assert.equal(r.info.byteOrder, byteOrder);
      assert.equal(r.info.linkType, 1);
      const recs = [...r];
      assert.equal(recs.length, 4);
      const s0 = r.sections[0];
      assert.equal(s0.hardware, "hw");
      assert.equal(s0.os, "Linux");
      assert.equal(s0.userApplication, "netcap");
      assert.deepEqual(s0.comments, ["c1"]);
      assert.deepEqual(r.sections[1].comments, ["second"]);
      const [i0, i1, i2, i3] = r.interfaces;
      assert.equal(i0.name, "eth0");
      assert.equal(i0.description, "first");
      assert.equal(i0.snaplen, 128);
      assert.deepEqual(i0.tsResolution, { base: 10, exponent: 6 });
      assert.equal(i0.filter?.expression, "tcp port 80");
      assert.equal(i0.os, "linux");
      assert.equal(i0.hardware, "nic");
      assert.equal(i0.fcsLength, 4);
      assert.equal(i0.speed, 1_000_000_000n);
      assert.deepEqual(i0.ipv4Addresses, ["192.168.1.2/255.255.255.0"]);
      assert.deepEqual(i0.ipv6Addresses, ["2001:db8::1/64"]);
      assert.equal(i0.macAddress, "00:11:22:33:44:55");
      assert.deepEqual(i0.comments, ["iface"]);
      assert.deepEqual(i1.tsResolution, { base: 2, exponent: 20 });
      assert.equal(i1.tsOffset, 1000n);
      assert.equal(i2.linkType, 113);
      assert.equal(i3.sectionIndex, 1);
      assert.equal(i3.id, 0);

      assert.deepEqual(recs[0].comments, ["hello", "wörld"]);
      assert.equal(recs[0].flags, 1);
      assert.equal(recs[0].nanoseconds, 123_456_000); // microsecond interface
      assert.equal(recs[0].caplen, 128);
      assert.equal(recs[0].length, 200);
      assert.equal(recs[1].seconds, 1_700_000_001);
      assert.equal(recs[1].nanoseconds, 0);
      assert.equal(recs[1].linkType, 101);
      assert.equal(recs[2].seconds, 4_323_283_200);
      assert.equal(recs[2].nanoseconds, 999_999_999);
      assert.equal(recs[2].length, 9000);
      assert.equal(recs[3].interface, i3);
      assert.equal(recs[3].linkType, 228);

      const nrb = r.nameResolution[0];
      assert.deepEqual(nrb.records.map((x) => [x.type, x.address, x.names]), [
        [1, "10.0.0.1", ["a.example", "b.example"]],
        [2, "2001:db8::2", ["v6.example"]],
        [3, "00:11:22:33:44:55", ["mac"]],
      ]);
      assert.deepEqual(nrb.comments, ["nrb"]);
      const st = r.statistics[0];
      assert.equal(st.interfaceId, 0);
      assert.equal(st.received, 10n);
      assert.equal(st.dropped, 1n);
      assert.equal(st.delivered, 9n);
      assert.deepEqual(st.timestamp, { seconds: 1_700_000_002, nanoseconds: 0 });
      assert.deepEqual(st.startTime, { seconds: 1_699_999_999, nanoseconds: 0 });
      assert.deepEqual(i0.statistics, [st]);
      assert.deepEqual(st.comments, ["stats"]);
      assert.equal(r.customBlocks.length, 2);
      assert.equal(r.customBlocks[0].pen, 32473);
      assert.equal(new TextDecoder().decode(r.customBlocks[0].data).slice(0, 7), "custom!");
      assert.equal(r.customBlocks[1].type, BlockType.CUSTOM_NO_COPY);
      assert.equal(r.decryptionSecrets[0].secretsType, 0x544c534b);
      assert.equal(new TextDecoder().decode(r.decryptionSecrets[0].data), "CLIENT_RANDOM x y\n");

      // copies of reused records stay valid
      const copy = recs[0].copy();
      assert.deepEqual(copy.comments, ["hello", "wörld"]);
      assert.equal(copy.flags, 1);
    }
  });

  test("file target read by tshark (comments, flags, interfaces)", async (t) => {
    if (!haveTshark) {
      t.skip("tshark not installed");
      return;
    }
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "t.pcapng");
    const w = await PcapngWriter.open(file, {
      interfaces: [{ linkType: 1, name: "eth0" }, { linkType: 101, tsResolution: 6 }],
    });
    w.writePacket({ interfaceId: 1, data: packet(0, 40), seconds: 1, nanoseconds: 2000 });
    w.writePacket({
      data: packet(1, 64),
      seconds: 1_700_000_000,
      nanoseconds: 1,
      comments: ["hi"],
    });
    await w.close();
    const { frames } = tshark(file);
    assert.deepEqual(
      frames.map((f) => [f.time, f.caplen, f.interfaceId, f.comment]),
      [["1.000002000", 40, 1, ""], ["1700000000.000000001", 64, 0, "hi"]],
    );
    rmSync(dir, { recursive: true, force: true });
  });

  test("readBatches reuses one record per batch; copy() keeps it", async () => {
    const w = PcapngWriter.inMemory({ interfaces: [{ linkType: 1 }] });
    for (let i = 0; i < 100; i++) w.writePacket({ data: packet(i, 100), seconds: i });
    const { readBatches } = await import("../src/savefile/mod.ts");
    const kept = [];
    let seen = 0;
    for await (const batch of readBatches(w.toBytes())) {
      let prev: unknown = null;
      for (const p of batch) {
        if (prev) assert.equal(p, prev);
        prev = p;
        kept.push(p.copy());
        seen++;
      }
    }
    assert.equal(seen, 100);
    assert.deepEqual(kept.map((p) => p.seconds), [...Array(100).keys()]);
    assert.deepEqual(kept[42].data, packet(42, 100));
  });

  test("records: header fields read on access are right in reused buffers and in copies", async () => {
    mkdirSync(dir, { recursive: true });
    const { readBatches } = await import("../src/savefile/mod.ts");
    for (const ng of [false, true]) {
      for (const byteOrder of ["little", "big"] as const) {
        const w = ng
          ? PcapngWriter.inMemory({
            byteOrder,
            interfaces: [{ linkType: 1, tsResolution: 6 }, { linkType: 101 }],
          })
          : PcapWriter.inMemory({ linkType: 1, byteOrder, precision: "nano" });
        const want = [];
        for (let i = 0; i < 400; i++) {
          const iface = ng ? i % 2 : 0;
          const rec = {
            interfaceId: iface,
            data: packet(i, 40 + (i % 50)),
            length: 1000 + i,
            seconds: 1_700_000_000 + i,
            nanoseconds: iface === 0 && ng ? (i % 1000) * 1000 : i * 3,
            flags: ng && i % 3 === 0 ? i : undefined,
            comments: ng && i % 5 === 0 ? [`c${i}`] : undefined,
          };
          w.writePacket(rec);
          want.push(rec);
        }
        const file = join(dir, `fields-${byteOrder}.${ng ? "pcapng" : "pcap"}`);
        writeFileSync(file, w.toBytes());
        const fields = (p: {
          interfaceId: number;
          linkType: number;
          seconds: number;
          nanoseconds: number;
          caplen: number;
          length: number;
          data: Uint8Array;
          flags: number | undefined;
          comments: readonly string[];
          blockType: number;
        }) => [
          p.interfaceId,
          p.linkType,
          p.seconds,
          p.nanoseconds,
          p.caplen,
          p.length,
          [...p.data],
          p.flags,
          p.comments,
          p.blockType,
        ];
        const expected = want.map((r) => [
          r.interfaceId,
          r.interfaceId === 1 ? 101 : 1,
          r.seconds,
          r.nanoseconds,
          r.data.length,
          r.length,
          [...r.data],
          r.flags,
          r.comments ?? [],
          ng ? BlockType.EPB : 0,
        ]);
        // the reused record in small reused buffers, and copies checked after the buffers moved on
        const got = [], copies = [], offsets: number[] = [];
        for await (const batch of readBatches(file, { chunkSize: 4096 })) {
          for (const p of batch) {
            got.push(fields(p));
            copies.push(p.copy());
            offsets.push(p.offset);
          }
        }
        assert.deepEqual(got, expected);
        assert.deepEqual(copies.map(fields), expected);
        assert.deepEqual(copies.map((p) => p.offset), offsets);
        assert.deepEqual(
          [...readPacketsSync(readFileSync(file))].map((p) => p.offset),
          offsets,
        );
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("records: lazy data view of bytes/dataOffset, fresh records stay valid", async () => {
    mkdirSync(dir, { recursive: true });
    for (const ng of [false, true]) {
      const w = ng
        ? PcapngWriter.inMemory({ interfaces: [{ linkType: 1 }] })
        : PcapWriter.inMemory({ linkType: 1 });
      for (let i = 0; i < 300; i++) w.writePacket({ data: packet(i, 50 + (i % 40)), seconds: i });
      const bytes = w.toBytes();
      // readPacketsSync: data is a cached view of the input bytes
      let i = 0;
      for (const p of readPacketsSync(bytes)) {
        assert.equal(p.bytes, bytes);
        assert.equal(p.caplen, 50 + (i % 40));
        const d = p.data;
        assert.equal(d, p.data);
        assert.equal(d.buffer, bytes.buffer);
        assert.equal(d.byteOffset, bytes.byteOffset + p.dataOffset);
        assert.deepEqual(d, packet(i, p.caplen));
        const c = p.copy();
        assert.deepEqual(c.data, d);
        assert.deepEqual(c.bytes.subarray(c.dataOffset, c.dataOffset + c.caplen), d);
        i++;
      }
      assert.equal(i, 300);
      // fresh records from a file in small chunks: data made long after the record was read
      const file = join(dir, ng ? "lazy.pcapng" : "lazy.pcap");
      writeFileSync(file, bytes);
      const recs = [];
      for await (const p of readPackets(file, { chunkSize: 4096 })) recs.push(p);
      assert.equal(recs.length, 300);
      recs.forEach((p, i) => assert.deepEqual(p.data, packet(i, 50 + (i % 40))));
      // batches: the reused record's data is right while the batch is current
      const { readBatches } = await import("../src/savefile/mod.ts");
      i = 0;
      for await (const batch of readBatches(file, { chunkSize: 4096 })) {
        for (const p of batch) {
          if (i % 3 === 0) assert.deepEqual(p.data, packet(i, 50 + (i % 40)));
          const view = p.bytes.subarray(p.dataOffset, p.dataOffset + p.caplen);
          assert.deepEqual(view, packet(i, 50 + (i % 40)));
          i++;
        }
      }
      assert.equal(i, 300);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("bad arguments are TypeError / RangeError", () => {
    const w = PcapngWriter.inMemory();
    assert.throws(() => w.writePacket({ data: packet(0) }), RangeError); // no interface
    assert.throws(() => w.addInterface({ linkType: 70000 }), RangeError);
    assert.throws(() => w.addInterface({ linkType: 1, ipv4Addresses: ["1.2.3"] }), TypeError);
    assert.throws(() => PcapWriter.inMemory({ snaplen: -1 }), RangeError);
  });
});
