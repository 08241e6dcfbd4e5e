// Every decoded field, for every packet of the corpus captures of the link types we decode (and
// of captures made on `lo` during the run), must equal what tshark reports.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { corpusDir, corpusJson, haveCorpus, repoRoot } from "./_helpers.ts";
import { haveTshark, pool } from "./_tshark.ts";
import { compareCapture, newStats } from "./_decode_fields.ts";
import { captureLoopback } from "./_loopback_capture.ts";
import { LinkType } from "../src/decode/mod.ts";

const SUPPORTED = new Set<number>(Object.values(LinkType));

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

const stats = newStats();
const deeperLog = new Set<string>();
let filesCompared = 0, packetsCompared = 0;

async function compareFile(label: string, path: string): Promise<string[]> {
  const r = await compareCapture(
    label,
    path,
    EXCEPTIONS,
    stats,
    process.env.DEBUG_DEEPER ? deeperLog : null,
  );
  filesCompared++;
  packetsCompared += r.packets;
  return r.problems;
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
  test("corpus captures", { skip: !haveCorpus, timeout: 600_000 }, async () => {
    const results = await pool(corpusFiles, 2, (f) => compareFile(f, join(corpusDir, f)));
    const problems = results.flat();
    assert.deepEqual(problems.slice(0, 40), []);
  });

  test("loopback captures (EN10MB on lo, LINUX_SLL2 on any)", { timeout: 120_000 }, async () => {
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
    for (const [name, st] of stats.byField) {
      lines.push(
        `| ${name} | ${st.packets} | ${st.equal} | ${st.deeper} | ${st.excepted} | ${st.mismatch} |`,
      );
    }
    lines.push("", `${filesCompared} files, ${packetsCompared} packets compared`);
    mkdirSync(join(repoRoot, "tests", "out"), { recursive: true });
    if (deeperLog.size) {
      writeFileSync(join(repoRoot, "tests", "out", "decode_deeper.txt"), [...deeperLog].join("\n"));
    }
    writeFileSync(join(repoRoot, "tests", "out", "decode_fields.md"), lines.join("\n") + "\n");
    let mism = 0;
    for (const st of stats.byField.values()) mism += st.mismatch;
    assert.equal(mism, 0);
  });
});
