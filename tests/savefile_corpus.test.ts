// Savefile reader against the shared corpus: libpcap's results (expected/*.json) and, for
// pcapng files libpcap cannot read to the end (interfaces with different link types or
// snapshot lengths), tshark.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";
import { PcapFormatError } from "../src/errors.ts";
import {
  type PacketRecord,
  readBatches,
  readPackets,
  readPacketsSync,
  SavefileReader,
} from "../src/savefile/mod.ts";
import { linkTypeToDlt, maxSnaplenFor } from "../src/savefile/decoder.ts";
import { haveTshark, tsharkFrames, tsText } from "./_savefile_util.ts";

interface ExpectedPacket {
  i: number;
  ts_sec: number;
  ts_nsec: number;
  caplen: number;
  len: number;
  sha256: string;
}
interface Expected {
  path: string;
  format: string;
  magic: string;
  open_ok: boolean;
  open_error: string | null;
  dlt: number;
  datalink_ext: number;
  header_linktype_field: number;
  snaplen: number;
  tstamp_precision: string;
  is_swapped: boolean;
  version_major: number;
  version_minor: number;
  packet_count: number;
  status: "eof" | "error";
  error: string | null;
  stopped_at: number | null;
  packets: ExpectedPacket[];
}

interface Got {
  packets: { ts_sec: number; ts_nsec: number; caplen: number; len: number; sha256: string }[];
  records: PacketRecord[];
  error: unknown;
}

function sha(d: Uint8Array): string {
  return createHash("sha256").update(d).digest("hex");
}

function summarize(p: PacketRecord): Got["packets"][number] {
  return {
    ts_sec: p.seconds,
    ts_nsec: p.nanoseconds,
    caplen: p.caplen,
    len: p.length,
    sha256: sha(p.data),
  };
}

function readSync(bytes: Uint8Array): Got {
  const got: Got = { packets: [], records: [], error: undefined };
  try {
    for (const p of readPacketsSync(bytes)) {
      assert.equal(p.data.length, p.caplen);
      got.packets.push(summarize(p));
      got.records.push(p);
    }
  } catch (e) {
    got.error = e;
  }
  return got;
}

async function readAsync(
  it: () => AsyncIterable<PacketRecord> | Promise<AsyncIterable<Iterable<PacketRecord>>>,
  batched: boolean,
): Promise<Got> {
  const got: Got = { packets: [], records: [], error: undefined };
  try {
    if (batched) {
      for await (const b of await it() as AsyncIterable<Iterable<PacketRecord>>) {
        for (const p of b) got.packets.push(summarize(p));
      }
    } else {
      for await (const p of it() as AsyncIterable<PacketRecord>) got.packets.push(summarize(p));
    }
  } catch (e) {
    got.error = e;
  }
  return got;
}

function tinyStream(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream<Uint8Array>({
    pull(c): void {
      if (o >= bytes.length) return c.close();
      c.enqueue(bytes.slice(o, o + size));
      o += size;
    },
  });
}

const LIBPCAP_LIMITATION = /different from the (type|snapshot length) of the first interface/;

describe("savefile reader vs corpus", { skip: !haveCorpus && "corpus not found" }, () => {
  if (!haveCorpus) return;
  const manifest = corpusJson<{ files: { path: string }[] }>("manifest.json");
  const tsharkSkip = haveTshark ? false : "tshark not installed";
  let checked = 0;

  for (const { path } of manifest.files) {
    const exp = corpusJson<Expected>(`expected/${path}.json`);
    const file = join(corpusDir, path);
    test(path, async () => {
      const bytes = new Uint8Array(readFileSync(file));
      if (!exp.open_ok) {
        if (/no Interface Description Blocks/.test(exp.open_error ?? "")) {
          // We read it like Wireshark: a valid file without packets.
          const got = readSync(bytes);
          assert.equal(got.error, undefined);
          assert.equal(got.packets.length, 0);
          return;
        }
        assert.throws(() => SavefileReader.fromBytes(bytes), PcapFormatError);
        await assert.rejects(SavefileReader.open(file), PcapFormatError);
        return;
      }
      const r = SavefileReader.fromBytes(bytes);
      const info = r.info;
      assert.equal(info.format, exp.format);
      assert.equal(info.byteOrder === "big", exp.is_swapped);
      assert.equal(info.versionMajor, exp.version_major);
      assert.equal(info.versionMinor, exp.version_minor);
      assert.equal(linkTypeToDlt(info.linkType), exp.dlt);
      assert.equal(info.linkTypeField, exp.header_linktype_field);
      assert.equal(info.linkTypeExt, exp.datalink_ext);
      if (info.format === "pcap") {
        assert.equal(info.snaplen, exp.snaplen);
        const nanoMagic = exp.magic === "4d3cb2a1" || exp.magic === "a1b23c4d";
        assert.equal(info.tsPrecision, nanoMagic ? "nano" : "micro");
      } else {
        const max = maxSnaplenFor(linkTypeToDlt(info.linkType));
        assert.equal(info.snaplen === 0 ? max : info.snaplen, exp.snaplen);
      }

      const got = readSync(bytes);
      const expPackets = exp.packets.map((p) => ({
        ts_sec: p.ts_sec,
        ts_nsec: p.ts_nsec,
        caplen: p.caplen,
        len: p.len,
        sha256: p.sha256,
      }));
      const limitation = exp.status === "error" && LIBPCAP_LIMITATION.test(exp.error ?? "");
      if (limitation) {
        assert.equal(got.error, undefined, String(got.error));
        assert.deepEqual(got.packets.slice(0, exp.packet_count), expPackets);
        assert.ok(got.packets.length >= exp.packet_count);
      } else {
        assert.deepEqual(got.packets, expPackets);
        if (exp.status === "eof") assert.equal(got.error, undefined, String(got.error));
        else {
          assert.ok(got.error instanceof PcapFormatError, `expected PcapFormatError: ${got.error}`);
          assert.equal(exp.stopped_at, exp.packet_count);
        }
      }

      // Every source and path gives the same records and outcome.
      const variants: [string, Got][] = [
        ["readPackets(path)", await readAsync(() => readPackets(file), false)],
        [
          "readPackets(URL, small chunks)",
          await readAsync(() => readPackets(new URL(`file://${file}`), { chunkSize: 4096 }), false),
        ],
        [
          "readBatches(path)",
          await readAsync(() => Promise.resolve(readBatches(file, { chunkSize: 4096 })), true),
        ],
        [
          "readBatches(stream)",
          await readAsync(() => Promise.resolve(readBatches(tinyStream(bytes, 7))), true),
        ],
        ["readPackets(stream)", await readAsync(() => readPackets(tinyStream(bytes, 1000)), false)],
        [
          "readPackets(node stream)",
          await readAsync(() =>
            readPackets(
              Readable.toWeb(Readable.from([Buffer.from(bytes)])) as ReadableStream<Uint8Array>,
            ), false),
        ],
      ];
      for (const [name, v] of variants) {
        assert.deepEqual(v.packets, got.packets, name);
        assert.equal(v.error === undefined, got.error === undefined, `${name}: ${v.error}`);
        if (v.error) assert.ok(v.error instanceof PcapFormatError, `${name}: ${v.error}`);
      }

      if (limitation || info.format === "pcapng") {
        if (tsharkSkip) {
          console.log(`skip tshark comparison of ${path}: ${tsharkSkip}`);
          return;
        }
        const frames = tsharkFrames(file);
        assert.equal(frames.length, got.records.length, "tshark frame count");
        got.records.forEach((p, i) => {
          const f = frames[i];
          assert.equal(
            f.time,
            p.blockType === 3 ? "" : tsText(p.seconds, p.nanoseconds),
            `time ${i}`,
          );
          assert.equal(f.caplen, p.caplen, `caplen ${i}`);
          assert.equal(f.len, p.length, `len ${i}`);
          assert.equal(f.interfaceId, p.interfaceId, `interface ${i}`);
        });
      }
      checked++;
    });
  }
  test("all expected files were checked", () => {
    assert.ok(checked > 100, `checked ${checked}`);
  });
});
