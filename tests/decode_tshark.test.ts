// Every decoded field, for every packet of the corpus captures of the link types we decode (and
// of captures made on `lo` during the run), must equal what tshark reports.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { corpusDir, corpusJson, haveCorpus, repoRoot } from "./_helpers.ts";
import { readCapture } from "./_pcap_read.ts";
import { haveTshark, pool, tsharkFields } from "./_tshark.ts";
import { FIELDS } from "./_decode_fields.ts";
import { captureLoopback } from "./_loopback_capture.ts";
import { decode, LinkType } from "../src/decode/mod.ts";

const SUPPORTED = new Set<number>(Object.values(LinkType));

// field name -> value producers (a name may be produced by several layer kinds)
const byName = new Map<string, ((p: ReturnType<typeof decode>) => string[])[]>();
for (const [name, fn] of FIELDS) {
  if (!byName.has(name)) byName.set(name, []);
  byName.get(name)!.push(fn);
}
const NAMES = [...byName.keys()];

/**
 * Where tshark legitimately reports a different value; each entry is narrow: file, packet
 * (1-based frame number, or 0 for all), field, and the reason.
 */
const EXCEPTIONS: { file: string; frame: number; field: string; why: string }[] = [
  {
    file: "tcpdump/bigtcp-ipv4.pcap",
    frame: 1,
    field: "ip.len",
    why: "total length field is 0 (BIG TCP / TSO); tshark shows the length it infers, we the field",
  },
];

interface Stat {
  packets: number; // packets where either side has a value
  equal: number;
  deeper: number; // tshark reports further occurrences (layers we do not decode)
  mismatch: number;
  excepted: number;
}
const stats = new Map<string, Stat>(NAMES.map((n) => [n, { packets: 0, equal: 0, deeper: 0, mismatch: 0, excepted: 0 }]));
const deeperLog = new Set<string>();
let filesCompared = 0, packetsCompared = 0;

async function compareFile(label: string, path: string): Promise<string[]> {
  const pk = readCapture(path);
  const rows = await tsharkFields(path, NAMES);
  const problems: string[] = [];
  if (rows.length !== pk.length) {
    // tshark and this reader disagree on how many records a damaged file has: compare the
    // common prefix (tshark stops at the first bad block, we may read on)
    if (rows.length > pk.length) problems.push(`${label}: tshark read ${rows.length} packets, we read ${pk.length}`);
  }
  const n = Math.min(rows.length, pk.length);
  filesCompared++;
  for (let i = 0; i < n; i++) {
    const p = decode(pk[i].linkType, pk[i].data);
    packetsCompared++;
    for (let f = 0; f < NAMES.length; f++) {
      const name = NAMES[f];
      const mine: string[] = [];
      for (const fn of byName.get(name)!) mine.push(...fn(p));
      const theirs = rows[i][f] ?? [];
      if (mine.length === 0 && theirs.length === 0) continue;
      const st = stats.get(name)!;
      st.packets++;
      if (mine.length === theirs.length && mine.every((v, k) => v === theirs[k])) {
        st.equal++;
        continue;
      }
      if (mine.length < theirs.length && mine.every((v, k) => v === theirs[k])) {
        st.deeper++;
        if (process.env.DEBUG_DEEPER) {
          deeperLog.add(`${label} #${i + 1}: ${p.layers.map((l) => l.type).join("/")} (${name})`);
        }
        continue;
      }
      if (EXCEPTIONS.some((e) => e.file === label && (e.frame === 0 || e.frame === i + 1) && e.field === name)) {
        st.excepted++;
        continue;
      }
      st.mismatch++;
      problems.push(`${label} #${i + 1} ${name}: ours ${JSON.stringify(mine)} tshark ${JSON.stringify(theirs)}`);
    }
  }
  return problems;
}

interface Manifest {
  files: { path: string; dlt: number | null; packet_count: number | null }[];
}

const corpusFiles: string[] = [];
if (haveCorpus) {
  for (const f of corpusJson<Manifest>("manifest.json").files) {
    if (f.dlt === null || !SUPPORTED.has(f.dlt)) continue;
    if (!f.packet_count) continue;
    // tshark 4.0 shows pcapng Custom Blocks as frames of their own, so its frame numbers do not
    // line up with the packets (libpcap, like our reader, returns only the 4 SPB/EPB packets)
    if (f.path.endsWith("output_le/basic/test018.pcapng")) continue;
    corpusFiles.push(f.path);
  }
}

describe("decode vs tshark", { skip: !haveTshark }, () => {
  test("corpus captures", { skip: !haveCorpus }, async () => {
    const results = await pool(corpusFiles, 2, (f) => compareFile(f, join(corpusDir, f)));
    const problems = results.flat();
    assert.deepEqual(problems.slice(0, 40), []);
  });

  test("loopback captures (EN10MB on lo, LINUX_SLL2 on any)", async () => {
    const files = await captureLoopback();
    assert.ok(files.length > 0);
    const problems: string[] = [];
    for (const f of files) problems.push(...await compareFile(f, f));
    assert.deepEqual(problems.slice(0, 40), []);
  });

  test("field coverage table", () => {
    const lines = [
      `| field | packets | equal | tshark deeper | excepted | mismatch |`,
      `| --- | ---: | ---: | ---: | ---: | ---: |`,
    ];
    for (const [name, st] of stats) {
      lines.push(`| ${name} | ${st.packets} | ${st.equal} | ${st.deeper} | ${st.excepted} | ${st.mismatch} |`);
    }
    lines.push("", `${filesCompared} files, ${packetsCompared} packets compared`);
    mkdirSync(join(repoRoot, "tests", "out"), { recursive: true });
    if (deeperLog.size) writeFileSync(join(repoRoot, "tests", "out", "decode_deeper.txt"), [...deeperLog].join("\n"));
    writeFileSync(join(repoRoot, "tests", "out", "decode_fields.md"), lines.join("\n") + "\n");
    let mism = 0;
    for (const st of stats.values()) mism += st.mismatch;
    assert.equal(mism, 0);
  });
});
