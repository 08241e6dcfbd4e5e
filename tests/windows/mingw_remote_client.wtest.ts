// Windows (Wine) legs deno-mingw / bun-mingw: the Windows runtimes as rpcap CLIENTS of our
// TypeScript server running on Linux (.ci/windows.sh starts it, serving lo on 127.0.0.1, and
// passes its port in PCAP_TEST_RPCAP_PORT; null authentication and user "wine").
//   1. this library's findAllDevices() / open() by default: the library route, i.e. libpcap's
//      own client inside the mingw-built wpcap.dll (remote enabled: pcap_findalldevs_ex,
//      pcap_open), giving a LibraryRemoteCapture;
//   2. the same with via: "typescript": the TypeScript client, on Wine's sockets, giving a
//      RemoteCapture;
//   3. libpcap's client called directly through the FFI (pcap_findalldevs_ex, pcap_open).
// Frames are made during the capture: UDP datagrams from here to a socket bound here on
// 127.0.0.1 (Wine's sockets are the host's), which the Linux server sees on lo. Checked:
// count, order and bytes (UDP payload, lengths, IP protocol and ports).
// Run through .ci/windows.sh (see .ci/windows-README.md), not by `deno test tests/`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { libraryInfo, LiveCapture, type Packet, PcapError } from "../../mod.ts";
import {
  findAllDevices,
  LibraryRemoteCapture,
  open,
  RemoteCapture,
  RemoteError,
} from "../../src/remote/mod.ts";
import { cString, errorBuffer, fromCBuffer, native } from "../../src/native.ts";
import { readDeviceList } from "../../src/devices.ts";
import { type LoopbackUdp, loopbackUdp } from "../_helpers.ts";

const port = Number(process.env.PCAP_TEST_RPCAP_PORT ?? 0);
const skip = process.env.PCAP_WPCAP_FLAVOR !== "mingw"
  ? "the mingw wpcap.dll legs only"
  : port > 0
  ? false
  : "no PCAP_TEST_RPCAP_PORT (.ci/windows.sh starts the server)";
const base = `rpcap://127.0.0.1:${port}/`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The frame of a UDP datagram on Linux lo (DLT_EN10MB): payload at 42. */
function checkFrame(data: Uint8Array, payload: string, dport: number): void {
  const bytes = new TextEncoder().encode(payload);
  assert.equal(data.length, 42 + bytes.length, "caplen: Ethernet + IPv4 + UDP + payload");
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  assert.equal(v.getUint16(12), 0x0800, "IPv4");
  assert.equal(data[23], 17, "UDP");
  assert.equal(v.getUint16(36), dport, "destination port");
  assert.equal(v.getUint16(38), 8 + bytes.length, "UDP length");
  assert.deepEqual(Array.from(data.subarray(42)), Array.from(bytes), "payload byte-exact");
}

describe("mingw wpcap.dll under Wine: rpcap client of our Linux server", { skip }, () => {
  let udp: LoopbackUdp;
  let dport: number;

  before(async () => {
    udp = await loopbackUdp();
    dport = udp.port;
  });

  after(() => {
    udp?.close();
  });

  const send = (p: string): Promise<void> => udp.send(p);

  test("the DLL has libpcap's remote capture (pcap_open, pcap_findalldevs_ex)", () => {
    assert.equal(libraryInfo().features.remote, true);
    const s = native().pcap.symbols;
    assert.equal(typeof s.pcap_open, "function");
    assert.equal(typeof s.pcap_findalldevs_ex, "function");
  });

  for (const via of ["library", "typescript", undefined] as const) {
    test(`findAllDevices(rpcap://127.0.0.1:PORT/), via ${via ?? "default (library)"}: the server's lo, as a source string`, async () => {
      const devices = await findAllDevices(base, { via });
      assert.deepEqual(devices.map((d) => d.name), [`${base}lo`]);
      const lo = devices[0];
      assert.equal(lo.device, "lo");
      assert.ok(lo.flags.loopback);
      assert.ok(lo.addresses.some((a) => a.address === "127.0.0.1" && a.netmask === "255.0.0.0"));
      // With the user's password, too; a wrong one is refused with the server's text.
      const auth = { username: "wine", password: "wine-pw" };
      const again = await findAllDevices(base, { auth, via });
      assert.equal(again.length, 1);
      assert.deepEqual(again, devices);
      await assert.rejects(
        findAllDevices(base, { auth: { ...auth, password: "nope" }, via }),
        (e: unknown) => e instanceof RemoteError && /Authentication failed/.test(e.message),
      );
    });
  }

  test("both routes list the same devices, addresses and descriptions", async () => {
    const lib = await findAllDevices(base, { via: "library" });
    const ts = await findAllDevices(base, { via: "typescript" });
    assert.deepEqual(lib, ts);
  });

  for (
    const [via, transport] of [
      [undefined, "tcp"],
      [undefined, "udp"],
      ["typescript", "tcp"],
      ["typescript", "udp"],
    ] as const
  ) {
    const route = via ?? "library";
    test(`open(rpcap://127.0.0.1:PORT/lo), via ${via ?? "default (library)"}, ${transport} data channel: datagrams sent during the capture arrive byte-exact`, async () => {
      const cap = await open(`${base}lo`, {
        filter: `udp dst port ${dport}`,
        auth: { username: "wine", password: "wine-pw" },
        transport,
        via,
      });
      if (route === "library") {
        assert.ok(cap instanceof LibraryRemoteCapture);
        assert.ok(cap instanceof LiveCapture);
        assert.equal(cap.via, "library");
        assert.equal(cap.device, "lo");
        assert.equal(cap.next(), null); // libpcap starts the capture on the first read
      } else {
        assert.ok(cap instanceof RemoteCapture);
        assert.equal(cap.via, "typescript");
      }
      const c = cap as LibraryRemoteCapture | RemoteCapture;
      try {
        assert.equal(c.linkType, 1);
        await sleep(300);
        const sent: string[] = [];
        for (let i = 0; i < 25; i++) {
          const p = `wine-${route}-${transport} ${i} ${"*".repeat(i * 7)}`;
          sent.push(p);
          await send(p);
          await sleep(2);
        }
        const got: Packet[] = [];
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(new Error("timeout")), 10_000);
        try {
          for await (const b of c.batches({ signal: ac.signal })) {
            got.push(...b.map((p) => p.clone()));
            if (got.length >= sent.length) break;
          }
        } finally {
          clearTimeout(timer);
        }
        assert.equal(got.length, sent.length, "every datagram once");
        got.forEach((p, i) => checkFrame(p.data, sent[i], dport));
        const st = await c.stats();
        if (route === "library") {
          assert.ok(st.received >= sent.length, `received ${st.received}`);
        } else {
          assert.equal(st.sent, sent.length);
          assert.equal(st.captured, sent.length);
        }
        if (route === "library") {
          // Idle: nothing more comes; close() ends a pending for-await promptly.
          const idle = (async (): Promise<number> => {
            for await (const _ of c.batches()) { /* nothing */ }
            return performance.now();
          })();
          await sleep(200);
          const t0 = performance.now();
          await c.close();
          const ms = (await idle) - t0;
          assert.ok(ms < 500, `close() ended the idle read in ${ms} ms`);
        }
      } finally {
        await c.close();
      }
    });
  }

  test("via: library on an rpcaps:// source is NOT_SUPPORTED (TLS is the TypeScript client's)", async () => {
    await assert.rejects(
      open(`rpcaps://127.0.0.1:${port}/lo`, { via: "library" }),
      (e: unknown) => e instanceof PcapError && e.code === "NOT_SUPPORTED",
    );
  });

  test("libpcap's client in wpcap.dll: pcap_findalldevs_ex and pcap_open, byte-exact", async () => {
    const n = native();
    const s = n.pcap.symbols;
    const b = n.backend;
    // pcap_findalldevs_ex through the DLL (Windows ABI device list).
    const out = new BigUint64Array(1);
    let errbuf = errorBuffer();
    const rc = s.pcap_findalldevs_ex!(cString(base), null, out, errbuf);
    assert.equal(rc, 0, fromCBuffer(errbuf));
    const first = b.fromAddress(out[0]);
    const devices = readDeviceList(first);
    if (!b.isNull(first)) s.pcap_freealldevs(first);
    assert.deepEqual(devices.map((d) => d.name), [`${base}lo`]);

    // pcap_open with user and password: struct pcap_rmtauth { int; char *; char * } (LLP64
    // as LP64 here: 24 bytes).
    const user = cString("wine");
    const pass = cString("wine-pw");
    const auth = new Uint8Array(24);
    const av = new DataView(auth.buffer);
    av.setInt32(0, 1, true);
    av.setBigUint64(8, BigInt(b.address(b.pointerOf(user))), true);
    av.setBigUint64(16, BigInt(b.address(b.pointerOf(pass))), true);
    errbuf = errorBuffer();
    const source = `${base}lo`;
    const p = s.pcap_open!(cString(source), 2048, 0, 50, b.pointerOf(auth), errbuf);
    assert.ok(!b.isNull(p), fromCBuffer(errbuf));
    const cap = new LiveCapture(p, source, "micro", null, 50);
    try {
      assert.equal(cap.linkType, 1);
      cap.setFilter(`udp dst port ${dport}`); // sent with RPCAP_MSG_STARTCAP_REQ
      assert.equal(cap.next(), null); // starts the capture; nothing yet
      await sleep(300);
      // The reads are synchronous (in the DLL): send one datagram, then read it back.
      const sent: string[] = [];
      const got: Uint8Array[] = []; // copies: next() lends libpcap's buffer until the next call
      for (let i = 0; i < 15; i++) {
        const payload = `wine-libpcap ${i} ${"#".repeat(i * 11)}`;
        sent.push(payload);
        await send(payload);
        const end = Date.now() + 3000;
        while (got.length < sent.length && Date.now() < end) {
          const pkt = cap.next();
          if (pkt) got.push(pkt.data.slice());
          else await sleep(1);
        }
      }
      assert.equal(got.length, sent.length, "every datagram once");
      got.forEach((data, i) => checkFrame(data, sent[i], dport));
      assert.equal(cap.next(), null, "nothing more");
    } finally {
      cap.close();
    }
  });
});
