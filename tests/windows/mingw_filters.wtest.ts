// Windows (Wine) legs deno-mingw / bun-mingw: every expression of ../shared/corpus/filters.json
// compiled by the Windows wpcap.dll must give libpcap's programs, errors and matches (the same
// checks as tests/filters.test.ts). toString() is compared with tcpdump_d.json, the Linux
// `tcpdump -d` output stored by make_tcpdump_d.py, since there is no tcpdump here.
//
// filters.json was made on Linux. libpcap's gencode.c compiles three things differently on
// Windows, and windowsCase() turns the Linux expectation into the Windows one by those rules:
// 1. `proto NAME` looks NAME up in the OS protocol database (getprotobyname). Windows' file
//    (%SystemRoot%\System32\drivers\etc\protocol; Wine ships the same list) has no `gre`:
//    "unknown ip proto 'gre'".
// 2. `inbound`/`outbound` on a link type without a direction field use a Linux-only BPF
//    extension (ld [SKF_AD_OFF + SKF_AD_PKTTYPE]); elsewhere they are the error
//    "inbound/outbound not supported on <link type description>".
// 3. On DLT_NULL / DLT_LOOP / DLT_ENC, a non-savefile handle checks IPv6 with the platform's
//    loopback value: Linux AF_INET6 (10), Windows 24 (as Npcap). The word compared is in host
//    byte order, so `jeq #0xa000000` after `ld [0]` becomes `jeq #0x18000000`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BpfInstruction, compileFilter, linkTypeDescription, type Packet } from "../../mod.ts";
import {
  checkFilterCase,
  checkSetFilterOnSavefile,
  type FilterCase,
  type Filters,
  loadFilterPackets,
} from "../_corpus_checks.ts";
import { corpusDir, corpusJson, haveCorpus } from "../_helpers.ts";

const data = haveCorpus ? corpusJson<Filters>("filters.json") : null;

// ---------------------------------------------------------------- Linux -> Windows expectation

const systemRoot = process.env.SystemRoot ?? "C:\\windows";
const protocolFile = join(systemRoot, "System32", "drivers", "etc", "protocol");
/** Names in the Windows protocol database (rule 1). */
const protocolNames = new Set(
  readFileSync(protocolFile, "utf8").split(/\r?\n/).map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l).flatMap((l) => {
      const [name, , ...aliases] = l.split(/\s+/);
      return [name, ...aliases].map((n) => n.toLowerCase());
    }),
);

/** The `proto NAME` of an expression (not `ether proto`) that Windows cannot resolve. */
function unknownProtocol(expr: string): string | null {
  for (const m of expr.matchAll(/(^|[^\w])(ether\s+)?proto\s+\\?([a-z][\w-]*)/gi)) {
    if (!m[2] && !protocolNames.has(m[3].toLowerCase())) return m[3];
  }
  return null;
}

const SKF_AD_PKTTYPE_LOAD = 0xfffff004; // SKF_AD_OFF (-0x1000) + SKF_AD_PKTTYPE (4)
const usesLinuxPktType = (p: readonly BpfInstruction[] | undefined): boolean =>
  !!p?.some((i) => (i.code & 0x07) === 0x00 && i.k === SKF_AD_PKTTYPE_LOAD); // BPF_LD

const LINUX_LOOP_INET6 = 10 << 24; // AF_INET6 = 10, byte-swapped (host order on little-endian)
const WINDOWS_LOOP_INET6 = 24 << 24;

/** Rule 3: jeq #(10<<24) whose accumulator can only come from `ld [0]` becomes #(24<<24). */
function windowsLoopbackProgram(p: readonly BpfInstruction[]): BpfInstruction[] {
  // Forward data flow (BPF jumps only forward): what set A on every path into each insn.
  const fromLd0: (boolean | undefined)[] = new Array(p.length + 1);
  const merge = (at: number, v: boolean): void => {
    if (at < fromLd0.length) fromLd0[at] = fromLd0[at] === undefined ? v : fromLd0[at] && v;
  };
  fromLd0[0] = false;
  const out = p.map((i) => ({ ...i }));
  for (let pc = 0; pc < p.length; pc++) {
    const i = p[pc];
    let a = fromLd0[pc] ?? false;
    const cls = i.code & 0x07;
    if (cls === 0x05) { // BPF_JMP
      if ((i.code & 0xf0) === 0x10 && (i.code & 0x08) === 0 && a && i.k === LINUX_LOOP_INET6) {
        out[pc].k = WINDOWS_LOOP_INET6; // jeq #k
      }
      if ((i.code & 0xf0) === 0x00) merge(pc + 1 + i.k, a); // ja
      else {
        merge(pc + 1 + i.jt, a);
        merge(pc + 1 + i.jf, a);
      }
      continue;
    }
    if (cls === 0x06) continue; // BPF_RET
    if (cls === 0x00) a = i.code === 0x20 && i.k === 0; // BPF_LD: ld [0] (word, absolute)
    else if (cls === 0x04 || (cls === 0x07 && (i.code & 0xf8) === 0x80)) a = false; // ALU, txa
    merge(pc + 1, a);
  }
  return out;
}

const loopbackLinkTypes = new Set([0, 108, 109]); // DLT_NULL, DLT_LOOP, DLT_ENC

/** The Windows expectation for one expression of filters.json (see the rules above). */
function windowsCase(d: Filters, c: FilterCase): FilterCase {
  const proto = unknownProtocol(c.expr);
  const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });
  if (proto) {
    const error = `unknown ip proto '${proto}'`;
    return {
      ...c,
      ok: false,
      error,
      matches: Object.fromEntries(d.files.map((f) => [f.path, fail(error)])),
    };
  }
  const direction = (dlt: number): string =>
    `inbound/outbound not supported on ${linkTypeDescription(dlt) ?? `DLT ${dlt}`}`;
  const w: FilterCase = { ...c, matches: { ...c.matches } };
  if (c.ok && usesLinuxPktType(c.program)) {
    Object.assign(w, { ok: false, error: direction(d.compile.dlt) });
    delete w.program;
    delete w.program_unoptimized;
  }
  for (const f of d.files) {
    const m = c.matches[f.path];
    if (!m.ok) continue;
    const program = m.program ?? (f.dlt === d.compile.dlt ? c.program : undefined);
    if (usesLinuxPktType(program)) w.matches[f.path] = fail(direction(f.dlt));
    else if (loopbackLinkTypes.has(f.dlt) && m.program) {
      w.matches[f.path] = { ...m, program: windowsLoopbackProgram(m.program) };
    }
  }
  return w;
}
let packets: Promise<Map<string, Packet[]>> | null = null;
const load = (): Promise<Map<string, Packet[]>> => packets ??= loadFilterPackets(data!);

describe("mingw wpcap.dll: filters.json", () => {
  test("the corpus is reachable and has 94 expressions", () => {
    assert.ok(data, `no corpus at ${corpusDir}`);
    assert.equal(data.filters.length, 94);
  });

  for (const c of data?.filters ?? []) {
    test(
      JSON.stringify(c.expr),
      async () => checkFilterCase(data!, windowsCase(data!, c), await load()),
    );
  }

  test("setFilter on a savefile gives the same packets as matches()", checkSetFilterOnSavefile);
});

describe("mingw wpcap.dll: BpfProgram.toString()", () => {
  const stored = JSON.parse(
    readFileSync(fileURLToPath(new URL("tcpdump_d.json", import.meta.url)), "utf8"),
  ) as { programs: Record<string, string> };

  test("prints like Linux `tcpdump -d` for every expression that compiles on Windows too", () => {
    const exprs = Object.keys(stored.programs);
    assert.equal(exprs.length, data!.filters.filter((c) => c.ok).length);
    let compared = 0;
    for (const expr of exprs) {
      const c = windowsCase(data!, data!.filters.find((x) => x.expr === expr)!);
      if (!c.ok) {
        assert.throws(() => compileFilter(expr), { name: "PcapError", message: c.error! });
        continue;
      }
      using prog = compileFilter(expr);
      assert.equal(prog.toString(), stored.programs[expr], `tcpdump -d ${JSON.stringify(expr)}`);
      compared++;
    }
    assert.equal(compared, exprs.length - 2, "all but proto gre and inbound");
  });

  test("the Linux-to-Windows rules change exactly what they should", () => {
    const changed = data!.filters.filter((c) =>
      JSON.stringify(windowsCase(data!, c)) !== JSON.stringify(c)
    ).map((c) => c.expr);
    // Every expression that involves IPv6 on the DLT_NULL file, plus `proto gre` and `inbound`.
    assert.ok(changed.includes("proto gre"));
    assert.ok(changed.includes("inbound"));
    assert.ok(changed.includes("ip6"));
    assert.ok(!changed.includes("ip"), "IPv4-only programs are the same");
    assert.ok(!changed.includes("net 10.0.0.0/8"), "a 10.x net check is not the AF_INET6 check");
    const nul = data!.files.find((f) => f.dlt === 0)!;
    const c = data!.filters.find((x) => x.expr === "udp port 53 and not src net 10.0.0.0/8")!;
    const linux = c.matches[nul.path].program!;
    const win = windowsCase(data!, c).matches[nul.path].program!;
    const diff = linux.flatMap((i, n) => i.k !== win[n].k ? [[n, i.k, win[n].k]] : []);
    assert.ok(diff.length > 0 && diff.every(([, a, b]) => a === 10 << 24 && b === 24 << 24));
    assert.ok(
      win.some((i) => i.k === 10 << 24),
      "the src net 10.0.0.0/8 comparison keeps #0xa000000",
    );
  });

  test("dispose() runs pcap_freecode once; matches() after it throws CLOSED", () => {
    const prog = compileFilter("tcp");
    prog.dispose();
    prog.dispose();
    assert.equal(prog.disposed, true);
    assert.ok(prog.instructions.length > 0);
    assert.ok(prog.toString().startsWith("(000) ldh      [12]"));
    assert.throws(() => prog.matches({ data: new Uint8Array(60) }), {
      name: "PcapError",
      code: "CLOSED",
    });
  });

  test("netmask: number and dotted quad give the same program", () => {
    using a = compileFilter("ip broadcast", { netmask: "255.255.255.0" });
    using b = compileFilter("ip broadcast", { netmask: 0xffffff00 });
    assert.deepEqual(a.instructions, b.instructions);
    assert.throws(() => compileFilter("ip broadcast"), /netmask/);
  });
});
