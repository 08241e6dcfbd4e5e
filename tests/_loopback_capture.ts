// Makes small captures on the loopback interface with tcpdump while sending UDP, TCP, DNS and
// ICMP traffic to 127.0.0.1 / ::1 from this process (bounded in packet count and time).
import { execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "./_helpers.ts";

const outDir = join(repoRoot, "tests", "out");

function have(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function startTcpdump(args: string[], file: string): Promise<{ stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const p = spawn("tcpdump", [...args, "--immediate-mode", "-U", "-c", "400", "-w", file], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let started = false;
    const done = new Promise<void>((r) => p.on("exit", () => r()));
    const kill = setTimeout(() => p.kill("SIGKILL"), 20000);
    p.stderr.on("data", (b: Uint8Array) => {
      if (!started && String(b).includes("listening on")) {
        started = true;
        resolve({
          stop: async () => {
            await sleep(300);
            p.kill("SIGINT");
            await done;
            clearTimeout(kill);
          },
        });
      }
    });
    p.on("error", reject);
    p.on("exit", () => {
      if (!started) reject(new Error("tcpdump did not start"));
    });
  });
}

/** A DNS query for `name` (type A or AAAA) as bytes. */
export function dnsQuery(id: number, name: string, type: number): Uint8Array {
  const parts = name.split(".");
  const out: number[] = [id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const p of parts) out.push(p.length, ...new TextEncoder().encode(p));
  out.push(0, type >> 8, type & 255, 0, 1);
  return new Uint8Array(out);
}

/** A DNS response (one answer, compressed name) for a query. */
export function dnsAnswer(q: Uint8Array, addr: number[]): Uint8Array {
  const out = [...q];
  out[2] = 0x81;
  out[3] = 0x80;
  out[7] = 1;
  const type = addr.length === 4 ? 1 : 28;
  out.push(0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, addr.length, ...addr);
  return new Uint8Array(out);
}

async function traffic(): Promise<void> {
  // UDP over v4 and v6, including DNS-shaped datagrams on port 53 with answers
  for (const [fam, host] of [["udp4", "127.0.0.1"], ["udp6", "::1"]] as const) {
    const srv = createSocket(fam);
    await new Promise<void>((r) => srv.bind(0, host, () => r()));
    const port = srv.address().port;
    let dns: ReturnType<typeof createSocket> | null = createSocket(fam);
    try {
      await new Promise<void>((r, j) => {
        dns!.once("error", j);
        dns!.bind(53, host, () => r());
      });
      dns.on(
        "message",
        (m, rinfo) =>
          dns!.send(
            dnsAnswer(
              m,
              fam === "udp4" ? [10, 1, 2, 3] : [0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 1],
            ),
            rinfo.port,
            rinfo.address,
          ),
      );
    } catch {
      dns.close();
      dns = null;
    }
    const cli = createSocket(fam);
    for (let i = 0; i < 5; i++) {
      cli.send(new TextEncoder().encode("hello udp " + i + " ".repeat(i * 7)), port, host);
      if (dns) cli.send(dnsQuery(0x1000 + i, `host${i}.example.com`, i % 2 ? 28 : 1), 53, host);
      await sleep(5);
    }
    // a datagram to a closed port draws an ICMP / ICMPv6 port unreachable
    const closed = createSocket(fam);
    await new Promise<void>((r) => closed.bind(0, host, () => r()));
    const closedPort = closed.address().port;
    closed.close();
    cli.send(new TextEncoder().encode("nobody home"), closedPort, host);
    await sleep(50);
    cli.close();
    srv.close();
    dns?.close();
  }
  // TCP echo over v4 and v6
  for (const host of ["127.0.0.1", "::1"]) {
    const srv = createServer((s) => s.on("data", (d) => s.write(d)).on("end", () => s.end()));
    await new Promise<void>((r) => srv.listen(0, host, () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((resolve) => {
      const c = connect(port, host, async () => {
        for (let i = 0; i < 4; i++) {
          c.write("line " + i + " " + "x".repeat(100 * i) + "\n");
          await sleep(5);
        }
        c.end();
      });
      c.on("data", () => {});
      c.on("close", () => resolve());
    });
    await new Promise<void>((r) => srv.close(() => r()));
  }
  // ICMP echo via ping, if available
  if (have("ping")) {
    for (const a of [["-4", "127.0.0.1"], ["-6", "::1"]]) {
      try {
        execFileSync("ping", [a[0], "-c", "2", "-i", "0.2", "-W", "1", "-s", "40", a[1]], {
          stdio: "ignore",
          timeout: 5000,
        });
      } catch { /* ignore */ }
    }
  }
}

let cached: Promise<string[]> | null = null;

/** Captures loopback traffic; resolves to the capture files made (empty when tcpdump is missing). */
export function captureLoopback(): Promise<string[]> {
  return cached ??= (async () => {
    if (!have("tcpdump")) return [];
    mkdirSync(outDir, { recursive: true });
    // unique names: test files may run concurrently, each making its own capture
    const tag = `${"Deno" in globalThis ? "deno" : "bun"}-${process.pid}-${Date.now()}`;
    for (const f of readdirSync(outDir)) {
      const full = join(outDir, f);
      if (/^lo-.*\.pcap$/.test(f) && Date.now() - statSync(full).mtimeMs > 600_000) {
        rmSync(full, { force: true });
      }
    }
    const f1 = join(outDir, `lo-en10mb-${tag}.pcap`);
    const f2 = join(outDir, `lo-sll2-${tag}.pcap`);
    const filter = ["host", "127.0.0.1", "or", "host", "::1"];
    const a = await startTcpdump(["-i", "lo", "-n", ...filter], f1);
    const b = await startTcpdump(["-i", "any", "-y", "LINUX_SLL2", "-n", ...filter], f2).catch(() =>
      null
    );
    try {
      await traffic().catch((e) => console.error("traffic failed", e));
    } finally {
      await a.stop();
      await b?.stop();
    }
    return [f1, f2].filter((f) => existsSync(f) && statSync(f).size > 24);
  })();
}
