// Windows (Wine) legs deno-mingw / bun-mingw: savefiles written by the Windows wpcap.dll
// (pcap_open_dead + pcap_dump_*; the header goes through the 16-byte Windows pcap_pkthdr with
// a 32-bit timeval) read back equal: plain, appended, nanosecond, a corpus file copied whole,
// and a path with non-ASCII characters (pcap_init(UTF-8) makes libpcap open files by UTF-8 name).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDead, openOffline, type Packet, PcapError } from "../../mod.ts";
import { corpusDir } from "../_helpers.ts";

function frame(seq: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5], 0);
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

/** A fresh temporary folder (%TEMP%, a C: path under Wine); removed file by file afterwards. */
async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "dump-"));
  try {
    await fn(dir);
  } finally {
    // (Bun under Wine fails rmSync(dir, { recursive: true }) with EFAULT.)
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
    rmdirSync(dir);
  }
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe("mingw wpcap.dll: dumpers", () => {
  test("a dead handle's dumper writes packets that read back equal; append adds more", () =>
    withDir(async (dir) => {
      const path = join(dir, "out.pcap");
      assert.match(path, /^[A-Z]:\\/);
      const packets = Array.from({ length: 10 }, (_, i) => ({
        data: frame(i, 64 + i),
        seconds: 1700000000 + i,
        nanoseconds: i * 1000,
      }));
      {
        using dead = openDead(1, { snaplen: 65535 });
        using d = dead.dump(path);
        for (const p of packets.slice(0, 6)) d.write(p);
        d.flush();
        const bytes = 24 + packets.slice(0, 6).reduce((s, p) => s + 16 + p.data.length, 0);
        assert.equal(d.position, bytes);
        assert.equal(readFileSync(path).length, bytes, "flush() reached the file");
      }
      {
        using dead = openDead(1, { snaplen: 65535 });
        using d = dead.dump(path, { append: true });
        for (const p of packets.slice(6)) d.write(p);
      }
      // The file itself: a little-endian microsecond pcap header, 16-byte record headers.
      const file = readFileSync(path);
      const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
      assert.equal(v.getUint32(0, true), 0xa1b2c3d4);
      assert.equal(v.getUint32(16, true), 65535, "snaplen");
      assert.equal(v.getUint32(20, true), 1, "link type");
      assert.equal(v.getUint32(24, true), 1700000000, "first record ts_sec");
      assert.equal(v.getUint32(32, true), 64, "first record caplen");
      const back: Packet[] = [];
      const cap = openOffline(path);
      for await (const p of cap) back.push(p);
      cap.close();
      assert.equal(back.length, packets.length);
      back.forEach((p, i) => {
        assert.deepEqual(p.data, packets[i].data);
        assert.equal(p.seconds, packets[i].seconds);
        assert.equal(p.nanoseconds, packets[i].nanoseconds);
        assert.equal(p.caplen, packets[i].data.length);
        assert.equal(p.length, packets[i].data.length);
      });
    }));

  test("a nanosecond dead handle writes a nanosecond file", () =>
    withDir((dir) => {
      const path = join(dir, "ns.pcap");
      {
        using dead = openDead(1, { precision: "nano" });
        using d = dead.dump(path);
        d.write({ data: frame(1, 60), length: 1514, seconds: 5, nanoseconds: 123456789 });
      }
      const file = readFileSync(path);
      assert.equal(new DataView(file.buffer, file.byteOffset).getUint32(0, true), 0xa1b23c4d);
      using cap = openOffline(path, { precision: "nano" });
      const p = cap.next()!;
      assert.equal(p.seconds, 5);
      assert.equal(p.nanoseconds, 123456789);
      assert.equal(p.caplen, 60);
      assert.equal(p.length, 1514);
      assert.equal(cap.next(), null);
    }));

  test("a corpus capture copied packet by packet reads back with the same bytes", () =>
    withDir(async (dir) => {
      const src = join(corpusDir, "tcpdump", "mptcp-v0.pcap");
      const path = join(dir, "copy.pcap");
      const original: Packet[] = [];
      {
        const cap = openOffline(src);
        using dead = openDead(cap.linkType, { snaplen: cap.snaplen });
        using d = dead.dump(path);
        for await (const p of cap) {
          original.push(p);
          d.write(p);
        }
        cap.close();
      }
      assert.ok(original.length > 10);
      const back: Packet[] = [];
      const cap = openOffline(path);
      for await (const p of cap) back.push(p);
      cap.close();
      assert.deepEqual(back.map((p) => sha(p.data)), original.map((p) => sha(p.data)));
      assert.deepEqual(
        back.map((p) => [p.seconds, p.nanoseconds, p.caplen, p.length]),
        original.map((p) => [p.seconds, p.nanoseconds, p.caplen, p.length]),
      );
    }));

  test("a path with non-ASCII characters (UTF-8 through pcap_init)", () =>
    withDir(async (dir) => {
      const path = join(dir, "captüre-ñ-日本.pcap");
      {
        using dead = openDead(1);
        using d = dead.dump(path);
        d.write({ data: frame(3, 80), seconds: 1, nanoseconds: 0 });
      }
      assert.ok(existsSync(path), `${path} exists under its UTF-8 name`);
      const got: Packet[] = [];
      const cap = openOffline(path);
      for await (const p of cap) got.push(p);
      cap.close();
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].data, frame(3, 80));
    }));

  test("errors: a dumper in a missing folder, and use after close", () => {
    using dead = openDead(1);
    assert.throws(() => dead.dump(join(tmpdir(), "no-such-dir-x", "a.pcap")), (e: unknown) => {
      assert.ok(e instanceof PcapError, String(e));
      assert.equal(e.code, "IO");
      return true;
    });
    return withDir((dir) => {
      const d = dead.dump(join(dir, "c.pcap"));
      d.close();
      d.close();
      assert.throws(() => d.write({ data: frame(0, 60) }), { name: "PcapError", code: "CLOSED" });
    });
  });
});
