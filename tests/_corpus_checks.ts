// Checks against ../shared/corpus shared by the Linux tests (capture_corpus.test.ts,
// filters.test.ts) and the Windows ones (tests/windows/mingw_*.wtest.ts): the expected
// values are what libpcap 1.10.3 itself reported, so every platform must give the same.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import {
  type BpfInstruction,
  compileFilter,
  openDead,
  openOffline,
  type Packet,
  PcapError,
} from "../mod.ts";
import { pcapStructs } from "../ffi/structs.ts";
import { corpusDir } from "./_helpers.ts";

// ------------------------------------------------------------------ captures (expected/*.json)

/** One packet of `expected/<path>.json`. */
export interface ExpectedPacket {
  i: number;
  ts_sec: number;
  ts_nsec: number;
  ts_usec: number;
  caplen: number;
  len: number;
  sha256: string;
}

/** `expected/<path>.json`: what libpcap reported for a capture. */
export interface Expected {
  path: string;
  open_ok: boolean;
  open_error: string | null;
  dlt: number;
  dlt_name: string | null;
  dlt_description: string | null;
  datalink_ext: number;
  snaplen: number;
  is_swapped: boolean;
  version_major: number;
  version_minor: number;
  packet_count: number;
  status: "eof" | "error";
  error: string | null;
  packets: ExpectedPacket[];
}

/** The corpus-relative paths of every `expected/**.json`, sorted. */
export function expectedFiles(): string[] {
  const root = join(corpusDir, "expected");
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".json")) out.push(relative(corpusDir, p));
    }
  };
  walk(root);
  return out.sort();
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/**
 * The expected values were taken on Linux x86-64, whose `struct timeval` has 64-bit fields.
 * Where the platform's timeval has 32-bit `long` fields (Windows), libpcap itself stores the
 * time stamps truncated to them (e.g. 2106 becomes 0), so that is what it must report there.
 */
const fitTimeval: (x: number) => number = pcapStructs().timeval.size === 8
  ? (x) => x | 0
  : (x) => x;

function checkPacket(p: Packet, e: ExpectedPacket, where: string, nano: boolean): void {
  assert.equal(p.seconds, fitTimeval(e.ts_sec), `${where} ts_sec`);
  assert.equal(
    p.nanoseconds,
    nano ? fitTimeval(e.ts_nsec) : fitTimeval(e.ts_usec) * 1000,
    `${where} ts`,
  );
  assert.equal(p.caplen, e.caplen, `${where} caplen`);
  assert.equal(p.length, e.len, `${where} len`);
  assert.equal(p.data.length, e.caplen, `${where} data length`);
  assert.equal(sha(p.data), e.sha256, `${where} sha256`);
}

function checkError(e: unknown, expected: string, where: string): void {
  assert.ok(e instanceof PcapError, `${where}: a PcapError, got ${e}`);
  assert.ok(
    e.message.endsWith(`: ${expected}`) || e.message === expected,
    `${where}: "${e.message}" should carry libpcap's "${expected}"`,
  );
}

/**
 * Reads one capture of the corpus through libpcap three times and compares it with `exp`:
 * next() at nanosecond precision (plus the header facts), batches() at microsecond
 * precision, and dispatch() through a JS callback.
 */
export async function checkCorpusCapture(exp: Expected): Promise<void> {
  const path = join(corpusDir, exp.path);
  if (!exp.open_ok) {
    assert.throws(() => openOffline(path, { precision: "nano" }), (e: unknown) => {
      assert.ok(e instanceof PcapError);
      assert.equal(e.message, exp.open_error);
      return true;
    });
    return;
  }
  // Pass 1: next(), nanosecond precision, plus the header facts.
  {
    using cap = openOffline(path, { precision: "nano" });
    assert.equal(cap.linkType, exp.dlt, "dlt");
    assert.equal(cap.linkTypeName, exp.dlt_name, "dlt_name");
    assert.equal(cap.linkTypeDescription, exp.dlt_description, "dlt_description");
    assert.equal(cap.linkTypeExtension, exp.datalink_ext, "datalink_ext");
    assert.equal(cap.snaplen, exp.snaplen, "snaplen");
    assert.equal(cap.isSwapped, exp.is_swapped, "is_swapped");
    assert.deepEqual(cap.version, { major: exp.version_major, minor: exp.version_minor });
    assert.equal(cap.timestampPrecision, "nano");
    let i = 0;
    let error: unknown = null;
    try {
      for (let p = cap.next(); p; p = cap.next()) {
        checkPacket(p, exp.packets[i], `next() packet ${i}`, true);
        i++;
      }
    } catch (e) {
      error = e;
    }
    assert.equal(i, exp.packet_count, "packet count (next)");
    if (exp.status === "error") checkError(error, exp.error!, "next()");
    else assert.equal(error, null, "no error at the end");
  }
  // Pass 2: batches(), microsecond precision.
  {
    const cap = openOffline(path, { precision: "micro" });
    let i = 0;
    let error: unknown = null;
    try {
      for await (const batch of cap.batches({ maxPackets: 7 })) {
        for (const p of batch) {
          checkPacket(p, exp.packets[i], `batches() packet ${i}`, false);
          i++;
        }
      }
    } catch (e) {
      error = e;
    } finally {
      cap.close();
    }
    assert.equal(i, exp.packet_count, "packet count (batches)");
    if (exp.status === "error") checkError(error, exp.error!, "batches()");
    else assert.equal(error, null);
  }
  // Pass 3: dispatch() through a JS callback.
  {
    using cap = openOffline(path, { precision: "nano" });
    let j = 0;
    let error: unknown = null;
    try {
      while (
        cap.dispatch(
          (p) => checkPacket(p, exp.packets[j], `dispatch packet ${j++}`, true),
          50,
        ) > 0
      ) {
        // keep going
      }
    } catch (e) {
      error = e;
    }
    assert.equal(j, exp.packet_count, "packet count (dispatch)");
    if (exp.status === "error") checkError(error, exp.error!, "dispatch()");
    else assert.equal(error, null);
  }
}

// ------------------------------------------------------------------ filters.json

/** One expression of `filters.json`. */
export interface FilterCase {
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

/** `filters.json`. */
export interface Filters {
  compile: { dlt: number; snaplen: number };
  files: { path: string; dlt: number; snaplen: number; packets: number }[];
  filters: FilterCase[];
}

/** Reads every file `filters.json` lists once, through libpcap (packets stay valid). */
export async function loadFilterPackets(data: Filters): Promise<Map<string, Packet[]>> {
  const packets = new Map<string, Packet[]>();
  for (const f of data.files) {
    if (packets.has(f.path)) continue;
    const list: Packet[] = [];
    const cap = openOffline(join(corpusDir, f.path));
    for await (const p of cap) list.push(p);
    cap.close();
    assert.equal(list.length, f.packets, `${f.path} packet count`);
    packets.set(f.path, list);
  }
  return packets;
}

/**
 * One expression: the program for the default settings (optimized and not) or the error
 * text, then per listed file the program for its link type and snaplen and the indices of
 * the packets it matches.
 */
export function checkFilterCase(
  data: Filters,
  c: FilterCase,
  packets: Map<string, Packet[]>,
): void {
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
}

/** setFilter on a savefile keeps exactly the packets that the same program's matches() accepts. */
export async function checkSetFilterOnSavefile(): Promise<void> {
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
}
