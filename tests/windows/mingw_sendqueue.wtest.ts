// Windows (Wine) legs deno-mingw / bun-mingw: send queues against the WinPcap extensions of
// the mingw-built wpcap.dll (pcap_sendqueue_alloc/queue/transmit/destroy). Queues built
// natively and by SendQueue take and refuse the same packets (the memory limit) and hold the
// same bytes (the 16-byte Windows pcap_pkthdr with a 32-bit timeval); transmit on a dead
// handle goes to pcap_sendqueue_transmit and reports the library's own error.
// Run through .ci/windows.sh (see .ci/windows-README.md), not by `deno test tests/`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { libraryInfo, openDead, PcapError } from "../../mod.ts";
import { NativeSendQueue, SendQueue, winpcapExtensions } from "../../src/sendqueue.ts";
import { structs } from "../../src/native.ts";
import { openStatistics, statisticsModeAvailable } from "../../src/statistics.ts";

/** A `struct pcap_pkthdr` of this platform, written with the layout engine. */
function header(seconds: number, micros: number, caplen: number, len = caplen): Uint8Array {
  const s = structs();
  const out = new Uint8Array(s.pcap_pkthdr.size);
  const v = new DataView(out.buffer);
  s.timeval.write(v, { tv_sec: seconds, tv_usec: micros }, s.pcap_pkthdr.offsetOf("ts"));
  s.pcap_pkthdr.write(v, { caplen, len });
  return out;
}

function data(seq: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  for (let i = 0; i < size; i++) f[i] = (seq * 31 + i) & 0xff;
  return f;
}

/** Queues the same packets natively and in a SendQueue; returns both results. */
function build(
  memorySize: number,
  sizes: number[],
): { native: number[]; emulated: boolean[]; nativeBytes: Uint8Array; bytes: Uint8Array } {
  const nq = new NativeSendQueue(memorySize);
  using q = new SendQueue(memorySize);
  try {
    const native: number[] = [];
    const emulated: boolean[] = [];
    sizes.forEach((size, i) => {
      const d = data(i, size);
      const sec = 1700000000 + i;
      const usec = (i * 12345) % 1000000;
      native.push(nq.queue(header(sec, usec, size, size + i), d));
      emulated.push(q.queue({ seconds: sec, microseconds: usec, length: size + i }, d));
    });
    assert.equal(nq.length, q.length);
    return { native, emulated, nativeBytes: nq.bytes(), bytes: q.bytes() };
  } finally {
    nq.destroy();
  }
}

describe("mingw wpcap.dll: send queues", () => {
  test("the library has the extensions and they are used; 16-byte headers", () => {
    assert.equal(process.env.PCAP_WPCAP_FLAVOR, "mingw");
    assert.equal(libraryInfo().features.sendQueue, true);
    assert.equal(winpcapExtensions(), true);
    assert.equal(SendQueue.headerSize, 16);
  });

  test("the memory limit: native and emulated take and refuse the same packets", () => {
    const cases: [number, number[]][] = [
      [2 * 16 + 100, [60, 41, 40, 0]], // fits, refused (1 byte over), fits exactly, refused
      [16 + 10, [10, 0]],
      [15, [0]], // not even a header
      [0, [0, 1]],
      [4096, Array.from({ length: 80 }, (_, i) => (i * 37) % 200)],
      [1000, [984, 1]],
      [1000, [985]],
    ];
    for (const [memorySize, sizes] of cases) {
      const r = build(memorySize, sizes);
      assert.deepEqual(
        r.emulated,
        r.native.map((x) => x === 0),
        `memorySize ${memorySize}: ${JSON.stringify(r.native)}`,
      );
      assert.ok(r.native.every((x) => x === 0 || x === -1));
      assert.deepEqual(r.bytes, r.nativeBytes, `memorySize ${memorySize}: same bytes`);
    }
  });

  test("the buffer copied into a native queue reads back equal", () => {
    using q = new SendQueue(2000);
    for (let i = 0; i < 10; i++) {
      q.queue({ seconds: 1700000000 + i, microseconds: i }, data(i, 64 + i));
    }
    const nq = new NativeSendQueue(q.length);
    try {
      nq.load(q.bytes());
      assert.equal(nq.length, q.length);
      assert.deepEqual(nq.bytes(), q.bytes());
    } finally {
      nq.destroy();
      nq.destroy();
    }
  });

  test("transmit on a dead handle: pcap_sendqueue_transmit's own error, 0 bytes", () => {
    using dead = openDead(1);
    using q = new SendQueue(1000);
    assert.equal(q.transmit(dead), 0, "the empty queue sends 0 without calling the library");
    assert.equal(q.lastError, null);
    q.queue({ seconds: 1 }, data(0, 60));
    q.queue({ seconds: 2 }, data(1, 60));
    assert.equal(q.transmit(dead, { sync: true }), 0);
    const error = q.lastError as PcapError | null;
    assert.ok(error instanceof PcapError);
    assert.match(error.message, /^pcap_sendqueue_transmit: .*pcap_open_dead/);
    console.log(`library error: ${error.message}`);
  });

  test("statistics: pcap_setmode is there (MODE_STAT); a device that is not there is a PcapError", () => {
    assert.equal(statisticsModeAvailable(), true);
    assert.throws(
      () => openStatistics("\\Device\\NPF_{00000000-0000-0000-0000-000000000000}"),
      (e: unknown) => e instanceof PcapError,
    );
  });
});
