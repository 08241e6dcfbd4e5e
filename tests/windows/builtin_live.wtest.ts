// Windows (Wine) legs deno-builtin / bun-builtin: live capture through Wine's builtin
// wpcap.dll, on the device that holds 127.0.0.1 (the host's lo). This is the Windows code path
// of the package: no selectable descriptor (async iteration polls with short sleeps), no
// memory streams (batches() reads packet by packet), the 16-byte pcap_pkthdr with a 32-bit
// timeval, and pcap_inject absent (inject() falls back to pcap_sendpacket).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import {
  type Device,
  libraryInfo,
  listDevices,
  LiveCapture,
  openLive,
  type Packet,
  PcapError,
} from "../../mod.ts";
import { pcapStructs } from "../../ffi/structs.ts";
import { idleWaitThenAbort, idleWaitThenClose } from "../_helpers.ts";

const HEADERS = 14 + 20 + 8; // Ethernet (lo is EN10MB) + IPv4 + UDP

function loopback(): Device {
  const lo = listDevices().find((d) => d.addresses.some((a) => a.address === "127.0.0.1"));
  assert.ok(lo, "a device with 127.0.0.1");
  return lo;
}

let nextPort = 41000 + (process.pid % 9000);

/** A bound receiver (so no ICMP port-unreachable comes back) and a sender. */
async function udpPair(): Promise<
  { port: number; send: (b: Uint8Array) => Promise<void>; close: () => void }
> {
  const port = nextPort++;
  const rx: Socket = createSocket("udp4");
  await new Promise<void>((r) => rx.bind(port, "127.0.0.1", () => r()));
  const tx: Socket = createSocket("udp4");
  return {
    port,
    send: (b) => new Promise<void>((r, j) => tx.send(b, port, "127.0.0.1", (e) => e ? j(e) : r())),
    close: () => {
      tx.close();
      rx.close();
    },
  };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const payloadOf = (p: Packet): string => new TextDecoder().decode(p.data.subarray(HEADERS));

function ethFrame(seq: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5], 0);
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

/** Fails a hanging read: closes the capture after `ms`. */
function watchdog(cap: LiveCapture, ms: number): () => void {
  const t = setTimeout(() => cap.close(), ms);
  return () => clearTimeout(t);
}

describe("builtin wpcap.dll: live capture on the loopback device", () => {
  test("the Windows path is in use: 16-byte headers, no selectable fd, no inject", () => {
    assert.equal(process.env.PCAP_WPCAP_FLAVOR, "builtin");
    assert.equal(pcapStructs().pcap_pkthdr.size, 16);
    const { features, missing } = libraryInfo();
    assert.equal(features.selectableFd, false);
    assert.equal(features.memoryStreams, false);
    assert.ok(missing.includes("pcap_inject"));
    assert.ok(!missing.includes("pcap_sendpacket"));
  });

  test("for await: UDP datagrams sent to 127.0.0.1 arrive in order, headers decoded", async () => {
    const lo = loopback();
    const udp = await udpPair();
    const cap = openLive(lo, {
      snaplen: 2048,
      timeout: 10,
      filter: `udp and dst port ${udp.port}`,
    });
    assert.ok(cap instanceof LiveCapture);
    assert.equal(cap.linkType, 1, "the host's lo is EN10MB");
    assert.equal(cap.snaplen, 2048);
    const n = 50;
    const got: Packet[] = [];
    const start = Date.now();
    const reading = (async () => {
      for await (const p of cap) {
        got.push(p);
        if (got.length === n) break;
      }
    })();
    for (let i = 0; i < n; i++) await udp.send(text(`datagram ${i}`));
    const stop = watchdog(cap, 15000);
    await reading;
    stop();
    const end = Date.now();
    udp.close();
    assert.equal(got.length, n, "every datagram was captured");
    got.forEach((p, i) => {
      assert.equal(payloadOf(p), `datagram ${i}`);
      assert.equal(p.caplen, HEADERS + `datagram ${i}`.length, "caplen");
      assert.equal(p.length, p.caplen, "len");
      assert.equal(p.data.length, p.caplen);
      assert.equal(p.linkType, 1);
      assert.equal(p.nanoseconds % 1000, 0, "microsecond precision");
      assert.ok(p.nanoseconds >= 0 && p.nanoseconds < 1e9);
      assert.ok(
        p.timestampMs >= start - 2000 && p.timestampMs <= end + 2000,
        `time stamp ${p.date.toISOString()} within the test (${new Date(start).toISOString()})`,
      );
      if (i > 0) assert.ok(p.timestampMs >= got[i - 1].timestampMs, "time stamps do not go back");
    });
    const stats = cap.stats();
    assert.ok(stats.received >= n, `pcap_stats received ${stats.received}`);
    assert.equal(stats.dropped, 0);
    cap.close();
  });

  test("batches(): snaplen cuts the data, caplen < len both come from the 16-byte header", async () => {
    const lo = loopback();
    const udp = await udpPair();
    const snaplen = 100;
    const cap = openLive(lo, { snaplen, timeout: 10, filter: `udp and dst port ${udp.port}` });
    const n = 30;
    const payload = (i: number): Uint8Array => {
      const b = new Uint8Array(200 + i);
      b.set(text(`big ${i} `));
      return b;
    };
    const got: Packet[] = [];
    let batchCount = 0;
    const reading = (async () => {
      for await (const batch of cap.batches()) {
        batchCount++;
        got.push(...batch);
        if (got.length >= n) break;
      }
    })();
    for (let i = 0; i < n; i++) await udp.send(payload(i));
    const stop = watchdog(cap, 15000);
    await reading;
    stop();
    udp.close();
    assert.equal(got.length, n);
    assert.ok(batchCount >= 1 && batchCount <= n);
    got.forEach((p, i) => {
      assert.equal(p.caplen, snaplen, "caplen is the snaplen");
      assert.equal(p.length, HEADERS + 200 + i, "len is the wire length");
      assert.equal(p.data.length, snaplen);
      assert.ok(new TextDecoder().decode(p.data.subarray(HEADERS)).startsWith(`big ${i} `));
      // IPv4 total length and UDP length inside the captured bytes agree with len.
      const v = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      assert.equal(v.getUint16(14 + 2), p.length - 14, "IPv4 total length");
      assert.equal(v.getUint16(14 + 20 + 4), 8 + 200 + i, "UDP length");
    });
    cap.close();
  });

  test("nanosecond precision: time stamps with nanoseconds, near now", async () => {
    const udp = await udpPair();
    const cap = openLive(loopback(), {
      snaplen: 512,
      timeout: 10,
      timestampPrecision: "nano",
      filter: `udp and dst port ${udp.port}`,
    });
    assert.equal(cap.timestampPrecision, "nano");
    const start = Date.now();
    const reading = (async () => {
      const out: Packet[] = [];
      for await (const p of cap) if (out.push(p) === 5) break;
      return out;
    })();
    for (let i = 0; i < 5; i++) await udp.send(text(`ns ${i}`));
    const stop = watchdog(cap, 15000);
    const got = await reading;
    stop();
    udp.close();
    assert.equal(got.length, 5);
    assert.ok(got.some((p) => p.nanoseconds % 1000 !== 0), "sub-microsecond digits");
    for (const p of got) {
      assert.ok(p.nanoseconds >= 0 && p.nanoseconds < 1e9);
      assert.ok(Math.abs(p.timestampMs - start) < 10000, p.date.toISOString());
    }
    cap.close();
  });

  test("sendPacket() and inject() (its pcap_sendpacket fallback) are seen by a capture", async () => {
    const lo = loopback();
    const cap = openLive(lo, { snaplen: 2048, timeout: 10, filter: "ether proto 0x88b5" });
    const sender = openLive(lo, { snaplen: 2048, timeout: 10 });
    const frames = [ethFrame(1, 60), ethFrame(2, 300), ethFrame(3, 1514)];
    const reading = (async () => {
      const out: Packet[] = [];
      for await (const p of cap) if (out.push(p) === frames.length) break;
      return out;
    })();
    await new Promise((r) => setTimeout(r, 50));
    sender.sendPacket(frames[0]);
    sender.sendPacket(frames[1]);
    assert.equal(sender.inject(frames[2]), frames[2].length);
    const stop = watchdog(cap, 10000);
    const got = await reading;
    stop();
    sender.close();
    assert.equal(got.length, frames.length);
    got.forEach((p, i) => {
      assert.deepEqual(p.data, frames[i]);
      assert.equal(p.length, frames[i].length);
    });
    cap.close();
  });

  test("idle wait: timers keep running, and close() ends the wait promptly", async () => {
    const cap = openLive(loopback(), { filter: "ether proto 0x88b6", timeout: 1000 });
    const { worstGap, closeMs } = await idleWaitThenClose(cap);
    assert.ok(worstGap <= 60, `largest timer gap ${worstGap.toFixed(1)} ms`);
    assert.ok(
      closeMs <= 150, // (includes pcap_close in the host libpcap: 20-40 ms measured)
      `close() took ${closeMs.toFixed(1)} ms to end the wait`,
    );
    assert.equal(cap.closed, true);
    assert.throws(() => cap.next(), (e: unknown) => e instanceof PcapError && e.code === "CLOSED");
  });

  test("idle wait: abort ends it promptly with the signal's reason; blocking mode restored", async () => {
    const cap = openLive(loopback(), { filter: "ether proto 0x88b6", timeout: 1000 });
    const { error: err, abortMs } = await idleWaitThenAbort(cap);
    assert.ok(err instanceof Error && err.name === "AbortError", `got ${err}`);
    assert.ok(abortMs <= 100, `abort took ${abortMs.toFixed(1)} ms`);
    assert.equal(cap.nonblocking, false);
    cap.close();
  });

  test("errors: an unknown device is a PcapError; use after close never reaches the DLL", () => {
    assert.throws(() => openLive("\\Device\\NPF_{00000000-0000-0000-0000-000000000000}"), (e) => {
      assert.ok(e instanceof PcapError, String(e));
      return true;
    });
    const cap = openLive(loopback());
    cap.close();
    cap.close();
    for (
      const use of [
        () => cap.next(),
        () => cap.stats(),
        () => cap.sendPacket(new Uint8Array(60)),
        () => cap.setFilter("tcp"),
        () => cap.linkType,
      ]
    ) {
      assert.throws(use, (e: unknown) => e instanceof PcapError && e.code === "CLOSED");
    }
  });
});
