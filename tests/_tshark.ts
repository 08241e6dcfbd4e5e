// tshark helpers for the decode/build/flow tests: one tshark call per file, cached on disk
// (tests/out/tshark-cache, keyed by file content and arguments).
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./_helpers.ts";

/** True when tshark is installed. */
export const haveTshark: boolean = (() => {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const cacheDir = join(repoRoot, "tests", "out", "tshark-cache");

/** Runs tshark on `file` with `args` (before `-r`), returning stdout; cached by content. */
export async function tshark(file: string, args: string[]): Promise<string> {
  const h = createHash("sha256").update(readFileSync(file)).update(JSON.stringify(args))
    .digest("hex").slice(0, 32);
  const cached = join(cacheDir, h + ".txt");
  if (existsSync(cached)) return readFileSync(cached, "utf8");
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      "tshark",
      [...args, "-r", file],
      { maxBuffer: 1 << 28, encoding: "utf8" },
      (err, stdout) => {
        // tshark exits non-zero on cut-short files but still prints what it read
        if (err && !stdout) reject(err);
        else resolve(stdout);
      },
    );
  });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cached, out);
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Common tshark preferences: no reassembly, raw sequence numbers, checksum checks on. */
export const TSHARK_PREFS: string[] = [
  "-o",
  "ip.defragment:FALSE",
  "-o",
  "ipv6.defragment:FALSE",
  "-o",
  "tcp.desegment_tcp_streams:FALSE",
  "-o",
  "tcp.relative_sequence_numbers:FALSE",
  "-o",
  "tcp.analyze_sequence_numbers:FALSE",
  "-o",
  "ip.check_checksum:TRUE",
  "-o",
  "tcp.check_checksum:TRUE",
  "-o",
  "udp.check_checksum:TRUE",
];

/** Runs tshark -T fields for `fields` and splits into per-packet rows of per-field value lists. */
export async function tsharkFields(
  file: string,
  fields: string[],
  extra: string[] = [],
): Promise<string[][][]> {
  const args = [
    ...TSHARK_PREFS,
    ...extra,
    "-T",
    "fields",
    "-E",
    "separator=/t",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=\u0001",
  ];
  for (const f of fields) args.push("-e", f);
  const out = await tshark(file, args);
  const rows: string[][][] = [];
  for (const line of out.split("\n")) {
    if (line === "") continue;
    rows.push(line.split("\t").map((v) => (v === "" ? [] : v.split("\u0001"))));
  }
  return rows;
}
