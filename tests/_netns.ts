// Test hosts: network namespaces joined by veth pairs, created and deleted by
// the tests (root only). Traffic stays inside them.
import { execFileSync, spawn } from "node:child_process";

/** Why namespaces cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "needs root (ip netns, live capture)";
  }
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
  } catch {
    return "`ip` (iproute2) is not installed";
  }
  return null;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Two namespaces joined by a veth pair, each end up, with IPv4 addresses. */
export interface VethPair {
  readonly nsA: string;
  readonly nsB: string;
  readonly ifA: string;
  readonly ifB: string;
  readonly addrA: string;
  readonly addrB: string;
  /** Deletes both namespaces (and so the pair). */
  destroy(): void;
}

let counter = 0;

/** Creates `nc<pid><n>a` / `…b` with a veth pair `vA`/`vB` (10.231.x.1/.2). */
export function createVethPair(): VethPair {
  const tag = `nc${process.pid % 100000}x${counter++}`;
  const nsA = `${tag}a`;
  const nsB = `${tag}b`;
  const ifA = "vA";
  const ifB = "vB";
  const net = `10.231.${(process.pid + counter) % 250}`;
  ip("netns", "add", nsA);
  ip("netns", "add", nsB);
  try {
    ip("link", "add", `${tag}A`, "type", "veth", "peer", "name", `${tag}B`);
    ip("link", "set", `${tag}A`, "netns", nsA);
    ip("link", "set", `${tag}B`, "netns", nsB);
    ip("-n", nsA, "link", "set", `${tag}A`, "name", ifA);
    ip("-n", nsB, "link", "set", `${tag}B`, "name", ifB);
    ip("-n", nsA, "addr", "add", `${net}.1/24`, "dev", ifA);
    ip("-n", nsB, "addr", "add", `${net}.2/24`, "dev", ifB);
    for (const [ns, i] of [[nsA, ifA], [nsB, ifB]]) {
      ip("-n", ns, "link", "set", i, "up");
      ip("-n", ns, "link", "set", "lo", "up");
      // No IPv6 chatter (router solicitations, DAD) on the test link.
      execFileSync("ip", [
        "netns",
        "exec",
        ns,
        "sysctl",
        "-qw",
        `net.ipv6.conf.${i}.disable_ipv6=1`,
      ]);
    }
  } catch (e) {
    for (const ns of [nsA, nsB]) {
      try {
        ip("netns", "del", ns);
      } catch { /* already gone */ }
    }
    throw e;
  }
  return {
    nsA,
    nsB,
    ifA,
    ifB,
    addrA: `${net}.1`,
    addrB: `${net}.2`,
    destroy(): void {
      for (const ns of [nsA, nsB]) {
        try {
          ip("netns", "del", ns);
        } catch { /* already gone */ }
      }
    },
  };
}

/** The command line that runs a TypeScript file with this runtime. */
export function runtimeCommand(script: string, args: string[]): string[] {
  return "Deno" in globalThis
    ? [process.execPath, "run", "--no-check", "--allow-all", script, ...args]
    : [process.execPath, script, ...args];
}

/** A broadcast test frame of `size` bytes, EtherType `type`, numbered `seq`. */
export function frame(seq: number, size: number, type = 0x88b5): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, type >> 8, type & 0xff], 0);
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

/** Lower-case hex of bytes. */
export const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Runs a command; resolves to its stdout; calls onLine per stdout line. */
export function run(cmd: string[], onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      buffered += d;
      let i;
      while ((i = buffered.indexOf("\n")) >= 0) {
        onLine?.(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => err += d);
    child.on("error", reject);
    child.on(
      "close",
      (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${cmd.join(" ")} exited ${code}: ${err}`)),
    );
  });
}
