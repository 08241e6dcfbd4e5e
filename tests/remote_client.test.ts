// The TypeScript rpcap client against libpcap's real rpcapd: null and password
// authentication, device lists, byte-exact capture of frames injected on a veth
// pair into the server's namespace, filter update mid-capture, stats, end of
// capture, UDP data channel, and refusals.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { openLive, type Packet } from "../mod.ts";
import {
  connectRemote,
  listenRemote,
  type RemoteCapture,
  RemoteError,
  RemoteErrorCode,
} from "../src/remote/mod.ts";
import {
  createServerNamespace,
  createTestUser,
  ensureRemoteLibpcap,
  freePort,
  hex,
  notRoot,
  type ServerNamespace,
  startRpcapd,
  stopChild,
  testFrame,
} from "./fixtures/remote_helpers.ts";

const skip = notRoot() ?? ensureRemoteLibpcap() ?? false;

/** Reads packets until `n` arrived or `ms` passed. */
async function collect(
  cap: RemoteCapture,
  n: number,
  ms: number,
  into: Packet[] = [],
): Promise<Packet[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error("timeout")), ms);
  try {
    for await (const batch of cap.batches({ signal: ac.signal })) {
      into.push(...batch);
      if (into.length >= n) break;
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
  }
  return into;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("rpcap client against rpcapd", { skip }, () => {
  let space: ServerNamespace;
  let rpcapd: ChildProcess;
  let port: number;

  before(async () => {
    space = createServerNamespace();
    port = await freePort();
    rpcapd = await startRpcapd(["-n", "-b", space.nsAddr, "-p", String(port)], port, {
      ns: space.ns,
    });
  });

  after(async () => {
    if (rpcapd) await stopChild(rpcapd);
    space?.destroy();
  });

  test("null authentication, device list with addresses", async () => {
    const client = await connectRemote({ host: space.nsAddr, port });
    try {
      assert.equal(client.byteSwapped, false);
      const devices = await client.listDevices();
      const eth1 = devices.find((d) => d.name === "eth1");
      assert.ok(eth1, `eth1 listed: ${devices.map((d) => d.name).join(" ")}`);
      assert.ok(
        eth1.addresses.some((a) =>
          a.family === "ipv4" && a.address === space.nsAddr && a.prefixLength === 24
        ),
      );
      assert.equal(eth1.source, `rpcap://${space.nsAddr}:${port}/eth1`);
      const lo = devices.find((d) => d.name === "lo");
      assert.ok(lo?.flags.loopback);
      assert.ok(lo.addresses.some((a) => a.address === "127.0.0.1" && a.netmask === "255.0.0.0"));
    } finally {
      await client.close();
    }
  });

  test("capture over TCP: injected frames arrive byte-exact; filter update mid-capture; stats; end", async () => {
    const client = await connectRemote({ host: space.nsAddr, port });
    const inject = openLive(space.rootIf, { snaplen: 65535 });
    try {
      const cap = await client.open("eth1", { filter: "ether proto 0x88b5", timeout: 20 });
      assert.equal(cap.linkType, 1);
      await sleep(200);
      const n = 100;
      const a = Array.from({ length: n }, (_, i) => testFrame(i, 60 + ((i * 97) % 1400)));
      for (const f of a) assert.equal(inject.inject(f), f.length);
      const got = await collect(cap, n, 10_000);
      assert.equal(got.length, n, "every frame arrived once");
      assert.deepEqual(got.map((p) => hex(p.data)), a.map(hex), "bytes equal, in order");
      for (const [i, p] of got.entries()) {
        assert.equal(p.caplen, a[i].length);
        assert.equal(p.length, a[i].length);
        assert.equal(p.linkType, 1);
        assert.ok(Math.abs(p.timestampMs - Date.now()) < 60_000);
      }

      // Filter update mid-capture: only 0x88b6 from now on.
      await cap.setFilter("ether proto 0x88b6");
      const b5 = Array.from({ length: 20 }, (_, i) => testFrame(1000 + i, 80, 0x88b5));
      const b6 = Array.from({ length: 20 }, (_, i) => testFrame(2000 + i, 90, 0x88b6));
      for (let i = 0; i < 20; i++) {
        inject.inject(b5[i]);
        inject.inject(b6[i]);
      }
      const later = await collect(cap, 20, 10_000);
      assert.deepEqual(later.map((p) => hex(p.data)), b6.map(hex), "only the new filter's frames");

      const stats = await cap.stats();
      assert.ok(stats.received >= n + 20, `received ${stats.received}`);
      assert.equal(stats.dropped, 0);
      assert.equal(stats.sent, n + 20, "server sent what we got");
      assert.equal(stats.captured, n + 20);

      // End of capture ends the iteration quietly; restart works on the same device.
      const ended = collect(cap, 1_000_000, 10_000);
      await cap.endCapture();
      assert.equal((await ended).length, 0);
      assert.equal(cap.running, false);
      await cap.start();
      await sleep(200);
      const c = testFrame(3000, 100, 0x88b6);
      inject.inject(c);
      const again = await collect(cap, 1, 10_000);
      assert.deepEqual(again.map((p) => hex(p.data)), [hex(c)]);
      await cap.close();
      assert.equal(client.closed, true);
    } finally {
      inject.close();
      await client.close();
    }
  });

  test("capture over the UDP data channel", async () => {
    const client = await connectRemote({ host: space.nsAddr, port });
    const inject = openLive(space.rootIf, { snaplen: 65535 });
    try {
      const cap = await client.open("eth1", {
        filter: "ether proto 0x88b5",
        transport: "udp",
        timeout: 20,
      });
      await sleep(200);
      const frames = Array.from({ length: 30 }, (_, i) => testFrame(i, 200 + i));
      for (const f of frames) {
        inject.inject(f);
        await sleep(2);
      }
      const got = await collect(cap, frames.length, 10_000);
      assert.deepEqual(got.map((p) => hex(p.data)), frames.map(hex));
      const st = await cap.stats();
      assert.equal(st.networkDropped, 0);
      await cap.endCapture();
    } finally {
      inject.close();
      await client.close();
    }
  });

  test("errors: unknown device, filter update before open on a fresh session", async () => {
    const client = await connectRemote({ host: space.nsAddr, port });
    try {
      await assert.rejects(client.open("nosuchdev0"), (e: unknown) => {
        assert.ok(e instanceof RemoteError);
        assert.equal(e.remoteCode, RemoteErrorCode.OPEN);
        assert.match(e.message, /nosuchdev0/);
        return true;
      });
      // The session survives an error reply.
      assert.ok((await client.listDevices()).length > 0);
    } finally {
      await client.close();
    }
  });
});

describe(
  "rpcap client and rpcapd on 127.0.0.1: password auth, loopback, active mode",
  { skip },
  () => {
    test("right password lists devices; wrong password and null auth refused", async () => {
      const user = createTestUser();
      const port = await freePort();
      let rpcapd: ChildProcess | null = null;
      try {
        rpcapd = await startRpcapd(["-b", "127.0.0.1", "-p", String(port)], port);
        const ok = await connectRemote({
          host: "127.0.0.1",
          port,
          auth: { username: user.name, password: user.password },
        });
        const devices = await ok.listDevices();
        assert.ok(devices.some((d) => d.name === "lo"));
        await ok.close();

        await assert.rejects(
          connectRemote({
            host: "127.0.0.1",
            port,
            auth: { username: user.name, password: user.password + "x" },
          }),
          (e: unknown) => e instanceof RemoteError && e.remoteCode === RemoteErrorCode.AUTH_FAILED,
        );
        await assert.rejects(
          connectRemote({ host: "127.0.0.1", port }),
          (e: unknown) =>
            e instanceof RemoteError && e.remoteCode === RemoteErrorCode.AUTH_FAILED &&
            /NULL authentication/.test(e.message),
        );
      } finally {
        if (rpcapd) await stopChild(rpcapd);
        user.remove();
      }
    });

    test("loopback capture of UDP datagrams through rpcapd on 127.0.0.1", async () => {
      const port = await freePort();
      const rpcapd = await startRpcapd(["-n", "-b", "127.0.0.1", "-p", String(port)], port);
      const rx = createSocket("udp4");
      const tx = createSocket("udp4");
      try {
        await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
        const dport = rx.address().port;
        const client = await connectRemote({ host: "127.0.0.1", port });
        const cap = await client.open("lo", { filter: `udp dst port ${dport}`, timeout: 20 });
        await sleep(200);
        const payloads = Array.from(
          { length: 25 },
          (_, i) => `remote datagram ${i} ${"z".repeat(i * 3)}`,
        );
        for (const p of payloads) {
          await new Promise<void>((r) => tx.send(p, dport, "127.0.0.1", () => r()));
        }
        const got = await collect(cap, payloads.length, 10_000);
        assert.equal(got.length, payloads.length);
        for (const [i, p] of got.entries()) {
          const udpPayload = new TextDecoder().decode(p.data.subarray(14 + 20 + 8));
          assert.equal(udpPayload, payloads[i]);
        }
        await client.close();
      } finally {
        rx.close();
        tx.close();
        await stopChild(rpcapd);
      }
    });

    test("active mode: rpcapd -a connects to us; capture with the server-opened data connection", async () => {
      const listener = await listenRemote({ port: 0, allow: ["127.0.0.1"] });
      const passivePort = await freePort();
      const rpcapd = await startRpcapd(
        ["-n", "-b", "127.0.0.1", "-p", String(passivePort), "-a", `127.0.0.1,${listener.port}`],
        passivePort,
      );
      const rx = createSocket("udp4");
      const tx = createSocket("udp4");
      try {
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(new Error("rpcapd did not connect")), 15_000);
        const client = await listener.accept({ signal: ac.signal });
        clearTimeout(timer);
        assert.equal(client.active, true);
        assert.ok((await client.listDevices()).some((d) => d.name === "lo"));
        await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
        const dport = rx.address().port;
        const cap = await client.open("lo", { filter: `udp dst port ${dport}`, timeout: 20 });
        await sleep(200);
        const payloads = Array.from({ length: 10 }, (_, i) => `active ${i}`);
        for (const p of payloads) {
          await new Promise<void>((r) => tx.send(p, dport, "127.0.0.1", () => r()));
        }
        const got = await collect(cap, payloads.length, 10_000);
        assert.deepEqual(got.map((p) => new TextDecoder().decode(p.data.subarray(42))), payloads);
        await cap.endCapture();
        await client.close();
      } finally {
        rx.close();
        tx.close();
        await listener.close();
        await stopChild(rpcapd);
      }
    });
  },
);
