// Every capture of ../shared/corpus read through libpcap with this package:
// open result, header facts, every packet and the final status must equal
// what libpcap itself reported (expected/*.json), on next(), batches() and dispatch().
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { openOffline, type Packet, PcapError } from "../mod.ts";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";

interface ExpectedPacket {
  i: number;
  ts_sec: number;
  ts_nsec: number;
  ts_usec: number;
  caplen: number;
  len: number;
  sha256: string;
}
interface Expected {
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

function expectedFiles(): string[] {
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

function checkPacket(p: Packet, e: ExpectedPacket, where: string, nano: boolean): void {
  assert.equal(p.seconds, e.ts_sec, `${where} ts_sec`);
  assert.equal(p.nanoseconds, nano ? e.ts_nsec : e.ts_usec * 1000, `${where} ts`);
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

const skip = haveCorpus ? false : `no corpus at ${corpusDir}`;
const files = haveCorpus ? expectedFiles() : [];

describe("corpus through libpcap", { skip }, () => {
  test("the corpus has 127 captures", () => assert.equal(files.length, 127));

  for (const rel of files) {
    const exp = corpusJson<Expected>(rel);
    const path = join(corpusDir, exp.path);
    test(exp.path, () => {
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
      return (async () => {
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
        // Pass 3: dispatch() through a JS callback.
        using cap3 = openOffline(path, { precision: "nano" });
        let j = 0;
        let error3: unknown = null;
        try {
          while (
            cap3.dispatch(
              (p) => checkPacket(p, exp.packets[j], `dispatch packet ${j++}`, true),
              50,
            ) > 0
          ) {
            // keep going
          }
        } catch (e) {
          error3 = e;
        }
        assert.equal(j, exp.packet_count, "packet count (dispatch)");
        if (exp.status === "error") checkError(error3, exp.error!, "dispatch()");
        else assert.equal(error3, null);
      })();
    });
  }
});
