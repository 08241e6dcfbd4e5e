// Follow TCP streams in a capture file: prints each conversation, client bytes and server bytes
// in the order they were delivered (like Wireshark's "Follow TCP Stream").
//
//   deno run --allow-read examples/follow_tcp.ts capture.pcap [--stream N] [--hex]
//   bun examples/follow_tcp.ts capture.pcap
//
// The file is read by this package's pure-TypeScript savefile reader (no libpcap needed).
import { parseArgs } from "node:util";
import { readBatches } from "../src/savefile/mod.ts";
import { decode } from "../src/decode/mod.ts";
import { type TcpConnection, TcpReassembler } from "../src/flow/mod.ts";

const USAGE = `usage: follow_tcp.ts FILE [--stream N] [--hex] [--help]

Prints the TCP conversations in FILE (pcap or pcapng), each direction's bytes reassembled
in order: ">" lines are client to server, "<" lines server to client.

  --stream N   only the N-th conversation (0-based, in order of first appearance)
  --hex        print bytes as hex instead of text
  --help       this help`;

function show(bytes: Uint8Array, hex: boolean): string {
  if (hex) return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  let s = "";
  for (const b of bytes) {
    s += b === 10 || b === 9 || (b >= 32 && b < 127) ? String.fromCharCode(b) : ".";
  }
  return s;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: "Deno" in globalThis
      ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
      : process.argv.slice(2),
    options: {
      stream: { type: "string" },
      hex: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const only = values.stream === undefined ? -1 : Number(values.stream);
  const index = new Map<TcpConnection, number>();
  const out = new Map<TcpConnection, string[]>();
  const order: TcpConnection[] = [];
  const r = new TcpReassembler({
    idleTimeout: Infinity,
    onOpen: (c) => {
      index.set(c, order.length);
      order.push(c);
      out.set(c, []);
    },
    onData: (c, dir, bytes) => {
      if (only >= 0 && index.get(c) !== only) return;
      out.get(c)!.push(`${dir === 0 ? ">" : "<"} ${show(bytes, values.hex).replace(/\n$/, "")}`);
    },
  });
  for await (const batch of readBatches(positionals[0])) {
    for (const rec of batch) {
      r.push(decode(rec.linkType, rec.data), rec.seconds + rec.nanoseconds / 1e9);
    }
  }
  r.close();
  for (const c of order) {
    const i = index.get(c)!;
    if (only >= 0 && i !== only) continue;
    const [a, b] = c.delivered;
    console.log(
      `=== stream ${i}: ${c.flow.toString()} (${a} bytes >, ${b} bytes <, ${c.closeReason})`,
    );
    for (const line of out.get(c)!) console.log(line);
  }
  return 0;
}

const code = await main();
if (code !== 0) {
  if ("Deno" in globalThis) {
    (globalThis as unknown as { Deno: { exit(c: number): never } }).Deno.exit(code);
  } else process.exit(code);
}
