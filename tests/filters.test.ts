// Every expression of ../shared/corpus/filters.json: the compiled program
// (optimized and not), the error texts, and the match indices on every listed
// file must equal what libpcap reported. Plus setFilter on a savefile, and
// the tcpdump -d rendering.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { compileFilter, type Packet } from "../mod.ts";
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
