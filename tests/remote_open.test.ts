// open() / findAllDevices() on source strings (local, file, remote), compared
// with libpcap's pcap_findalldevs_ex; and rpcap over TLS (rpcaps://) in every
// pairing: our client with rpcapd -S, libpcap's client with our server, ours
// with ours.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDead, type Packet } from "../mod.ts";
import { findAllDevices, open, RemoteCapture, serveRemote } from "../src/remote/mod.ts";
import {
  ensureRemoteLibpcap,
  fixture,
  freePort,
  notRoot,
  remoteLib,
  runFixture,
  selfSignedCert,
  sendUntil,
  startRpcapd,
  stopChild,
} from "./fixtures/remote_helpers.ts";
import { type LoopbackUdp, loopbackUdp } from "./_helpers.ts";

const skip = notRoot() ?? ensureRemoteLibpcap() ?? false;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function libpcapDevices(source: string, user?: string, pass?: string): Promise<Listed[]> {
  const args = [remoteLib, "findalldevs", source];
  if (user) args.push(user, pass ?? "");
  const out = JSON.parse(
    (await runFixture(fixture("remote_libpcap.ts"), args)).trim().split("\n").at(-1)!,
  );
  if (out.error) throw new Error(out.error);
  return out.devices;
}

type Listed = {
  name: string;
  description: string | null;
  rawFlags: number;
  addresses: readonly { family: string; address: string; netmask: string | null }[];
};
const shape = (
  d: Listed,
): { name: string; description: string | null; rawFlags: number; addresses: string[] } => ({
  name: d.name,
  description: d.description,
  rawFlags: d.rawFlags,
  addresses: d.addresses.filter((a) => a.family === "ipv4" || a.family === "ipv6").map((a) =>
    `${a.family} ${a.address}/${a.netmask}`
  ),
});

async function take(cap: AsyncIterable<Packet[]>, n: number, ms: number): Promise<Packet[]> {
  const got: Packet[] = [];
  const deadline = Date.now() + ms;
  for await (const b of cap) {
    got.push(...b);
    if (got.length >= n || Date.now() > deadline) break;
  }
  return got;
}

async function sendAll(udp: LoopbackUdp, n: number, tag: string): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = `${tag} ${i}`;
    sent.push(p);
    await udp.send(p);
    await sleep(2);
  }
  return sent;
}

const payloadOf = (p: Packet): string => new TextDecoder().decode(p.data.subarray(42));

describe("findAllDevices and open on source strings", { skip }, () => {
  let dir: string;
  let rpcapd: ChildProcess;
  let port: number;
  let udp: LoopbackUdp;
  let dport: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "netcap-remote-"));
    port = await freePort();
    rpcapd = await startRpcapd(["-n", "-b", "127.0.0.1", "-p", String(port)], port);
    udp = await loopbackUdp();
    dport = udp.port;
  });

  after(async () => {
    udp?.close();
    if (rpcapd) await stopChild(rpcapd);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("rpcap:// (local devices): same list as pcap_findalldevs_ex on the same libpcap", async () => {
    // Ours runs on the same (remote-enabled) libpcap, in a child process.
    const listed = await runFixture(fixture("remote_ours.ts"), ["rpcap://"], {
      PCAP_LIBRARY: remoteLib,
    });
    const ours = (JSON.parse(listed.trim().split("\n").at(-1)!) as Listed[]).map(shape);
    const theirs = (await libpcapDevices("rpcap://")).map(shape);
    assert.deepEqual(ours, theirs);
  });

  test("file://DIR: the savefiles of a folder, as pcap_findalldevs_ex lists them", async () => {
    const dead = openDead(1);
    for (const f of ["a.pcap", "b.pcap"]) dead.dump(join(dir, f)).close();
    dead.close();
    writeFileSync(join(dir, "junk.txt"), "not a capture");
    const ours = (await findAllDevices(`file://${dir}`)).map(shape);
    const theirs = (await libpcapDevices(`file://${dir}`)).map(shape);
    assert.equal(ours.length, 2);
    assert.deepEqual(ours, [...theirs].sort((a, b) => a.name.localeCompare(b.name)));
  });

  test("rpcap://127.0.0.1:PORT/ (rpcapd): same list as pcap_findalldevs_ex", async () => {
    const src = `rpcap://127.0.0.1:${port}/`;
    const ours = (await findAllDevices(src)).map(shape);
    const theirs = (await libpcapDevices(src)).map(shape);
    assert.deepEqual(ours, theirs);
  });

  test("open(): file, local and remote sources read alike", async () => {
    const f = await open(`file://${join(dir, "a.pcap")}`);
    assert.equal((await take(f.batches(), 1, 500)).length, 0);
    f.close();
    const remote = await open(`rpcap://127.0.0.1:${port}/lo`, {
      filter: `udp dst port ${dport}`,
      snaplen: 512,
    });
    assert.ok(remote instanceof RemoteCapture);
    const local = await open("lo", { filter: `udp dst port ${dport}`, immediate: true });
    await sleep(200);
    const sent = await sendAll(udp, 10, "open()");
    const [r, l] = await Promise.all([
      take(remote.batches(), 10, 5000),
      take(local.batches(), 10, 5000),
    ]);
    assert.deepEqual(r.map(payloadOf), sent);
    assert.deepEqual(r.map((p) => Array.from(p.data)), l.map((p) => Array.from(p.data)));
    await remote.close();
    local.close();
  });
});

describe("rpcap over TLS (rpcaps://)", { skip }, () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  let udp: LoopbackUdp;
  let dport: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "netcap-tls-"));
    ({ key, cert } = selfSignedCert(dir));
    udp = await loopbackUdp();
    dport = udp.port;
  });

  after(() => {
    udp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("our client, certificate verified, with rpcapd -S", async () => {
    const port = await freePort();
    const rpcapd = await startRpcapd(
      [
        "-n",
        "-S",
        "-K",
        join(dir, "key.pem"),
        "-X",
        join(dir, "cert.pem"),
        "-b",
        "127.0.0.1",
        "-p",
        String(port),
      ],
      port,
    );
    try {
      const devices = await findAllDevices(`rpcaps://127.0.0.1:${port}/`, {
        tlsOptions: { ca: cert },
      });
      assert.ok(devices.some((d) => d.name === `rpcaps://127.0.0.1:${port}/lo`));
      const cap = await open(`rpcaps://127.0.0.1:${port}/lo`, {
        filter: `udp dst port ${dport}`,
        tlsOptions: { ca: cert },
      });
      await sleep(200);
      const sent = await sendAll(udp, 10, "tls-rpcapd");
      assert.deepEqual((await take(cap.batches(), 10, 5000)).map(payloadOf), sent);
      await (cap as RemoteCapture).close();
      // An unknown certificate is refused.
      await assert.rejects(findAllDevices(`rpcaps://127.0.0.1:${port}/`), /certificate/i);
    } finally {
      await stopChild(rpcapd);
    }
  });

  test("libpcap's client (rpcaps://) and ours with our TLS server", async () => {
    const server = await serveRemote({ port: 0, auth: { tls: "tls-pw" }, tls: { key, cert } });
    try {
      // Over TLS, libpcap's reader blocks in SSL_read until data comes (with rpcapd as
      // well): its first read returns only with a packet, so datagrams flow until it ends.
      let done = false;
      const child = runFixture(
        fixture("remote_libpcap.ts"),
        [
          remoteLib,
          "open",
          `rpcaps://127.0.0.1:${server.port}/lo`,
          "8",
          "15000",
          "tls",
          "tls-pw",
          "",
          `udp dst port ${dport}`,
        ],
      ).finally(() => done = true);
      const sent = await sendUntil(udp, "tls-libpcap", () => done);
      const out = JSON.parse((await child).trim().split("\n").at(-1)!);
      assert.equal(out.error, undefined, out.error);
      const got = out.frames.map((h: string) =>
        new TextDecoder().decode(
          new Uint8Array(h.match(/../g)!.map((x: string) => parseInt(x, 16))).subarray(42),
        )
      );
      assert.equal(got.length, 8);
      // Consecutive datagrams, in order (the first ones may predate the start).
      const first = sent.indexOf(got[0]);
      assert.ok(first >= 0);
      assert.deepEqual(got, sent.slice(first, first + 8));

      const cap = await open(`rpcaps://127.0.0.1:${server.port}/lo`, {
        filter: `udp dst port ${dport}`,
        auth: { username: "tls", password: "tls-pw" },
        tlsOptions: { ca: cert },
      });
      await sleep(150);
      const sent2 = await sendAll(udp, 8, "tls-ours");
      assert.deepEqual((await take(cap.batches(), 8, 5000)).map(payloadOf), sent2);
      await (cap as RemoteCapture).close();
    } finally {
      await server.close();
    }
  });
});
