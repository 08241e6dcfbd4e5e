// Converts a capture between pcap and pcapng (pure TypeScript, no libpcap needed).
//
//   deno run -A examples/convert.ts IN OUT [--format pcap|pcapng] [--nano] [--filter EXPR]
//   bun examples/convert.ts IN OUT
//
// The output format follows OUT's extension (.pcapng / .pcap) unless --format is given.
// --filter keeps only the packets a BPF filter accepts: it is compiled by libpcap
// (compileFilter), so that option alone needs libpcap (and, in Deno, --allow-ffi).
import { parseArgs } from "node:util";
import { statSync } from "node:fs";
import {
  type InterfaceInfo,
  PcapngWriter,
  PcapWriter,
  SavefileReader,
} from "../src/savefile/mod.ts";
import { PcapError } from "../src/errors.ts";
import { type BpfProgram, compileFilter } from "../mod.ts";

const USAGE = `usage: convert IN OUT [--format pcap|pcapng] [--nano] [--filter EXPR]

Converts a pcap or pcapng capture IN into OUT.

options:
  -f, --format FMT  output format: pcap or pcapng (default: from OUT's extension)
      --nano        pcap output: nanosecond time stamps (default: as the input)
      --filter EXPR only packets that this BPF filter accepts (compiled by libpcap)
  -q, --quiet       no progress bar
  -h, --help        this help`;

function fail(msg: string): never {
  console.error(`convert: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        format: { type: "string", short: "f" },
        nano: { type: "boolean" },
        filter: { type: "string" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
})();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 2) fail("expected IN and OUT");
const [input, output] = positionals;

// One compiled program per link type, made on first use.
const programs = new Map<number, BpfProgram>();
function keep(p: { linkType: number; data: Uint8Array; length: number }): boolean {
  if (values.filter === undefined) return true;
  let prog = programs.get(p.linkType);
  if (!prog) {
    prog = compileFilter(values.filter, { linkType: p.linkType });
    programs.set(p.linkType, prog);
  }
  return prog.matches(p);
}
const format = values.format ??
  (/\.pcapng$/i.test(output) ? "pcapng" : /\.pcap$/i.test(output) ? "pcap" : undefined);
if (format !== "pcap" && format !== "pcapng") {
  fail(
    values.format
      ? `unknown format ${values.format}`
      : `cannot tell the format from ${output}; use --format`,
  );
}

/** A progress bar on stderr, only when it is a terminal and the input is big. */
function progress(total: number): (done: number, packets: number) => void {
  if (values.quiet || !process.stderr.isTTY || total < 16 * 1024 * 1024) return () => {};
  let last = 0;
  return (done, packets) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const width = 40, frac = Math.min(1, done / total);
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    process.stderr.write(`\r[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${packets} packets`);
    if (done >= total) process.stderr.write("\n");
  };
}

try {
  const reader = await SavefileReader.open(input);
  const show = progress(statSync(input).size);
  let packets = 0;
  if (format === "pcap") {
    const info = reader.info;
    const w = await PcapWriter.open(output, {
      linkType: Math.max(0, info.linkType),
      snaplen: info.format === "pcap" ? info.snaplen : Math.max(0, info.snaplen),
      precision: values.nano || info.format === "pcapng" || info.tsPrecision === "nano"
        ? "nano"
        : "micro",
    });
    try {
      for await (const batch of reader.batches()) {
        for (const p of batch) {
          if (!keep(p)) continue;
          if (p.linkType !== w.linkType) {
            throw new PcapError(
              "FORMAT",
              `packet ${packets} has link type ${p.linkType}; pcap files hold one link type (use pcapng)`,
            );
          }
          const carry = Math.floor(p.nanoseconds / 1e9);
          const wait = w.writePacket({
            data: p.data,
            length: p.length,
            seconds: p.seconds + carry,
            nanoseconds: p.nanoseconds - carry * 1e9,
          });
          if (wait) await wait;
          packets++;
          if ((packets & 0xfff) === 0) show(p.offset, packets);
        }
      }
    } finally {
      await w.close();
    }
  } else {
    const first = reader.sections[0];
    const w = await PcapngWriter.open(output, {
      section: {
        hardware: first?.hardware,
        os: first?.os,
        userApplication: first?.userApplication ?? "netcap convert",
        comments: first?.comments,
      },
    });
    const copyInterface = (i: InterfaceInfo): number =>
      w.addInterface({
        linkType: i.linkType,
        snaplen: i.snaplen,
        name: i.name,
        description: i.description,
        tsResolution: i.tsResolution,
        tsOffset: i.tsOffset,
        fcsLength: i.fcsLength,
        filter: i.filter?.expression,
        os: i.os,
        hardware: i.hardware,
        comments: i.comments,
      });
    let section = 0;
    try {
      for await (const batch of reader.batches()) {
        for (const p of batch) {
          if (!keep(p)) continue;
          while (p.interface.sectionIndex > section) {
            section++;
            const s = reader.sections[section];
            w.startSection({
              hardware: s.hardware,
              os: s.os,
              userApplication: s.userApplication,
              comments: s.comments,
            });
          }
          const known = reader.sections[section].interfaces;
          while (w.interfaceCount <= p.interfaceId) copyInterface(known[w.interfaceCount]);
          const wait = w.writePacket(p);
          if (wait) await wait;
          packets++;
          if ((packets & 0xfff) === 0) show(p.offset, packets);
        }
      }
    } finally {
      await w.close();
    }
  }
  show(Infinity, packets);
  console.error(`convert: ${packets} packets written to ${output} (${format})`);
} catch (e) {
  console.error(`convert: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
