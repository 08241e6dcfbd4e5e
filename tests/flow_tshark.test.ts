// TCP reassembly: for each TCP conversation in the corpus (and in loopback captures made during
// the run), the bytes of each direction equal `tshark -q -z follow,tcp,raw,N`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";
import { readCapture } from "./_pcap_read.ts";
import { haveTshark, pool, tshark } from "./_tshark.ts";
import { captureLoopback } from "./_loopback_capture.ts";
import { decode, LinkType } from "../src/decode/mod.ts";
import { TcpReassembler } from "../src/flow/mod.ts";

interface Follow {
  stream: number;
  node0: string;
  node1: string;
  data: [string, string]; // hex per direction: node0 -> node1, node1 -> node0
}

const GAP = /^\[\d+ bytes missing in capture file\]\0?$/;

function parseFollow(out: string): Follow[] {
  const res: Follow[] = [];
  for (const block of out.split(/^=+$/m)) {
    const m = /Filter: tcp\.stream eq (\d+)\nNode 0: (.*)\nNode 1: (.*)\n([\s\S]*)/.exec(block);
    if (!m) continue;
    const data: [string, string] = ["", ""];
    for (const line of m[4].split("\n")) {
      if (line.trim() === "") continue;
      // tshark writes "[N bytes missing in capture file]" (as hex) where a gap was skipped
      if (GAP.test(Buffer.from(line.trim(), "hex").toString("latin1"))) continue;
      if (line.startsWith("\t")) data[1] += line.trim();
      else data[0] += line.trim();
    }
    res.push({ stream: Number(m[1]), node0: m[2], node1: m[3], data });
  }
  return res.sort((a, b) => a.stream - b.stream);
}

const ep = (addr: string, port: number): string =>
  (addr.includes(":") ? `[${addr}]` : addr) + ":" + port;
const hex = (chunks: Uint8Array[]): string =>
  chunks.map((c) => Array.from(c, (b) => b.toString(16).padStart(2, "0")).join("")).join("");

interface Ours {
  client: string;
  server: string;
  data: [Uint8Array[], Uint8Array[]];
}

function reassemble(path: string): Ours[] {
  const out: Ours[] = [];
  const byConn = new Map<object, Ours>();
  const r = new TcpReassembler({
    // tshark's follow never times a connection out; some corpus captures pause for hours
    idleTimeout: Infinity,
    onOpen: (c) => {
      const o: Ours = {
        client: ep(c.flow.clientAddress, c.flow.clientPort),
        server: ep(c.flow.serverAddress, c.flow.serverPort),
        data: [[], []],
      };
      byConn.set(c, o);
      out.push(o);
    },
    onData: (c, dir, bytes) => byConn.get(c)!.data[dir].push(bytes.slice()),
  });
  for (const p of readCapture(path)) r.push(decode(p.linkType, p.data), p.ts);
  r.close();
  return out;
}

/** Streams tshark follows where we cannot: narrow, with the reason. */
const SKIP: { file: string; stream: number; why: string }[] = [
  {
    file: "libpcap/AH-IPcomp-IPv6.pcap",
    stream: -1,
    why: "TCP inside IPComp (compressed payload) is not decoded",
  },
  { file: "tcpdump/geneve.pcap", stream: -1, why: "TCP inside Geneve tunnels is not decoded" },
  {
    file: "tcpdump/of13_ericsson.pcapng",
    stream: 9,
    why:
      "OpenFlow messages in frames 65-69 embed IP packets; tshark dissects them and its follow " +
      "tap mixes the embedded segments into stream 9 (frames 65/68 show two IP sources)",
  },
];

async function compare(
  label: string,
  path: string,
): Promise<{ problems: string[]; streams: number; bytes: number }> {
  const problems: string[] = [];
  const ids = (await tshark(path, ["-T", "fields", "-e", "tcp.stream"])).split("\n").filter((x) =>
    x !== ""
  ).map(Number);
  const n = ids.length ? Math.max(...ids) + 1 : 0;
  if (n === 0) return { problems, streams: 0, bytes: 0 };
  const args = ["-q"];
  for (let i = 0; i < n; i++) args.push("-z", `follow,tcp,raw,${i}`);
  const theirs = parseFollow(await tshark(path, args));
  const ours = reassemble(path);
  const used = new Set<Ours>();
  let streams = 0, bytes = 0;
  for (const t of theirs) {
    if (SKIP.some((s) => s.file === label && (s.stream === -1 || s.stream === t.stream))) continue;
    const o = ours.find((x) =>
      !used.has(x) &&
      ((x.client === t.node0 && x.server === t.node1) ||
        (x.client === t.node1 && x.server === t.node0))
    );
    if (!o) {
      problems.push(`${label} stream ${t.stream} (${t.node0} ${t.node1}): not found`);
      continue;
    }
    used.add(o);
    const flip = o.client !== t.node0;
    const mine: [string, string] = flip
      ? [hex(o.data[1]), hex(o.data[0])]
      : [hex(o.data[0]), hex(o.data[1])];
    for (const d of [0, 1]) {
      if (mine[d] !== t.data[d]) {
        problems.push(
          `${label} stream ${t.stream} dir ${d}: ours ${mine[d].length / 2} bytes, tshark ${
            t.data[d].length / 2
          } bytes`,
        );
      }
    }
    streams++;
    bytes += (t.data[0].length + t.data[1].length) / 2;
  }
  return { problems, streams, bytes };
}

interface Manifest {
  files: { path: string; dlt: number | null; packet_count: number | null }[];
}
const SUPPORTED = new Set<number>(Object.values(LinkType));
const files: string[] = [];
if (haveCorpus) {
  for (const f of corpusJson<Manifest>("manifest.json").files) {
    if (f.dlt === null || !SUPPORTED.has(f.dlt) || !f.packet_count) continue;
    if (f.path.endsWith("test018.pcapng")) continue; // custom blocks shift tshark's frames
    const pk = readCapture(join(corpusDir, f.path));
    if (pk.some((p) => decode(p.linkType, p.data).tcp !== null)) files.push(f.path);
  }
}

describe("TCP reassembly vs tshark follow", { skip: !haveTshark }, () => {
  test("corpus TCP conversations", { skip: !haveCorpus, timeout: 600_000 }, async () => {
    const res = await pool(files, 2, (f) => compare(f, join(corpusDir, f)));
    const problems = res.flatMap((r) => r.problems);
    const streams = res.reduce((a, r) => a + r.streams, 0);
    const bytes = res.reduce((a, r) => a + r.bytes, 0);
    console.log(
      `  ${files.length} files, ${streams} TCP streams, ${bytes} bytes equal to tshark follow`,
    );
    assert.deepEqual(problems, []);
    assert.ok(streams >= 10);
  });

  test("loopback TCP conversations", { timeout: 120_000 }, async () => {
    const caps = await captureLoopback();
    let streams = 0;
    for (const f of caps) {
      const r = await compare(f, f);
      assert.deepEqual(r.problems, []);
      streams += r.streams;
    }
    assert.ok(caps.length === 0 || streams >= 2);
  });
});
