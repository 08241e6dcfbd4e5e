// open() / findAllDevices() on rpcap:// sources through the library route: libpcap's own
// pcap_open / pcap_findalldevs_ex, in a child process loaded with the remote-enabled libpcap
// (PCAP_LIBRARY), against our TypeScript server (tests/fixtures/remote_serve.ts) and against
// libpcap's rpcapd, both with password authentication. The child runs this same file
// (PCAP_ROUTE_CHILD set): it sends UDP datagrams to a socket bound on 127.0.0.1, captures them
// through both routes at once and prints what it saw; the parent checks the bytes and which
// route was taken. The default on a library without remote capture (Debian's libpcap0.8) is the
// TypeScript client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { libraryInfo, LiveCapture, type Packet, PcapError } from "../mod.ts";
import {
  findAllDevices,
  type LibraryRemoteCapture,
  open,
  RemoteCapture,
  serveRemote,
} from "../src/remote/mod.ts";
import {
  ensureRemoteLibpcap,
  freePort,
  notRoot,
  remoteLib,
  runFixture,
  startOurServer,
  startRpcapd,
  stopChild,
} from "./fixtures/remote_helpers.ts";
import { loopbackUdp } from "./_helpers.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hexOf = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const bytesOf = (h: string): Uint8Array =>
  new Uint8Array((h.match(/../g) ?? []).map((x) => parseInt(x, 16)));

/** What the child is told. */
interface ChildConfig {
  readonly base: string;
  readonly auth?: { username: string; password: string };
  readonly transport: "tcp" | "udp";
  readonly count: number;
  /**
   * Capture from this server instead (rpcapd: an account's password makes it drop root, so it
   * cannot capture; its null-authentication twin can). `base` is then only listed and opened.
   */
  readonly capture?: { readonly base: string; readonly auth?: ChildConfig["auth"] };
}

/** What the child reports. */
interface ChildReport {
  path: string;
  remote: boolean;
  devices: { library: unknown[]; typescript: unknown[] };
  kinds: Record<string, { ctor: string; via: string; live: boolean; remote: boolean }>;
  sent: string[];
  library: string[];
  typescript: string[];
  pulled: string[];
  pulledSent: string[];
  received: number;
  closeMs: number;
  abortMs: number;
  abortError: string;
  wrongPassword: { name: string; code: string; message: string } | null;
  tlsLibrary: string;
  inProcessVia: string;
  /** With `capture`: what open() on `base` threw, through each route. */
  openErrors: Record<string, string> | null;
}

async function take(it: AsyncIterable<Packet[]>, n: number, ms: number): Promise<Packet[]> {
  const got: Packet[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error("timeout")), ms);
  try {
    for await (const b of it) {
      got.push(...b.map((p) => p.clone()));
      if (got.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return got;
}

const describeCapture = (
  c: unknown,
): { ctor: string; via: string; live: boolean; remote: boolean } => ({
  ctor: (c as object).constructor.name,
  via: String((c as { via?: unknown }).via),
  live: c instanceof LiveCapture,
  remote: c instanceof RemoteCapture,
});

const shapeDevice = (d: {
  name: string;
  device: string;
  description: string | null;
  rawFlags: number;
  addresses: readonly { family: string; address: string; netmask: string | null }[];
}): unknown => ({
  name: d.name,
  device: d.device,
  description: d.description,
  rawFlags: d.rawFlags,
  addresses: d.addresses.filter((a) => a.family === "ipv4" || a.family === "ipv6").map((a) =>
    `${a.family} ${a.address}/${a.netmask}`
  ),
});

/** The child: both routes on the same server, datagrams sent from here. */
async function child(cfg: ChildConfig): Promise<ChildReport> {
  const info = libraryInfo();
  const udp = await loopbackUdp();
  const dport = udp.port;
  const send = udp.send;
  const filter = `udp dst port ${dport}`;
  const common = { auth: cfg.auth, transport: cfg.transport, filter, snaplen: 2048 };
  try {
    const devices = {
      library: (await findAllDevices(cfg.base, { auth: cfg.auth })).map(shapeDevice),
      typescript: (await findAllDevices(cfg.base, { auth: cfg.auth, via: "typescript" })).map(
        shapeDevice,
      ),
    };
    let wrongPassword: ChildReport["wrongPassword"] = null;
    if (cfg.auth) {
      try {
        await findAllDevices(cfg.base, { auth: { ...cfg.auth, password: "wrong-pw" } });
      } catch (e) {
        const err = e as PcapError;
        wrongPassword = { name: err.name, code: err.code, message: err.message };
      }
    }
    let openErrors: ChildReport["openErrors"] = null;
    if (cfg.capture) {
      openErrors = {};
      for (const via of ["library", "typescript"] as const) {
        try {
          const c = await open(`${cfg.base}lo`, { ...common, via });
          await (c as RemoteCapture).close();
          openErrors[via] = "opened";
        } catch (e) {
          openErrors[via] = `${(e as PcapError).name} ${(e as PcapError).code}: ${
            (e as Error).message
          }`;
        }
      }
    }
    const capBase = cfg.capture?.base ?? cfg.base;
    const capCommon = { ...common, auth: cfg.capture ? cfg.capture.auth : cfg.auth };
    const lib = await open(`${capBase}lo`, capCommon);
    const ts = await open(`${capBase}lo`, { ...capCommon, via: "typescript" });
    const kinds = { library: describeCapture(lib), typescript: describeCapture(ts) };
    let libCap = lib as LibraryRemoteCapture;
    try {
      // libpcap starts the remote capture on the first read.
      assert.equal(libCap.next(), null);
      await sleep(400);
      const sent: string[] = [];
      for (let i = 0; i < cfg.count; i++) {
        const p = `library-route ${cfg.transport} ${i} ${"=".repeat(i * 13)}`;
        sent.push(p);
        await send(p);
        await sleep(2);
      }
      const [a, b] = await Promise.all([
        take(libCap.batches(), sent.length, 10_000),
        take((ts as RemoteCapture).batches(), sent.length, 10_000),
      ]);
      // next() and dispatch(): one datagram at a time.
      const pulled: string[] = [];
      const pulledSent: string[] = [];
      for (let i = 0; i < 6; i++) {
        const p = `pulled ${i} ${"+".repeat(i * 31)}`;
        pulledSent.push(p);
        await send(p);
        const end = Date.now() + 3000;
        while (pulled.length < pulledSent.length && Date.now() < end) {
          if (i % 2 === 0) {
            const pkt = libCap.next();
            if (pkt) pulled.push(hexOf(pkt.data));
          } else {
            libCap.dispatch((pkt) => pulled.push(hexOf(pkt.data)), 1);
          }
          await sleep(1);
        }
      }
      const received = libCap.stats().received;
      // An idle for-await ends promptly on close().
      const idle = (async (): Promise<number> => {
        for await (const _ of libCap.batches()) { /* nothing comes */ }
        return performance.now();
      })();
      await sleep(200);
      const t0 = performance.now();
      libCap.close();
      const closeMs = (await idle) - t0;
      // ... and on an abort.
      libCap = await open(`${capBase}lo`, capCommon) as LibraryRemoteCapture;
      const ac = new AbortController();
      const aborted = (async (): Promise<[number, string]> => {
        try {
          for await (const _ of libCap.batches({ signal: ac.signal })) { /* nothing comes */ }
          return [performance.now(), "ended without the reason"];
        } catch (e) {
          return [performance.now(), (e as Error).message];
        }
      })();
      await sleep(200);
      const t1 = performance.now();
      ac.abort(new Error("stop now"));
      const [abortEnd, abortError] = await aborted;
      let tlsLibrary = "";
      try {
        await open("rpcaps://127.0.0.1:1/lo", { via: "library" });
      } catch (e) {
        tlsLibrary = `${(e as PcapError).code}: ${(e as Error).message}`;
      }
      // A server of this very process: the default takes the TypeScript route (libpcap's
      // blocking calls would wait for a server that could not answer).
      const server = await serveRemote({ port: 0, nullAuth: true, devices: ["lo"] });
      let inProcessVia = "";
      try {
        const listed = await findAllDevices(`rpcap://127.0.0.1:${server.port}/`);
        assert.ok(listed.length > 0);
        const c = await open(`rpcap://127.0.0.1:${server.port}/lo`, { filter });
        inProcessVia = String((c as RemoteCapture).via);
        await (c as RemoteCapture).close();
      } finally {
        await server.close();
      }
      return {
        path: info.path,
        remote: info.features.remote,
        devices,
        kinds,
        sent,
        library: a.map((p) => hexOf(p.data)),
        typescript: b.map((p) => hexOf(p.data)),
        pulled,
        pulledSent,
        received,
        closeMs,
        abortMs: abortEnd - t1,
        abortError,
        wrongPassword,
        tlsLibrary,
        inProcessVia,
        openErrors,
      };
    } finally {
      libCap.close();
      await (ts as RemoteCapture).close();
    }
  } finally {
    udp.close();
  }
}

/** The frame of a UDP datagram on Linux lo (DLT_EN10MB): payload at 42. */
function checkFrame(data: Uint8Array, payload: string): void {
  const bytes = new TextEncoder().encode(payload);
  assert.equal(data.length, 42 + bytes.length, "caplen: Ethernet + IPv4 + UDP + payload");
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  assert.equal(v.getUint16(12), 0x0800, "IPv4");
  assert.equal(data[23], 17, "UDP");
  assert.equal(v.getUint16(38), 8 + bytes.length, "UDP length");
  assert.deepEqual(Array.from(data.subarray(42)), Array.from(bytes), "payload byte-exact");
}

function checkReport(r: ChildReport, expectWrongPassword: RegExp): void {
  assert.equal(r.remote, true, `${r.path} has pcap_open and pcap_findalldevs_ex`);
  assert.match(r.path, /libpcap-remote/);
  // Same devices, same names and descriptions, through either route.
  assert.ok(r.devices.library.length > 0);
  assert.deepEqual(r.devices.library, r.devices.typescript);
  assert.ok(
    (r.devices.library as { device: string }[]).some((d) => d.device === "lo"),
    "the server's lo is listed",
  );
  assert.deepEqual(r.kinds.library, {
    ctor: "LibraryRemoteCapture",
    via: "library",
    live: true,
    remote: false,
  });
  assert.deepEqual(r.kinds.typescript, {
    ctor: "RemoteCapture",
    via: "typescript",
    live: false,
    remote: true,
  });
  // Every datagram once, in order, byte-exact, and the same bytes through both routes.
  assert.equal(r.library.length, r.sent.length, "library route: every datagram");
  r.library.forEach((h, i) => checkFrame(bytesOf(h), r.sent[i]));
  assert.deepEqual(r.library, r.typescript);
  assert.equal(r.pulled.length, r.pulledSent.length, "next() / dispatch(): every datagram");
  r.pulled.forEach((h, i) => checkFrame(bytesOf(h), r.pulledSent[i]));
  assert.ok(r.received >= r.sent.length + r.pulledSent.length, `stats: ${r.received}`);
  // Idle async reads end promptly (one read of libpcap: half the 20 ms read timeout).
  assert.ok(r.closeMs < 250, `close() ended the idle for-await in ${r.closeMs} ms`);
  assert.ok(r.abortMs < 250, `abort ended it in ${r.abortMs} ms`);
  assert.equal(r.abortError, "stop now");
  assert.ok(r.wrongPassword, "a wrong password is refused");
  assert.equal(r.wrongPassword!.code, "REMOTE");
  assert.match(r.wrongPassword!.message, expectWrongPassword);
  assert.match(r.tlsLibrary, /^NOT_SUPPORTED: .*rpcaps/);
  assert.equal(r.inProcessVia, "typescript");
}

const childConfig = process.env.PCAP_ROUTE_CHILD;
if (childConfig) {
  const report = await child(JSON.parse(childConfig) as ChildConfig);
  console.log(JSON.stringify(report));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const skip = notRoot() ?? ensureRemoteLibpcap() ?? false;

async function runChild(cfg: ChildConfig): Promise<ChildReport> {
  const out = await runFixture(
    self,
    [],
    { PCAP_LIBRARY: remoteLib, PCAP_ROUTE_CHILD: JSON.stringify(cfg) },
    undefined,
    90_000,
  );
  return JSON.parse(out.trim().split("\n").at(-1)!) as ChildReport;
}

describe("open() / findAllDevices() through libpcap's pcap_open / pcap_findalldevs_ex", {
  skip,
}, () => {
  let ours: { child: ChildProcess; port: number } | null = null;
  let rpcapd: ChildProcess | null = null;
  let rpcapdPort = 0;
  let rpcapdNull: ChildProcess | null = null;
  let rpcapdNullPort = 0;
  const user = { name: `nclib${process.pid % 100000}`, password: "" };

  before(async () => {
    ours = await startOurServer({
      port: 0,
      auth: { libroute: "libroute-pw" },
      devices: ["lo"],
      authFailureDelay: 50,
    });
    user.password = `Lib-${Math.random().toString(36).slice(2, 12)}-x`;
    try {
      execFileSync("userdel", [user.name], { stdio: "ignore" });
    } catch { /* none */ }
    execFileSync("useradd", ["-M", "-s", "/usr/sbin/nologin", user.name], { stdio: "ignore" });
    execFileSync("chpasswd", [], {
      input: `${user.name}:${user.password}\n`,
      stdio: ["pipe", "ignore", "ignore"],
    });
    rpcapdPort = await freePort();
    rpcapd = await startRpcapd(["-b", "127.0.0.1", "-p", String(rpcapdPort)], rpcapdPort);
    rpcapdNullPort = await freePort();
    rpcapdNull = await startRpcapd(
      ["-n", "-b", "127.0.0.1", "-p", String(rpcapdNullPort)],
      rpcapdNullPort,
    );
  });

  after(async () => {
    if (ours) await stopChild(ours.child);
    if (rpcapd) await stopChild(rpcapd);
    if (rpcapdNull) await stopChild(rpcapdNull);
    try {
      execFileSync("userdel", [user.name], { stdio: "ignore" });
    } catch { /* gone */ }
  });

  for (const transport of ["tcp", "udp"] as const) {
    test(`our TypeScript server, password auth, ${transport} data channel`, async () => {
      const r = await runChild({
        base: `rpcap://127.0.0.1:${ours!.port}/`,
        auth: { username: "libroute", password: "libroute-pw" },
        transport,
        count: 20,
      });
      checkReport(r, /Authentication failed/i);
    });
  }

  test("libpcap's rpcapd: a local account's password; capture with null authentication", async () => {
    const r = await runChild({
      base: `rpcap://127.0.0.1:${rpcapdPort}/`,
      auth: { username: user.name, password: user.password },
      transport: "tcp",
      count: 20,
      capture: { base: `rpcap://127.0.0.1:${rpcapdNullPort}/` },
    });
    checkReport(r, /Authentication failed|password/i);
    // rpcapd runs as the account it authenticated, which may not capture: both routes
    // report the server's text, as a RemoteError.
    for (const via of ["library", "typescript"]) {
      assert.match(r.openErrors![via], /^RemoteError REMOTE: .*permission/i, via);
    }
  });
});

describe("the default on a library without remote capture", () => {
  test("via: library needs pcap_open; without it the TypeScript client is used", async () => {
    let info;
    try {
      info = libraryInfo();
    } catch {
      return; // no libpcap at all: nothing to check here
    }
    if (info.features.remote) return; // a remote-enabled library: the child tests cover it
    await assert.rejects(
      open("rpcap://127.0.0.1:1/lo", { via: "library" }),
      (e: unknown) =>
        e instanceof PcapError && e.code === "NOT_SUPPORTED" && /pcap_open/.test(e.message),
    );
    await assert.rejects(
      findAllDevices("rpcap://127.0.0.1:1/", { via: "library" }),
      (e: unknown) =>
        e instanceof PcapError && e.code === "NOT_SUPPORTED" &&
        /pcap_findalldevs_ex/.test(e.message),
    );
    const server = await serveRemote({ port: 0, nullAuth: true, devices: ["lo"] });
    try {
      const devices = await findAllDevices(`rpcap://127.0.0.1:${server.port}/`);
      assert.ok(devices.some((d) => d.device === "lo"));
      if (notRoot() === null) {
        const cap = await open(`rpcap://127.0.0.1:${server.port}/lo`, { filter: "udp port 9" });
        assert.ok(cap instanceof RemoteCapture);
        assert.equal(cap.via, "typescript");
        await cap.close();
      }
    } finally {
      await server.close();
    }
  });

  test("an unknown via is a TypeError", async () => {
    await assert.rejects(
      findAllDevices("rpcap://127.0.0.1:1/", { via: "native" as "library" }),
      TypeError,
    );
  });
});
