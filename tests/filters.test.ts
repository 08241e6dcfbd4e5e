// Every expression of ../shared/corpus/filters.json: the compiled program
// (optimized and not), the error texts, and the match indices on every listed
// file must equal what libpcap reported. Plus setFilter on a savefile, and
// the tcpdump -d rendering.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { BpfProgram, compileFilter, openOffline, type Packet } from "../mod.ts";
import {
  checkFilterCase,
  checkSetFilterOnSavefile,
  type Filters,
  loadFilterPackets,
} from "./_corpus_checks.ts";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";

const skip = haveCorpus ? false : `no corpus at ${corpusDir}`;

describe("filters.json", { skip }, () => {
  const data = haveCorpus ? corpusJson<Filters>("filters.json") : null;
  if (!data) return;
  // Read every listed file once (packets must stay valid: iterate with for await).
  let packets: Promise<Map<string, Packet[]>> | null = null;
  const load = (): Promise<Map<string, Packet[]>> => packets ??= loadFilterPackets(data);

  test("94 expressions", () => assert.equal(data.filters.length, 94));

  for (const c of data.filters) {
    test(JSON.stringify(c.expr), async () => checkFilterCase(data, c, await load()));
  }

  test("setFilter on a savefile gives the same packets as matches()", checkSetFilterOnSavefile);
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

describe("BpfProgram.fromInstructions", () => {
  test("a program rebuilt from compiled instructions filters the same", async () => {
    using compiled = compileFilter("tcp[13] & 2 != 0", { snaplen: 65535 });
    using rebuilt = BpfProgram.fromInstructions(compiled.instructions);
    assert.deepEqual(rebuilt.instructions, compiled.instructions);
    assert.equal(rebuilt.toString(), compiled.toString());
    const path = join(corpusDir, "tcpdump/mptcp-v0.pcap");
    let same = 0;
    let hits = 0;
    for await (const p of openOffline(path)) {
      const a = compiled.matches(p);
      assert.equal(rebuilt.matches(p), a);
      same++;
      if (a) hits++;
    }
    assert.ok(same > 0 && hits > 0);
    // As a capture filter.
    const cap = openOffline(path);
    cap.setFilter(rebuilt);
    let viaFilter = 0;
    for await (const _ of cap) viaFilter++;
    cap.close();
    assert.equal(viaFilter, hits);
    rebuilt.dispose();
    rebuilt.dispose();
  });

  test("bad instructions are RangeErrors; libpcap rejects an invalid program", () => {
    assert.throws(() => BpfProgram.fromInstructions([{ code: 6, jt: 0, jf: 0, k: -1 }]), {
      name: "RangeError",
      message: "instructions[0].k must be an integer from 0 to 4294967295",
    });
    // A jump past the end: pcap_setfilter's bpf_validate refuses it.
    using bad = BpfProgram.fromInstructions([{ code: 0x15, jt: 5, jf: 5, k: 0 }]);
    using dead = openOffline(join(corpusDir, "tcpdump/vrrp.pcap"));
    assert.throws(() => dead.setFilter(bad), { name: "PcapError" });
  });
});
