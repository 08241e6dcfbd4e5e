// Round trips: every corpus capture we can read, written by our pcap and pcapng writers and
// read back by our reader, by libpcap (through this project's FFI), by tshark and (pcap) by
// tcpdump.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
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
import {
  haveTcpdump,
  haveTshark,
  tsharkAsync,
  type TsharkFrame,
  type TsharkResult,
  tsText,
} from "./_savefile_util.ts";
import { openOffline, PcapError } from "../mod.ts";

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
    // pcapng time stamps are unsigned: times before 1970 cannot be written.
    if (!(outPcapng && s < 0)) {
      // pcap seconds are 32-bit (read back signed, as libpcap does).
      assert.equal(q.seconds, outPcapng ? s : s | 0, `${what}: seconds ${i}`);
      assert.equal(q.nanoseconds, ns, `${what}: nanoseconds ${i}`);
    }
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

function checkWithTshark(
  file: string,
  result: TsharkResult,
  orig: TsharkFrame[],
  records: PacketRecord[],
  pcapng: boolean,
): void {
  const { frames, unsupported } = result;
  if (unsupported) return; // e.g. LINKTYPE 281: tshark cannot read the original either
  assert.equal(frames.length, records.length, `tshark frame count of ${file}`);
  // tshark's cap_len leaves out some pseudo-headers (e.g. SunATM): compare those lengths with
  // what tshark says about the original when it reads the same packets.
  const ref = orig.length === records.length ? orig : null;
  records.forEach((p, i) => {
    const f = frames[i];
    if (pcapng) {
      const [s, ns] = normalized(p);
      if (s >= 0) assert.equal(f.time, tsText(s, ns), `tshark time ${i}`);
      assert.equal(f.interfaceId, p.interfaceId, `tshark interface ${i}`);
    } else if (normal(p)) {
      assert.equal(f.time, tsText(p.seconds, p.nanoseconds), `tshark time ${i}`);
    }
    assert.ok(f.caplen === p.caplen || f.caplen === ref?.[i].caplen, `tshark caplen ${i}`);
    assert.ok(f.len === p.length || f.len === ref?.[i].len, `tshark len ${i}`);
  });
}

describe("savefile round trips", { skip: !haveCorpus && "corpus not found" }, () => {
  if (!haveCorpus) return;
  const manifest = corpusJson<{ files: { path: string }[] }>("manifest.json");
  if (!haveTshark) console.log("skip tshark read-back: tshark not installed");
  let written = 0;

  for (const { path } of manifest.files) {
    test(path, async () => {
      const file = join(corpusDir, path);
      const bytes = new Uint8Array(readFileSync(file));
      const got = readAll(bytes);
      if (!got) return;
      const { reader, records } = got;
      mkdirSync(outDir, { recursive: true });
      const base = join(outDir, path.replaceAll("/", "_"));
      try {
        await roundTrip(file, base, reader, records);
      } finally {
        rmSync(`${base}.pcap`, { force: true });
        rmSync(`${base}.pcapng`, { force: true });
      }
    });
  }
  test("wrote files", () => {
    assert.ok(written > 200, `written ${written}`);
    rmSync(outDir, { recursive: true, force: true });
  });

  async function roundTrip(
    file: string,
    base: string,
    reader: SavefileReader,
    records: PacketRecord[],
  ): Promise<void> {
    const ng = records.every((p) => p.linkType <= 0xffff) ? toPcapng(reader, records) : null;
    const pc = toPcap(reader, records);
    const back = pc ? [...readPacketsSync(pc)] : [];
    if (ng) {
      sameRecords(records, [...readPacketsSync(ng)], true, true, "pcapng");
      writeFileSync(`${base}.pcapng`, ng);
      written++;
    }
    if (pc) {
      sameRecords(records, back, reader.info.format === "pcapng", false, "pcap");
      writeFileSync(`${base}.pcap`, pc);
      written++;
    }
    // libpcap itself, through this project's FFI.
    if (pc) checkWithLibpcap(`${base}.pcap`, back, false);
    if (ng) checkWithLibpcap(`${base}.pcapng`, records, true);
    // External read-backs, run in parallel.
    const none = Promise.resolve(null);
    const [orig, tsNg, tsPc, dump] = await Promise.all([
      haveTshark ? tsharkAsync(file) : none,
      haveTshark && ng ? tsharkAsync(`${base}.pcapng`) : none,
      haveTshark && pc ? tsharkAsync(`${base}.pcap`) : none,
      haveTcpdump && pc && records.length > 0 && reader.info.linkType <= 0xffff
        ? tcpdumpCount(`${base}.pcap`)
        : none,
    ]);
    if (orig && tsNg) checkWithTshark(`${base}.pcapng`, tsNg, orig.frames, records, true);
    if (orig && tsPc) checkWithTshark(`${base}.pcap`, tsPc, orig.frames, back, false);
    if (dump !== null) {
      assert.match(dump, new RegExp(`^${records.length} packets?`, "m"), "tcpdump");
    }
  }
});

function tcpdumpCount(path: string): Promise<string> {
  return new Promise((resolve) => {
    execFile("tcpdump", ["-r", path, "--count"], (_e, stdout) => resolve(String(stdout ?? "")));
  });
}

/**
 * Reads a written file with libpcap (pcap_open_offline + pcap_next_ex) and compares every
 * packet. libpcap 1.10 stops on a pcapng interface whose link type or snaplen differs from
 * the first one's, and cannot open a pcapng file without interfaces: there only the packets
 * before that point are compared, and the error must be that one.
 */
function checkWithLibpcap(path: string, expected: PacketRecord[], pcapng: boolean): void {
  const known =
    /different from the (type|snapshot length) of the first interface|has no Interface Description Blocks/;
  let cap;
  try {
    cap = openOffline(path, { precision: "nano" });
  } catch (e) {
    assert.ok(e instanceof PcapError && known.test(e.message), `libpcap open ${path}: ${e}`);
    return;
  }
  let i = 0;
  let stopped: unknown = null;
  try {
    for (let p = cap.next(); p; p = cap.next(), i++) {
      const q = expected[i];
      assert.ok(q, `libpcap read more packets than written (${path})`);
      const [s, ns] = pcapng ? normalized(q) : [q.seconds, q.nanoseconds];
      if (s >= 0 || !pcapng) {
        assert.equal(p.seconds, s, `libpcap seconds ${i}`);
        assert.equal(p.nanoseconds, ns, `libpcap nanoseconds ${i}`);
      }
      assert.equal(p.caplen, q.caplen, `libpcap caplen ${i}`);
      assert.equal(p.length, q.length, `libpcap len ${i}`);
      assert.deepEqual(p.data, q.data, `libpcap data ${i}`);
    }
  } catch (e) {
    stopped = e;
  } finally {
    cap.close();
  }
  if (stopped) {
    assert.ok(pcapng && stopped instanceof PcapError && known.test(stopped.message), `${stopped}`);
  } else {
    assert.equal(i, expected.length, `libpcap count (${path})`);
  }
}
