// Flow table and TCP reassembly on synthetic packets (built with the builders).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildPacket, ethernet, ipv4, ipv6, tcp, udp } from "../src/build/mod.ts";
import { decode, LinkType, type Packet } from "../src/decode/mod.ts";
import {
  type ExpireReasonValue,
  type Flow,
  FlowTable,
  TcpReassembler,
  TcpState,
} from "../src/flow/mod.ts";

const C = { ip: "10.0.0.1", port: 40000 }, S = { ip: "10.0.0.2", port: 80 };
const eth = (): ReturnType<typeof ethernet> =>
  ethernet({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02" });

/** A TCP segment from the client (dir 0) or server (dir 1). */
function seg(dir: 0 | 1, flags: string, seq: number, ack: number, data = ""): Packet {
  const [a, b] = dir === 0 ? [C, S] : [S, C];
  return decode(
    LinkType.EN10MB,
    buildPacket([
      eth(),
      ipv4({ src: a.ip, dst: b.ip }),
      tcp({ srcPort: a.port, dstPort: b.port, seq, ack, flags }),
      data,
    ]),
  );
}
function udpPkt(src: string, sp: number, dst: string, dp: number, data = "x"): Packet {
  return decode(
    LinkType.EN10MB,
    buildPacket([eth(), ipv4({ src, dst }), udp({ srcPort: sp, dstPort: dp }), data]),
  );
}

describe("FlowTable", () => {
  test("bidirectional counters, first/last seen, TCP state", () => {
    const t = new FlowTable();
    const steps: [Packet, string][] = [
      [seg(0, "S", 100, 0), TcpState.SynSent],
      [seg(1, "SA", 500, 101), TcpState.SynReceived],
      [seg(0, "A", 101, 501), TcpState.Established],
      [seg(0, "PA", 101, 501, "hello"), TcpState.Established],
      [seg(1, "FA", 501, 106), TcpState.FinWait],
      [seg(0, "FA", 106, 502), TcpState.Closed],
    ];
    let i = 0;
    for (const [p, st] of steps) {
      const u = t.update(p, 10 + i++)!;
      assert.equal(u.flow.tcpState, st);
    }
    assert.equal(t.size, 1);
    const f = [...t.flows()][0];
    assert.deepEqual([f.clientAddress, f.clientPort, f.serverAddress, f.serverPort], [
      C.ip,
      C.port,
      S.ip,
      S.port,
    ]);
    assert.deepEqual(f.packets, [4, 2]);
    assert.equal(
      f.bytes[0],
      steps.filter((_, k) => k !== 1 && k !== 4).reduce((a, [p]) => a + p.length, 0),
    );
    assert.deepEqual([f.firstSeen, f.lastSeen], [10, 15]);
    assert.equal(f.toString(), "TCP 10.0.0.1:40000 <-> 10.0.0.2:80 closed 4/2 pkts");
    // a SYN on the closed flow starts a new one
    const u = t.update(seg(0, "S", 9000, 0), 20)!;
    assert.equal(u.created, true);
    assert.equal(u.flow.tcpState, TcpState.SynSent);
  });

  test("SYN+ACK seen first makes its destination the client; RST resets", () => {
    const t = new FlowTable();
    const u = t.update(seg(1, "SA", 500, 101), 1)!;
    assert.equal(u.flow.clientAddress, C.ip);
    assert.equal(u.direction, 1);
    assert.equal(t.update(seg(0, "R", 101, 0), 2)!.flow.tcpState, TcpState.Reset);
  });

  test("idle expiry and eviction of the least recently seen flow", () => {
    const expired: [string, ExpireReasonValue][] = [];
    const t = new FlowTable({
      maxFlows: 3,
      idleTimeout: 10,
      onExpire: (f: Flow, r) => expired.push([f.key, r]),
    });
    t.update(udpPkt("1.1.1.1", 1, "2.2.2.2", 2), 0);
    t.update(udpPkt("1.1.1.1", 3, "2.2.2.2", 4), 1);
    t.update(udpPkt("1.1.1.1", 5, "2.2.2.2", 6), 2);
    t.update(udpPkt("2.2.2.2", 2, "1.1.1.1", 1), 3); // reverse direction refreshes flow 1
    t.update(udpPkt("1.1.1.1", 7, "2.2.2.2", 8), 4); // table full: evicts flow 2 (least recent)
    assert.deepEqual(expired, [["17 1.1.1.1 3 2.2.2.2 4", "evicted"]]);
    assert.equal(t.size, 3);
    const f1 = t.get("17 1.1.1.1 1 2.2.2.2 2")!;
    assert.deepEqual(f1.packets, [1, 1]);
    assert.equal(t.expire(12.5), 1); // flow 3 (last seen 2) is idle
    assert.equal(t.expire(100), 2);
    assert.equal(t.size, 0);
    assert.deepEqual(expired.map((e) => e[1]), ["evicted", "idle", "idle", "idle"]);
    assert.throws(() => new FlowTable({ maxFlows: 0 }), RangeError);
  });

  test("IPv6 and non-IP packets", () => {
    const t = new FlowTable();
    const p = decode(
      LinkType.EN10MB,
      buildPacket([
        eth(),
        ipv6({ src: "2001:db8::1", dst: "2001:db8::2" }),
        udp({ srcPort: 5, dstPort: 6 }),
        "x",
      ]),
    );
    assert.equal(t.update(p, 0)!.flow.key, "17 2001:db8::1 5 2001:db8::2 6");
    assert.equal(t.update(decode(LinkType.EN10MB, new Uint8Array(20)), 0), null);
  });
});

function collect(r: TcpReassembler): { data: [string, string]; closed: string[] } {
  const out = { data: ["", ""] as [string, string], closed: [] as string[] };
  const dec = new TextDecoder();
  // deno-lint-ignore no-explicit-any
  (r as any).opts.onData = (
    _c: unknown,
    dir: 0 | 1,
    b: Uint8Array,
  ) => (out.data[dir] += dec.decode(b));
  // deno-lint-ignore no-explicit-any
  (r as any).opts.onClose = (_c: unknown, why: string) => out.closed.push(why);
  return out;
}

describe("TcpReassembler", () => {
  test("in order, out of order, overlap, retransmission, FIN", () => {
    const r = new TcpReassembler();
    const got = collect(r);
    r.push(seg(0, "S", 1000, 0));
    r.push(seg(1, "SA", 5000, 1001));
    r.push(seg(0, "A", 1001, 5001));
    r.push(seg(0, "PA", 1001, 5001, "Hello"));
    r.push(seg(0, "PA", 1012, 5001, "world")); // out of order (gap 1006..1012)
    r.push(seg(0, "PA", 1001, 5001, "Hello")); // retransmission
    r.push(seg(0, "PA", 1004, 5001, "lo, XX")); // overlap: "lo" old, ", " new... then "XX" overlaps held "wo"
    assert.equal(got.data[0], "Hello, XX"); // 1001..1009 delivered
    r.push(seg(0, "PA", 1010, 5001, "  wor")); // fills 1010..1011, rest overlaps held segment
    assert.equal(got.data[0], "Hello, XX  world");
    r.push(seg(1, "PA", 5001, 1017, "reply"));
    r.push(seg(0, "FA", 1017, 5006));
    r.push(seg(1, "FA", 5006, 1018));
    assert.deepEqual(got.data, ["Hello, XX  world", "reply"]);
    assert.deepEqual(got.closed, ["fin"]);
    r.push(seg(0, "PA", 1018, 5007, "late")); // after close: ignored
    assert.equal(got.data[0], "Hello, XX  world");
  });

  test("data beyond FIN is cut, RST ends both directions, sequence wrap", () => {
    const r = new TcpReassembler();
    const got = collect(r);
    r.push(seg(0, "S", 0xfffffffd, 0));
    r.push(seg(0, "PA", 0xfffffffe, 0, "abcd")); // wraps past 2^32
    r.push(seg(0, "PA", 2, 0, "ef"));
    r.push(seg(1, "R", 0, 0));
    r.push(seg(0, "PA", 4, 0, "gh"));
    assert.deepEqual(got.data, ["abcdef", ""]);
    assert.deepEqual(got.closed, ["reset"]);
  });

  test("mid-stream pickup and gap delivered at close", () => {
    const r = new TcpReassembler();
    const got = collect(r);
    r.push(seg(0, "PA", 7000, 1, "abc"));
    r.push(seg(0, "PA", 7010, 1, "xyz")); // gap never filled
    assert.equal(got.data[0], "abc");
    r.close();
    assert.equal(got.data[0], "abcxyz");
    assert.deepEqual(got.closed, ["flushed"]);
  });

  test("peer ACK past a gap gives up on it (bytes missing in capture)", () => {
    const r = new TcpReassembler();
    const got = collect(r);
    r.push(seg(0, "PA", 100, 1, "aa"));
    r.push(seg(0, "PA", 110, 1, "bb"));
    assert.equal(got.data[0], "aa");
    r.push(seg(1, "A", 1, 112));
    assert.equal(got.data[0], "aabb");
  });

  test("async iterables of chunks (follow TCP stream)", async () => {
    const r = new TcpReassembler();
    const conns = r.connections();
    const reading = (async () => {
      const out: string[] = [];
      for await (const c of conns) {
        const dec = new TextDecoder();
        const [a, b] = await Promise.all([
          (async () => {
            let s = "";
            for await (const ch of c.clientData) s += dec.decode(ch);
            return s;
          })(),
          (async () => {
            let s = "";
            for await (const ch of c.serverData) s += dec.decode(ch);
            return s;
          })(),
        ]);
        out.push(`${c.flow.clientPort}: ${a} | ${b}`);
      }
      return out;
    })();
    r.push(seg(0, "S", 1, 0));
    r.push(seg(1, "SA", 1, 2));
    r.push(seg(0, "PA", 2, 2, "GET /"));
    r.push(seg(1, "PA", 2, 7, "200 OK"));
    r.push(seg(0, "FA", 7, 8));
    r.push(seg(1, "FA", 8, 8));
    r.close();
    assert.deepEqual(await reading, ["40000: GET / | 200 OK"]);
    let conn: { stream(d: 0 | 1): unknown } | null = null;
    const sync = new TcpReassembler({ onOpen: (c) => (conn = c) });
    sync.push(seg(0, "S", 1, 0));
    assert.throws(() => conn!.stream(0), TypeError); // async streams are off by default
  });

  test("memory bound: held bytes are capped", () => {
    const r = new TcpReassembler({ maxBufferedBytes: 10 });
    const got = collect(r);
    r.push(seg(0, "PA", 100, 1, "a"));
    r.push(seg(0, "PA", 110, 1, "bbbbbb"));
    r.push(seg(0, "PA", 120, 1, "cccccc")); // 12 bytes held > 10: skip the first gap
    assert.equal(got.data[0], "abbbbbb");
    assert.deepEqual(r.size, 1);
    r.close();
    assert.equal(got.data[0], "abbbbbbcccccc");
  });
});
