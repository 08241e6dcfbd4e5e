// Builders: tshark decodes each built packet as intended, with correct checksums; and the
// builder -> decoder round trip gives back what was put in.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, runtime } from "./_helpers.ts";
import { writePcap } from "./_pcap_read.ts";
import { haveTshark, tsharkFields } from "./_tshark.ts";
import { compareCapture, newStats } from "./_decode_fields.ts";
import {
  arp,
  buildPacket,
  dnsQuery,
  encodeDnsQuery,
  ethernet,
  icmpEcho,
  icmpv6,
  icmpv6Echo,
  ipv4,
  ipv6,
  payload,
  tcp,
  udp,
  vlan,
  vxlan,
} from "../src/build/mod.ts";
import { decode, LinkType } from "../src/decode/mod.ts";

const A = "02:00:00:00:00:01", B = "02:00:00:00:00:02";
const eth = (): ReturnType<typeof ethernet> => ethernet({ src: A, dst: B });

interface Case {
  name: string;
  bytes: Uint8Array;
  /** protocols tshark must show, in order (a subsequence of frame.protocols) */
  protocols: string[];
}

const nsBody = (target: string, mac: number[]): Uint8Array => {
  // NS: 4 reserved bytes are the `rest` word; then the target and a source link-layer option
  const t = new Uint8Array(24);
  const parts = target.split(":");
  t.set([
    0xfe,
    0x80,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    Number("0x" + parts[parts.length - 1]),
  ]);
  t.set([1, 1, ...mac], 16);
  return t;
};

const cases: Case[] = [
  {
    name: "UDP over IPv4",
    bytes: buildPacket([
      eth(),
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2", id: 0x1234 }),
      udp({ srcPort: 40001, dstPort: 9999 }),
      "hello",
    ]),
    protocols: ["eth", "ip", "udp"],
  },
  {
    name: "UDP odd length, IPv4 options",
    bytes: buildPacket([
      eth(),
      ipv4({
        src: "192.0.2.1",
        dst: "192.0.2.200",
        ttl: 3,
        tos: 0xb8,
        options: new Uint8Array([0x94, 0x04, 0, 0]),
      }),
      udp({ srcPort: 1, dstPort: 65535 }),
      new Uint8Array([1, 2, 3]),
    ]),
    protocols: ["eth", "ip", "udp"],
  },
  {
    name: "DNS query",
    bytes: buildPacket([
      eth(),
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
      udp({ srcPort: 5353, dstPort: 53 }),
      dnsQuery({ id: 0xbeef, name: "www.example.com", type: "AAAA" }),
    ]),
    protocols: ["eth", "ip", "udp", "dns"],
  },
  {
    name: "TCP SYN with options",
    bytes: buildPacket([
      eth(),
      ipv4({ src: "10.1.1.1", dst: "10.2.2.2" }),
      tcp({
        srcPort: 40000,
        dstPort: 80,
        seq: 0xfffffff0,
        flags: "S",
        mss: 1460,
        sackPermitted: true,
        timestamps: [123456, 0],
        windowScale: 7,
      }),
    ]),
    protocols: ["eth", "ip", "tcp"],
  },
  {
    name: "TCP data with SACK over VLAN",
    bytes: buildPacket([
      eth(),
      vlan({ id: 42, priority: 5 }),
      ipv4({ src: "10.1.1.1", dst: "10.2.2.2" }),
      tcp({
        srcPort: 40000,
        dstPort: 8080,
        seq: 1000,
        ack: 2000,
        flags: "PA",
        window: 512,
        sack: [[3000, 4000], [5000, 6000]],
        timestamps: [1, 2],
      }),
      "GET / HTTP/1.0\r\n\r\n",
    ]),
    protocols: ["eth", "vlan", "ip", "tcp"],
  },
  {
    name: "QinQ ARP request",
    bytes: buildPacket([
      eth(),
      vlan({ id: 100, tpid: 0x88a8 }),
      vlan({ id: 200 }),
      arp({ senderMac: A, senderIp: "10.0.0.1", targetIp: "10.0.0.2" }),
    ]),
    protocols: ["eth", "ieee8021ad", "vlan", "arp"],
  },
  {
    name: "ARP reply",
    bytes: buildPacket([
      ethernet({ src: B, dst: A }),
      arp({ operation: 2, senderMac: B, senderIp: "10.0.0.2", targetMac: A, targetIp: "10.0.0.1" }),
    ]),
    protocols: ["eth", "arp"],
  },
  {
    name: "ICMP echo request",
    bytes: buildPacket([
      eth(),
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
      icmpEcho({ id: 7, seq: 1 }),
      "abcdefghijklmnop",
    ]),
    protocols: ["eth", "ip", "icmp"],
  },
  {
    name: "ICMP echo reply, odd payload",
    bytes: buildPacket([
      eth(),
      ipv4({ src: "10.0.0.2", dst: "10.0.0.1" }),
      icmpEcho({ reply: true, id: 7, seq: 1 }),
      "abc",
    ]),
    protocols: ["eth", "ip", "icmp"],
  },
  {
    name: "ICMPv6 echo",
    bytes: buildPacket([
      eth(),
      ipv6({ src: "2001:db8::1", dst: "2001:db8::2", flowLabel: 0x12345, trafficClass: 0x20 }),
      icmpv6Echo({ id: 0x99, seq: 3 }),
      "ping6",
    ]),
    protocols: ["eth", "ipv6", "icmpv6"],
  },
  {
    name: "ICMPv6 neighbour solicitation",
    bytes: buildPacket([
      eth(),
      ipv6({ src: "fe80::1", dst: "ff02::1:ff00:2", hopLimit: 255 }),
      icmpv6({ type: 135 }),
      nsBody("fe80::2", [2, 0, 0, 0, 0, 1]),
    ]),
    protocols: ["eth", "ipv6", "icmpv6"],
  },
  {
    name: "UDP over IPv6",
    bytes: buildPacket([
      eth(),
      ipv6({ src: "::1", dst: "::1" }),
      udp({ srcPort: 1234, dstPort: 4321 }),
      "x",
    ]),
    protocols: ["eth", "ipv6", "udp"],
  },
  {
    name: "TCP over IPv6",
    bytes: buildPacket([
      eth(),
      ipv6({ src: "2001:db8::a", dst: "2001:db8::b" }),
      tcp({ srcPort: 22, dstPort: 50000, seq: 5, ack: 6, flags: "A" }),
      "ssh",
    ]),
    protocols: ["eth", "ipv6", "tcp"],
  },
  {
    name: "VXLAN tunnel",
    bytes: buildPacket([
      eth(),
      ipv4({ src: "172.16.0.1", dst: "172.16.0.2" }),
      udp({ srcPort: 40000, dstPort: 4789 }),
      vxlan({ vni: 5001 }),
      ethernet({ src: "02:00:00:00:00:0a", dst: "02:00:00:00:00:0b" }),
      ipv4({ src: "192.168.1.1", dst: "192.168.1.2" }),
      udp({ srcPort: 7, dstPort: 7 }),
      "inner",
    ]),
    protocols: ["eth", "ip", "udp", "vxlan", "eth", "ip", "udp"],
  },
];

describe("builders", () => {
  test("round trip: decoded fields equal the builder inputs", () => {
    const p = decode(LinkType.EN10MB, cases[4].bytes);
    assert.equal(p.ethernet!.srcString, A);
    assert.equal(p.dot1q!.vlanId, 42);
    assert.equal(p.dot1q!.priority, 5);
    assert.equal(p.ipv4!.srcString, "10.1.1.1");
    assert.equal(p.ipv4!.checksumValid, true);
    const t = p.tcp!;
    assert.deepEqual([t.srcPort, t.dstPort, t.seq, t.ack, t.flagsString, t.window], [
      40000,
      8080,
      1000,
      2000,
      "P.",
      512,
    ]);
    assert.deepEqual([
      t.sackBlockCount,
      t.sackLeft(0),
      t.sackRight(0),
      t.sackLeft(1),
      t.sackRight(1),
    ], [2, 3000, 4000, 5000, 6000]);
    assert.deepEqual([t.tsVal, t.tsEcr], [1, 2]);
    assert.equal(t.checksumValid, true);
    assert.equal(new TextDecoder().decode(p.payload!.payload), "GET / HTTP/1.0\r\n\r\n");

    const syn = decode(LinkType.EN10MB, cases[3].bytes).tcp!;
    assert.deepEqual([syn.mss, syn.windowScale, syn.sackPermitted, syn.tsVal, syn.seq, syn.flags], [
      1460,
      7,
      true,
      123456,
      0xfffffff0,
      2,
    ]);

    const d = decode(LinkType.EN10MB, cases[2].bytes);
    assert.equal(d.udp!.checksumValid, true);
    assert.equal(d.dns!.id, 0xbeef);
    assert.deepEqual(d.dns!.questions, [{ name: "www.example.com", type: 28, class: 1 }]);

    const q = decode(LinkType.EN10MB, cases[5].bytes);
    assert.deepEqual(q.layers.map((l) => l.type), ["Ethernet", "Dot1Q", "Dot1Q", "ARP"]);
    assert.equal(q.arp!.targetProtocolString, "10.0.0.2");
    assert.equal(q.summary(), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28");

    const e = decode(LinkType.EN10MB, cases[7].bytes);
    assert.deepEqual([
      e.icmpv4!.icmpType,
      e.icmpv4!.identifier,
      e.icmpv4!.sequence,
      e.icmpv4!.checksumValid,
    ], [8, 7, 1, true]);
    assert.equal(e.summary(), "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 24");

    const v6 = decode(LinkType.EN10MB, cases[9].bytes).ipv6!;
    assert.deepEqual([v6.srcString, v6.dstString, v6.flowLabel, v6.trafficClass], [
      "2001:db8::1",
      "2001:db8::2",
      0x12345,
      0x20,
    ]);
    assert.equal(decode(LinkType.EN10MB, cases[9].bytes).icmpv6!.checksumValid, true);

    const ns = decode(LinkType.EN10MB, cases[10].bytes).icmpv6!;
    assert.deepEqual(
      [ns.icmpType, ns.targetAddressString, ns.sourceLinkAddress, ns.checksumValid],
      [135, "fe80::2", 0x020000000001, true],
    );

    const vx = decode(LinkType.EN10MB, cases[13].bytes);
    assert.deepEqual(vx.layers.map((l) => l.type), [
      "Ethernet",
      "IPv4",
      "UDP",
      "VXLAN",
      "Ethernet",
      "IPv4",
      "UDP",
      "Payload",
    ]);
    assert.equal(vx.vxlan!.vni, 5001);
    assert.equal(vx.layer("IPv4", 1)!.toString().startsWith("IP 192.168.1.1 > 192.168.1.2"), true);
    assert.equal(
      decode(LinkType.EN10MB, cases[0].bytes).summary(),
      "IP 10.0.0.1.40001 > 10.0.0.2.9999: UDP, length 5",
    );
  });

  test("every built packet round-trips with valid checksums", () => {
    for (const c of cases) {
      const p = decode(LinkType.EN10MB, c.bytes);
      assert.equal(p.truncated, false, c.name);
      assert.equal(p.error, null, c.name);
      for (const l of p.layers) {
        const v = (l as unknown as { checksumValid?: boolean | null }).checksumValid;
        if (v !== undefined) assert.equal(v, true, `${c.name}: ${l.type} checksum`);
      }
    }
  });

  test("argument errors", () => {
    assert.throws(() => ipv4({ src: "1.2.3", dst: "1.2.3.4" }), TypeError);
    assert.throws(() => ethernet({ src: "zz", dst: B }), TypeError);
    assert.throws(() => vlan({ id: 5000 }), RangeError);
    assert.throws(() => tcp({ srcPort: 1, dstPort: 2, flags: "X" }), TypeError);
    assert.throws(() => encodeDnsQuery({ name: "a".repeat(64) + ".com" }), RangeError);
    assert.equal(payload("").headerLength(), 0);
  });

  test(
    "tshark decodes the built packets as intended, checksums good",
    { skip: !haveTshark, timeout: 120_000 },
    async () => {
      mkdirSync(join(repoRoot, "tests", "out"), { recursive: true });
      const file = join(repoRoot, "tests", "out", `built-${runtime}.pcap`);
      writeFileSync(file, writePcap(LinkType.EN10MB, cases.map((c) => ({ data: c.bytes }))));
      const rows = await tsharkFields(file, [
        "frame.protocols",
        "ip.checksum.status",
        "tcp.checksum.status",
        "udp.checksum.status",
        "icmp.checksum.status",
        "icmpv6.checksum.status",
        "_ws.malformed",
        "_ws.expert.severity",
      ]);
      assert.equal(rows.length, cases.length);
      for (let i = 0; i < cases.length; i++) {
        const [protos, ...rest] = rows[i];
        const chain = (protos[0] ?? "").split(":").filter((x) => x !== "ethertype");
        let k = 0;
        for (const want of cases[i].protocols) {
          while (k < chain.length && chain[k] !== want) k++;
          assert.ok(
            k < chain.length,
            `${cases[i].name}: tshark protocols ${protos[0]} lack ${want}`,
          );
          k++;
        }
        for (let f = 0; f < 5; f++) {
          for (const v of rest[f]) {
            assert.equal(
              v,
              "1",
              `${cases[i].name}: checksum status ${v} (field ${f})`,
            );
          }
        }
        assert.deepEqual(rest[5], [], `${cases[i].name}: malformed`);
      }
      // and every field we decode equals tshark's, strictly
      const stats = newStats();
      const r = await compareCapture("built", file, [], stats, null, true);
      assert.deepEqual(r.problems, []);
      let compared = 0;
      for (const s of stats.byField.values()) compared += s.packets;
      assert.ok(compared > 200);
    },
  );
});
