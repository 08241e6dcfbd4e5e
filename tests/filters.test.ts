// Every expression of ../shared/corpus/filters.json: the compiled program
// (optimized and not), the error texts, and the match indices on every listed
// file must equal what libpcap reported. Plus setFilter on a savefile, and
// the tcpdump -d rendering.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import {
  type BpfInstruction,
  compileFilter,
  openDead,
  openOffline,
  type Packet,
  PcapError,
} from "../mod.ts";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";

interface FilterCase {
  expr: string;
  ok: boolean;
  error: string | null;
  program?: BpfInstruction[];
  program_unoptimized?: BpfInstruction[];
  matches: Record<
    string,
    { ok: boolean; count?: number; indices?: number[]; error?: string; program?: BpfInstruction[] }
  >;
}
interface Filters {
  compile: { dlt: number; snaplen: number };
  files: { path: string; dlt: number; snaplen: number; packets: number }[];
  filters: FilterCase[];
}

const skip = haveCorpus ? false : `no corpus at ${corpusDir}`;

describe("filters.json", { skip }, () => {
  const data = haveCorpus ? corpusJson<Filters>("filters.json") : null;
  if (!data) return;
  // Read every listed file once (packets must stay valid: iterate with for await).
  const packets = new Map<string, Packet[]>();
  const load = async (): Promise<void> => {
    for (const f of data.files) {
      if (packets.has(f.path)) continue;
      const list: Packet[] = [];
      const cap = openOffline(join(corpusDir, f.path));
      for await (const p of cap) list.push(p);
      cap.close();
      assert.equal(list.length, f.packets, `${f.path} packet count`);
      packets.set(f.path, list);
    }
  };

  test("94 expressions", () => assert.equal(data.filters.length, 94));

  for (const c of data.filters) {
    test(JSON.stringify(c.expr), async () => {
      await load();
      // Program for the default compile settings (EN10MB, 262144), optimized and not.
      const compile = (optimize: boolean) =>
        compileFilter(c.expr, {
          linkType: data.compile.dlt,
          snaplen: data.compile.snaplen,
          optimize,
        });
      if (!c.ok) {
        assert.throws(() => compile(true), (e: unknown) => {
          assert.ok(e instanceof PcapError);
          assert.equal(e.code, "FILTER");
          assert.equal(e.message, c.error);
          return true;
        });
      } else {
        using prog = compile(true);
        assert.deepEqual(prog.instructions, c.program, "optimized program");
        using raw = compile(false);
        assert.deepEqual(raw.instructions, c.program_unoptimized, "unoptimized program");
      }
      // Per file: compiled for the file's own link type and snaplen.
      for (const f of data.files) {
        const m = c.matches[f.path];
        using dead = openDead(f.dlt, { snaplen: f.snaplen, precision: "nano" });
        if (!m.ok) {
          assert.throws(() => dead.compileFilter(c.expr), (e: unknown) => {
            assert.ok(e instanceof PcapError);
            assert.equal(e.message, m.error, `${f.path} error`);
            return true;
          });
          continue;
        }
        using prog = dead.compileFilter(c.expr);
        if (m.program) assert.deepEqual(prog.instructions, m.program, `${f.path} program`);
        const indices: number[] = [];
        packets.get(f.path)!.forEach((p, i) => {
          if (prog.matches(p)) indices.push(i);
        });
        assert.deepEqual(indices, m.indices, `${f.path} matches`);
      }
    });
  }

  test("setFilter on a savefile gives the same packets as matches()", async () => {
    const path = join(corpusDir, "tcpdump/mptcp-v0.pcap");
    const cap = openOffline(path);
    cap.setFilter("tcp[13] & 2 != 0");
    let viaFilter = 0;
    for await (const _ of cap) viaFilter++;
    cap.close();
    using prog = compileFilter("tcp[13] & 2 != 0", { snaplen: 65535 });
    let viaMatch = 0;
    for await (const p of openOffline(path)) if (prog.matches(p)) viaMatch++;
    assert.ok(viaFilter > 0);
    assert.equal(viaFilter, viaMatch);
  });
});

describe("BpfProgram", () => {
  test("toString() prints like tcpdump -d", (t) => {
    using prog = compileFilter("ip and udp port 53");
    let tcpdump: string;
    try {
      tcpdump = execFileSync("tcpdump", ["-d", "-y", "EN10MB", "ip and udp port 53"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch {
      t.skip("tcpdump is not installed (apt-get install tcpdump)");
      return;
    }
    assert.equal(prog.toString(), tcpdump.trimEnd());
  });

  test("dispose() runs pcap_freecode once; matches() after it throws CLOSED", () => {
    const prog = compileFilter("tcp");
    prog.dispose();
    prog.dispose();
    assert.equal(prog.disposed, true);
    assert.equal(prog.instructions.length > 0, true);
    assert.throws(() => prog.matches({ data: new Uint8Array(60) }), { name: "PcapError" });
  });

  test("netmask: number, dotted quad, and argument errors", () => {
    using a = compileFilter("ip broadcast", { netmask: "255.255.255.0" });
    using b = compileFilter("ip broadcast", { netmask: 0xffffff00 });
    assert.deepEqual(a.instructions, b.instructions);
    assert.throws(() => compileFilter("ip broadcast"), /netmask/);
    assert.throws(() => compileFilter("ip", { netmask: "300.1.1.1" }), {
      name: "RangeError",
      message: 'netmask must be a dotted quad, got "300.1.1.1"',
    });
    assert.throws(() => compileFilter(7 as unknown as string), {
      name: "TypeError",
      message: "expression must be a string",
    });
  });
});
