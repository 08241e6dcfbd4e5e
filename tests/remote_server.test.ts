// serveRemote against real clients: libpcap's own rpcap client (the
// remote-enabled libpcap, pcap_open / pcap_findalldevs_ex through this
// project's FFI in a child process) and this project's TypeScript client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { Framer, type Message } from "../src/remote/protocol.ts";
import { openLive, type Packet } from "../mod.ts";
import {
  connectRemote,
  mergeRemote,
  RemoteError,
  RemoteErrorCode,
  type RemoteServer,
  serveRemote,
} from "../src/remote/mod.ts";
import {
  ensureRemoteLibpcap,
  fixture,
  freePort,
  hex,
  notRoot,
  remoteLib,
  runFixture,
  stopChild,
} from "./fixtures/remote_helpers.ts";
import { repoRoot } from "./_helpers.ts";
import { join } from "node:path";

/** A raw rpcap conversation: send bytes, collect every reply until the server closes. */
function converse(
  port: number,
  bytes: Uint8Array[],
  ms = 3000,
): Promise<{ replies: Message[]; closed: boolean }> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port });
    const framer = new Framer(1 << 20);
    const replies: Message[] = [];
    let closed = false;
    const t = setTimeout(() => {
      s.destroy();
      resolve({ replies, closed });
    }, ms);
    s.on("data", (d: Uint8Array) => {
      framer.push(d);
      for (let m = framer.take(); m; m = framer.take()) replies.push(m);
    });
    s.on("error", () => {});
    s.on("close", () => {
      closed = true;
      clearTimeout(t);
      resolve({ replies, closed });
    });
    s.on("connect", () => {
      for (const b of bytes) s.write(b);
    });
  });
}

function rawMsg(
  type: number,
  payload: Uint8Array = new Uint8Array(0),
  plen = payload.length,
): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[1] = type;
  new DataView(out.buffer).setUint32(4, plen);
  out.set(payload, 8);
  return out;
}

function pwd(u: string, p: string): Uint8Array {
  const e = new TextEncoder();
  const ub = e.encode(u), pb = e.encode(p);
  const out = new Uint8Array(8 + ub.length + pb.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 1);
  v.setUint16(4, ub.length);
  v.setUint16(6, pb.length);
  out.set(ub, 8);
  out.set(pb, 8 + ub.length);
  return rawMsg(8, out);
}

const skip = notRoot() ?? false;
const skipLib = skip || (ensureRemoteLibpcap() ?? false);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends `n` UDP datagrams to 127.0.0.1:port every few ms until `until` resolves. */
async function sendDatagrams(
  tx: UdpSocket,
  port: number,
  n: number,
  tag: string,
): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = `${tag} ${i} ${"#".repeat(i * 5)}`;
    sent.push(p);
    await new Promise<void>((r) => tx.send(p, port, "127.0.0.1", () => r()));
    await sleep(2);
  }
  return sent;
}

describe("rpcap server", { skip }, () => {
  let server: RemoteServer;
  let rx: UdpSocket;
  let tx: UdpSocket;
  let dport: number;
  const user = { username: "alice", password: "s3cret-pw" };

  before(async () => {
    server = await serveRemote({
      port: 0,
      auth: { [user.username]: user.password, bob: "x" },
      authFailureDelay: 50,
    });
    rx = createSocket("udp4");
    tx = createSocket("udp4");
    await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
    dport = rx.address().port;
  });

  after(async () => {
    rx?.close();
    tx?.close();
    await server?.close();
  });

  test("safe defaults: no auth and no explicit nullAuth is refused; binds 127.0.0.1", async () => {
    await assert.rejects(serveRemote({ port: 0 }), TypeError);
    assert.equal(server.hostname, "127.0.0.1");
  });

  test("libpcap's client (pcap_open rpcap://127.0.0.1:PORT/lo) receives frames byte-exact", {
    skip: skipLib,
  }, async () => {
    const n = 20;
    const local = openLive("lo", {
      immediate: true,
      snaplen: 2048,
      filter: `udp dst port ${dport}`,
    });
    const localFrames: Packet[] = [];
    const reading = (async () => {
      for await (const p of local) {
        localFrames.push(p);
        if (localFrames.length === n) break;
      }
    })();
    let ready!: () => void;
    const isReady = new Promise<void>((r) => ready = r);
    const child = runFixture(
      fixture("remote_libpcap.ts"),
      [
        remoteLib,
        "open",
        `rpcap://127.0.0.1:${server.port}/lo`,
        String(n),
        "15000",
        user.username,
        user.password,
        "",
        `udp dst port ${dport}`,
      ],
      {},
      (line) => line === "ready" && ready(),
    );
    await Promise.race([isReady, child]);
    await sleep(100);
    const sent = await sendDatagrams(tx, dport, n, "to-libpcap");
    const out = JSON.parse((await child).trim().split("\n").at(-1)!);
    const timer = setTimeout(() => local.close(), 5000);
    await reading;
    clearTimeout(timer);
    local.close();
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.linkType, 1);
    assert.equal(out.frames.length, n);
    assert.deepEqual(
      out.frames,
      localFrames.map((p) => hex(p.data)),
      "same bytes as a local capture",
    );
    const payloads = out.frames.map((h: string) =>
      new TextDecoder().decode(
        new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16))).subarray(42),
      )
    );
    assert.deepEqual(payloads, sent);
    assert.ok(out.stats.received >= n);
  });

  test("libpcap's client over the UDP data channel", { skip: skipLib }, async () => {
    const n = 10;
    let ready!: () => void;
    const isReady = new Promise<void>((r) => ready = r);
    const child = runFixture(
      fixture("remote_libpcap.ts"),
      [
        remoteLib,
        "open",
        `rpcap://127.0.0.1:${server.port}/lo`,
        String(n),
        "15000",
        user.username,
        user.password,
        "udp",
        `udp dst port ${dport}`,
      ],
      {},
      (line) => line === "ready" && ready(),
    );
    await Promise.race([isReady, child]);
    await sleep(100);
    const sent = await sendDatagrams(tx, dport, n, "udp-channel");
    const out = JSON.parse((await child).trim().split("\n").at(-1)!);
    assert.equal(out.error, undefined, out.error);
    const payloads = out.frames.map((h: string) =>
      new TextDecoder().decode(
        new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16))).subarray(42),
      )
    );
    assert.deepEqual(payloads, sent);
  });

  test(
    "libpcap's pcap_findalldevs_ex lists our devices; wrong password refused",
    { skip: skipLib },
    async () => {
      const base = `rpcap://127.0.0.1:${server.port}/`;
      const ok = JSON.parse(
        (await runFixture(fixture("remote_libpcap.ts"), [
          remoteLib,
          "findalldevs",
          base,
          user.username,
          user.password,
        ]))
          .trim().split("\n").at(-1)!,
      );
      assert.equal(ok.error, undefined, ok.error);
      const lo = ok.devices.find((d: { name: string }) => d.name === `${base}lo`);
      assert.ok(lo, JSON.stringify(ok.devices.map((d: { name: string }) => d.name)));
      assert.ok(
        lo.addresses.some((a: { address: string; netmask: string }) =>
          a.address === "127.0.0.1" && a.netmask === "255.0.0.0"
        ),
      );
      const bad = JSON.parse(
        (await runFixture(fixture("remote_libpcap.ts"), [
          remoteLib,
          "findalldevs",
          base,
          user.username,
          "wrong",
        ]))
          .trim().split("\n").at(-1)!,
      );
      assert.match(bad.error, /Authentication failed/);
      const nul = JSON.parse(
        (await runFixture(fixture("remote_libpcap.ts"), [remoteLib, "findalldevs", base])).trim()
          .split("\n").at(-1)!,
      );
      assert.match(nul.error, /NULL authentication not permitted/);
    },
  );

  test("TypeScript client and server: capture, filter update, stats, end, close", async () => {
    const client = await connectRemote({ host: "127.0.0.1", port: server.port, auth: user });
    try {
      const devices = await client.listDevices();
      assert.ok(devices.some((d) => d.name === "lo" && d.flags.loopback));
      const cap = await client.open("lo", { filter: `udp dst port ${dport}`, timeout: 10 });
      await sleep(150);
      const sent = await sendDatagrams(tx, dport, 15, "ts-ts");
      const got: Packet[] = [];
      for await (const b of cap.batches()) {
        got.push(...b);
        if (got.length >= 15) break;
      }
      assert.deepEqual(got.map((p) => new TextDecoder().decode(p.data.subarray(42))), sent);
      await cap.setFilter(`udp dst port ${dport + 1}`);
      await sendDatagrams(tx, dport, 5, "filtered-out");
      await sleep(200);
      const st = await cap.stats();
      assert.equal(st.sent, 15);
      assert.equal(st.captured, 15);
      await cap.endCapture();
      assert.equal(server.captures, 0);
      await assert.rejects(
        cap.setFilter(`udp`).then(() => client.open("lo")),
        /already has an open capture/,
      );
    } finally {
      await client.close();
    }
  });

  test("wrong password, then too many attempts closes; null auth refused", async () => {
    await assert.rejects(
      connectRemote({
        host: "127.0.0.1",
        port: server.port,
        auth: { username: "alice", password: "nope" },
      }),
      (e: unknown) => e instanceof RemoteError && e.remoteCode === RemoteErrorCode.AUTH_FAILED,
    );
    await assert.rejects(
      connectRemote({ host: "127.0.0.1", port: server.port }),
      (e: unknown) =>
        e instanceof RemoteError && /NULL authentication not permitted/.test(e.message),
    );
  });

  test("mergeRemote: two remote captures in one stream, in time-stamp order", async () => {
    const rx2 = createSocket("udp4");
    await new Promise<void>((r) => rx2.bind(0, "127.0.0.1", () => r()));
    const dport2 = rx2.address().port;
    const a = await connectRemote({ host: "127.0.0.1", port: server.port, auth: user });
    const b = await connectRemote({ host: "127.0.0.1", port: server.port, auth: user });
    try {
      const ca = await a.open("lo", { filter: `udp dst port ${dport}`, timeout: 10 });
      const cb = await b.open("lo", { filter: `udp dst port ${dport2}`, timeout: 10 });
      await sleep(150);
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const p = `merge ${i}`;
        sent.push(p);
        await new Promise<void>((r) => tx.send(p, i % 2 ? dport2 : dport, "127.0.0.1", () => r()));
        await sleep(3);
      }
      const got: { source: number; text: string; ns: bigint }[] = [];
      for await (const m of mergeRemote([ca, cb], { reorderMs: 1000 })) {
        got.push({
          source: m.source,
          text: new TextDecoder().decode(m.packet.data.subarray(42)),
          ns: m.packet.timestampNs,
        });
        if (got.length === 20) break;
      }
      assert.deepEqual(got.map((g) => g.text), sent, "time-stamp order is send order");
      assert.deepEqual(got.map((g) => g.source), sent.map((_, i) => i % 2));
      for (let i = 1; i < got.length; i++) assert.ok(got[i].ns >= got[i - 1].ns);
    } finally {
      await a.close();
      await b.close();
      rx2.close();
    }
  });

  test("limits: failed logins, oversized messages, long filters, too many clients", async () => {
    const limited = await serveRemote({
      port: 0,
      auth: { u: "p" },
      maxClients: 2,
      maxMessageSize: 1024,
      maxFilterInstructions: 4,
      authFailureDelay: 10,
      maxAuthAttempts: 3,
    });
    try {
      // Three wrong passwords: three AUTH_FAILED errors, then the connection is closed.
      const wrong = await converse(limited.port, [
        pwd("u", "x"),
        pwd("u", "y"),
        pwd("u", "z"),
        pwd("u", "p"),
      ]);
      assert.deepEqual(wrong.replies.map((m) => [m.type, m.value]), [[1, 18], [1, 18], [1, 18]]);
      assert.equal(wrong.closed, true);
      // A header announcing more than the limit: an error, then closed.
      const big = await converse(limited.port, [pwd("u", "p"), rawMsg(2, new Uint8Array(0), 4096)]);
      assert.deepEqual(big.replies.map((m) => m.type), [0x88, 1]);
      assert.match(
        new TextDecoder().decode(big.replies[1].payload),
        /larger than the limit of 1024/,
      );
      assert.equal(big.closed, true);
      // A request before authentication: an error, then closed.
      const early = await converse(limited.port, [rawMsg(2)]);
      assert.deepEqual(early.replies.map((m) => [m.type, m.value]), [[1, 16]]);
      assert.equal(early.closed, true);
      // A filter longer than allowed is refused (the session goes on).
      const c = await connectRemote({
        host: "127.0.0.1",
        port: limited.port,
        auth: { username: "u", password: "p" },
      });
      const cap = await c.open("lo", { start: false });
      await assert.rejects(
        cap.setFilter("udp port 1 or udp port 2 or udp port 3").then(() => cap.start()),
        /larger than the maximum size of 4 instructions/,
      );
      // Two clients at most: the third gets an error.
      const c2 = await connectRemote({
        host: "127.0.0.1",
        port: limited.port,
        auth: { username: "u", password: "p" },
      });
      await assert.rejects(
        connectRemote({
          host: "127.0.0.1",
          port: limited.port,
          auth: { username: "u", password: "p" },
        }),
        /Too many clients/,
      );
      await c.close();
      await c2.close();
    } finally {
      await limited.close();
    }
  });

  test("examples/rpcap_server.ts serves devices and stops on SIGTERM", async () => {
    const port = await freePort();
    const script = join(repoRoot, "examples", "rpcap_server.ts");
    const cmd = "Deno" in globalThis
      ? [process.execPath, "run", "--no-check", "--allow-all", script]
      : [process.execPath, script];
    const child = spawn(cmd[0], [
      ...cmd.slice(1),
      "--port",
      String(port),
      "--user",
      "ex",
      "--device",
      "lo",
    ], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RPCAP_PASSWORD: "ex-pw" },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (d: string) => {
          out += d;
          if (out.includes("listening")) resolve();
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      const c = await connectRemote({
        host: "127.0.0.1",
        port,
        auth: { username: "ex", password: "ex-pw" },
      });
      assert.deepEqual((await c.listDevices()).map((d) => d.name), ["lo"]);
      await c.close();
    } finally {
      await stopChild(child);
    }
    assert.equal(child.exitCode, 0);
  });
});
