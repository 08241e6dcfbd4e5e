// Round trips: every corpus capture we can read, written by our pcap and pcapng writers and
// read back by our reader, by tshark and (pcap) by tcpdump.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { corpusDir, corpusJson, haveCorpus, repoRoot } from "./_helpers.ts";
import {
  type InterfaceInfo,
  type PacketRecord,
  PcapngWriter,
  PcapWriter,
  readPacketsSync,
  SavefileReader,
} from "../src/savefile/mod.ts";
import { haveTcpdump, haveTshark, tshark, tsText } from "./_savefile_util.ts";

const outDir = join(repoRoot, "tests", "out", `savefile-roundtrip-${process.pid}`);

function normal(p: PacketRecord): boolean {
  return p.seconds >= 0 && p.nanoseconds >= 0 && p.nanoseconds < 1e9;
}

/** Time stamp as a pcapng reader sees it after normalisation (seconds carry). */
function normalized(p: PacketRecord): [number, number] {
  const carry = Math.floor(p.nanoseconds / 1e9);
  return [p.seconds + carry, p.nanoseconds - carry * 1e9];
}

function readAll(bytes: Uint8Array): { reader: SavefileReader; records: PacketRecord[] } | null {
  let reader: SavefileReader;
  try {
    reader = SavefileReader.fromBytes(bytes);
  } catch {
    return null;
  }
  const records: PacketRecord[] = [];
  try {
    for (const p of reader) records.push(p);
  } catch { /* keep the records before the error */ }
  return { reader, records };
}

function toPcapng(reader: SavefileReader, records: PacketRecord[]): Uint8Array {
  const w = PcapngWriter.inMemory({
    section: { userApplication: "netcap round trip", comments: ["converted"] },
  });
  let section = 0;
  const add = (i: InterfaceInfo): void => {
    w.addInterface({
      linkType: i.linkType,
      snaplen: i.snaplen,
      name: i.name,
      tsResolution: i.tsResolution,
      tsOffset: i.tsOffset,
    });
  };
  for (const p of records) {
    const iface = p.interface;
    while (iface.sectionIndex > section) {
      section++;
      w.startSection();
    }
    const known = reader.sections[section].interfaces;
    while (w.interfaceCount <= p.interfaceId) add(known[w.interfaceCount]);
    w.writePacket(p);
  }
  return w.toBytes();
}

function toPcap(reader: SavefileReader, records: PacketRecord[]): Uint8Array | null {
  const info = reader.info;
  const linkTypes = new Set(records.map((p) => p.linkType));
  if (linkTypes.size > 1) return null;
  const nano = info.format === "pcapng" || info.tsPrecision === "nano";
  const w = PcapWriter.inMemory({
    linkType: records[0]?.linkType ?? Math.max(0, info.linkType),
    snaplen: info.format === "pcap" ? info.snaplen : 0,
    precision: nano ? "nano" : "micro",
  });
  for (const p of records) {
    const [s, ns] = info.format === "pcapng" ? normalized(p) : [p.seconds, p.nanoseconds];
    w.writePacket({ ...p, data: p.data, seconds: s, nanoseconds: ns, length: p.length });
  }
  return w.toBytes();
}

function sameRecords(
  a: PacketRecord[],
  b: PacketRecord[],
  pcapng: boolean,
  outPcapng: boolean,
  what: string,
): void {
  assert.equal(b.length, a.length, `${what}: count`);
  a.forEach((p, i) => {
    const q = b[i];
    const [s, ns] = pcapng ? normalized(p) : [p.seconds, p.nanoseconds];
    assert.equal(q.seconds, s, `${what}: seconds ${i}`);
    assert.equal(q.nanoseconds, ns, `${what}: nanoseconds ${i}`);
    assert.equal(q.caplen, p.caplen, `${what}: caplen ${i}`);
    assert.equal(q.length, p.length, `${what}: length ${i}`);
    assert.deepEqual(q.data, p.data, `${what}: data ${i}`);
    if (outPcapng) {
      assert.equal(q.interfaceId, p.interfaceId, `${what}: interface ${i}`);
      assert.equal(q.linkType, p.linkType, `${what}: link type ${i}`);
      assert.deepEqual(q.comments, p.comments, `${what}: comments ${i}`);
      assert.equal(q.flags, p.flags, `${what}: flags ${i}`);
    }
  });
}

function checkWithTshark(file: string, records: PacketRecord[], pcapng: boolean): void {
  const { frames, unsupported } = tshark(file);
  if (unsupported) return; // e.g. LINKTYPE 281: tshark cannot read the original either
  assert.equal(frames.length, records.length, `tshark frame count of ${file}`);
  records.forEach((p, i) => {
    const f = frames[i];
    if (pcapng) {
      const [s, ns] = normalized(p);
      assert.equal(f.time, tsText(s, ns), `tshark time ${i}`);
      assert.equal(f.interfaceId, p.interfaceId, `tshark interface ${i}`);
    } else if (normal(p)) assert.equal(f.time, tsText(p.seconds, p.nanoseconds), `tshark time ${i}`);
    assert.equal(f.caplen, p.caplen, `tshark caplen ${i}`);
    assert.equal(f.len, p.length, `tshark len ${i}`);
  });
}

describe("savefile round trips", { skip: !haveCorpus && "corpus not found" }, () => {
  if (!haveCorpus) return;
  const manifest = corpusJson<{ files: { path: string }[] }>("manifest.json");
  mkdirSync(outDir, { recursive: true });
  if (!haveTshark) console.log("skip tshark read-back: tshark not installed");
  let written = 0;

  for (const { path } of manifest.files) {
    test(path, () => {
      const bytes = new Uint8Array(readFileSync(join(corpusDir, path)));
      const got = readAll(bytes);
      if (!got) return;
      const { reader, records } = got;
      const base = join(outDir, path.replaceAll("/", "_"));

      const ng = records.every((p) => p.linkType <= 0xffff) ? toPcapng(reader, records) : null;
      if (ng) {
        sameRecords(records, [...readPacketsSync(ng)], true, true, "pcapng");
        if (haveTshark) {
          writeFileSync(`${base}.pcapng`, ng);
          checkWithTshark(`${base}.pcapng`, records, true);
        }
        written++;
      }
      const pc = toPcap(reader, records);
      if (pc) {
        const back = [...readPacketsSync(pc)];
        sameRecords(records, back, reader.info.format === "pcapng", false, "pcap");
        if (haveTshark || haveTcpdump) {
          writeFileSync(`${base}.pcap`, pc);
        }
        if (haveTshark) checkWithTshark(`${base}.pcap`, back, false);
        if (haveTcpdump && records.length > 0 && reader.info.linkType <= 0xffff) {
          const out = execFileSync("tcpdump", ["-r", `${base}.pcap`, "--count"], {
            stdio: ["ignore", "pipe", "ignore"],
          }).toString();
          assert.match(out, new RegExp(`^${records.length} packets?`, "m"), "tcpdump count");
        }
        written++;
      }
    });
  }
  test("wrote files and cleaned up", () => {
    assert.ok(written > 200, `written ${written}`);
    rmSync(outDir, { recursive: true, force: true });
  });
});
