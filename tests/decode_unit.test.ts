// Decoder unit tests: laziness and reuse, malformed-input marking, DNS name compression with loop
// protection, address helpers, and one-line summaries against tcpdump.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { corpusDir, haveCorpus } from "./_helpers.ts";
import { readCapture } from "./_pcap_read.ts";
import { captureLoopback } from "./_loopback_capture.ts";
import { buildPacket, dnsQuery, ethernet, ipv4, ipv6, tcp, udp } from "../src/build/mod.ts";
import {
  decode,
  decodeRecord,
  formatIPv4,
  formatIPv6,
  formatMac,
  LinkType,
  Packet,
  PacketDecoder,
  parseIPv4,
  parseIPv6,
  parseMac,
} from "../src/decode/mod.ts";

const eth = (): ReturnType<typeof ethernet> =>
  ethernet({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02" });
const udpFrame = buildPacket([
  eth(),
  ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
  udp({ srcPort: 5353, dstPort: 53 }),
  dnsQuery({ id: 1, name: "a.example" }),
]);

function dnsPacket(msg: number[]): ReturnType<typeof decode> {
  return decode(
    LinkType.EN10MB,
    buildPacket([
      eth(),
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
      udp({ srcPort: 53, dstPort: 1000 }),
      new Uint8Array(msg),
    ]),
  );
}

describe("decoder", () => {
  test("summary like tcpdump's one-liner", () => {
    assert.equal(
      decode(LinkType.EN10MB, udpFrame).summary(),
      "IP 10.0.0.1.5353 > 10.0.0.2.53: UDP, length 27",
    );
    const syn = buildPacket([
      eth(),
      ipv6({ src: "::1", dst: "::2" }),
      tcp({ srcPort: 1, dstPort: 2, seq: 5, flags: "S", mss: 1400 }),
    ]);
    assert.equal(
      decode(LinkType.EN10MB, syn).summary(),
      "IP6 ::1.1 > ::2.2: Flags [S], seq 5, win 65535, options [mss 1400], length 0",
    );
  });

  test("PacketDecoder reuses one packet and its layer views", () => {
    const dec = new PacketDecoder();
    const p1 = dec.decode(LinkType.EN10MB, udpFrame);
    const ip1 = p1.ipv4;
    const other = buildPacket([
      eth(),
      ipv4({ src: "192.0.2.9", dst: "192.0.2.10" }),
      udp({ srcPort: 9, dstPort: 10 }),
    ]);
    const p2 = dec.decode(LinkType.EN10MB, other);
    assert.equal(p1, p2);
    assert.equal(p2.ipv4, ip1);
    assert.equal(p2.ipv4!.srcString, "192.0.2.9");
    assert.equal(p2.dns, null);
    // decoding a sub-range of a bigger buffer
    const big = new Uint8Array(other.length + 10);
    big.set(other, 7);
    const p3 = dec.decode(LinkType.EN10MB, big, 7, other.length);
    assert.equal(p3.udp!.dstPort, 10);
    assert.equal(p3.udp!.checksumValid, true);
  });

  test("decode with an offset and decodeRecord decode in place", () => {
    const dec = new PacketDecoder();
    const frames = [
      udpFrame,
      buildPacket([
        eth(),
        ipv4({ src: "192.168.1.2", dst: "203.0.113.7" }),
        tcp({ srcPort: 40000, dstPort: 443, seq: 0xfffffff0, ack: 7, flags: "SA" }),
        new Uint8Array(5),
      ]),
    ];
    // a buffer holding several packets (as a savefile chunk does)
    const buf = new Uint8Array(8192);
    const at: number[] = [];
    let o = 3;
    for (const f of frames) {
      buf.set(f, o);
      at.push(o);
      o += f.length + 5;
    }
    const fields = (p: Packet): unknown[] => [
      p.ethernet!.src,
      p.ethernet!.dst,
      p.ethernet!.etherType,
      p.ipv4!.src,
      p.ipv4!.dst,
      p.tcp?.srcPort,
      p.tcp?.dstPort,
      p.tcp?.seq,
      p.tcp?.ack,
      p.tcp?.flags,
      p.udp?.srcPort,
      p.udp?.dstPort,
      p.summary(),
    ];
    frames.forEach((f, i) => {
      const want = fields(decode(LinkType.EN10MB, f));
      assert.deepEqual(fields(dec.decode(LinkType.EN10MB, buf, at[i], f.length)), want);
      // a savefile-like record: read from bytes/dataOffset/caplen, data never touched
      const rec = {
        linkType: LinkType.EN10MB,
        bytes: buf,
        dataOffset: at[i],
        caplen: f.length,
        get data(): Uint8Array {
          throw new Error("data must not be read");
        },
      };
      const p = dec.decodeRecord(rec);
      assert.deepEqual(fields(p), want);
      assert.equal(p.data, buf);
      assert.equal(p.offset, at[i]);
      assert.deepEqual(fields(decodeRecord(rec)), want);
      // a record with only data
      assert.deepEqual(fields(dec.decodeRecord({ linkType: LinkType.EN10MB, data: f })), want);
      assert.deepEqual(fields(decodeRecord({ linkType: LinkType.EN10MB, data: f })), want);
    });
    // a reused decoder moving between a shared buffer and a single-packet one
    assert.equal(dec.decode(LinkType.EN10MB, buf, at[1], frames[1].length).tcp!.dstPort, 443);
    assert.equal(dec.decode(LinkType.EN10MB, frames[0]).udp!.dstPort, 53);
    buf[at[1] + 14 + 20 + 3] = 80; // the shared buffer changed: fields are read afresh
    assert.equal(dec.decode(LinkType.EN10MB, buf, at[1], frames[1].length).tcp!.dstPort, 0x150);
  });

  test("layers are found lazily and fields read on demand", () => {
    const p = decode(LinkType.EN10MB, udpFrame);
    assert.equal(p.layerCount, 4);
    assert.deepEqual(p.layers.map((l) => l.type), ["Ethernet", "IPv4", "UDP", "DNS"]);
    assert.equal(p.layer("UDP"), p.udp);
    assert.equal(p.layer("IPv4", 1), null);
    assert.equal(p.network, p.ipv4);
    assert.equal(p.transport, p.udp);
    assert.equal(p.udp!.ip, p.ipv4);
    assert.equal(p.ipv4!.src, parseIPv4("10.0.0.1"));
  });

  test("truncated and bogus layers are marked, never thrown", () => {
    const cut = decode(LinkType.EN10MB, udpFrame.subarray(0, 30));
    assert.equal(cut.truncated, true);
    const ip = cut.ipv4!;
    assert.equal(ip.truncated, true);
    assert.equal(ip.srcString, "10.0.0.1");
    assert.equal(ip.dst, 0); // bytes beyond the capture read as zero
    assert.equal(ip.checksumValid, null);
    assert.equal(cut.udp, null);
    const bad = udpFrame.slice();
    bad[14] = 0x43; // IHL 3
    const b = decode(LinkType.EN10MB, bad);
    assert.equal(b.ipv4!.error, "bad header length");
    assert.equal(b.error, "IPv4: bad header length");
    assert.equal(b.udp, null);
    const badSum = udpFrame.slice();
    badSum[24] ^= 0xff;
    assert.equal(decode(LinkType.EN10MB, badSum).ipv4!.checksumValid, false);
    assert.equal(decode(9999, udpFrame).layerCount, 0);
    assert.equal(decode(LinkType.EN10MB, new Uint8Array(0)).ethernet!.truncated, true);
  });

  test("DNS: compressed names, pointer loops, bogus records", () => {
    const hdr = [0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    const q = [3, 0x77, 0x77, 0x77, 1, 0x78, 0, 0, 1, 0, 1]; // www.x A IN
    const ans = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 0x66, 0x6f, 0x6f, 0xc0, 16]; // CNAME foo.x
    const ok = dnsPacket([...hdr, ...q, ...ans]).dns!;
    assert.deepEqual(ok.questions, [{ name: "www.x", type: 1, class: 1 }]);
    assert.equal(ok.answers[0].name, "www.x");
    assert.equal(ok.answers[0].value, "foo.x");
    assert.equal(ok.sectionError, null);
    // a name pointing at itself
    const loop = dnsPacket([...hdr.slice(0, 7), 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]).dns!;
    assert.deepEqual(loop.questions, []);
    assert.equal(loop.sectionError, "bad name");
    // two names pointing at each other
    const loop2 = dnsPacket([...hdr.slice(0, 7), 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1])
      .dns!;
    assert.equal(loop2.sectionError, "bad name");
    // record data running past the end
    const cut = dnsPacket([...hdr, ...q, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 40, 1, 2]).dns!;
    assert.equal(cut.questions.length, 1);
    assert.equal(cut.sectionError, "truncated");
    assert.equal(dnsPacket([0, 1, 2]).dns!.truncated, true);
  });

  test("the Ethernet/IPv4/TCP-UDP fast path gives the same views as the general walk", {
    timeout: 120_000,
  }, () => {
    const snap = (p: Packet): string => {
      const out: unknown[] = [p.layerCount, p.truncated, p.error, p.summary()];
      for (const l of p.layers) {
        const rec: Record<string, unknown> = {};
        for (
          let pr = Object.getPrototypeOf(l);
          pr && pr !== Object.prototype;
          pr = Object.getPrototypeOf(pr)
        ) {
          for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(pr))) {
            if (!d.get || k === "sections") continue;
            const v = (l as unknown as Record<string, unknown>)[k];
            rec[k] = v instanceof Uint8Array ? Array.from(v).join(",") : v;
          }
        }
        for (
          const k of ["offset", "end", "headerLength", "truncated", "error", "wireEnd", "fragment"]
        ) {
          rec[k] = (l as unknown as Record<string, unknown>)[k];
        }
        out.push(l.type, rec);
      }
      return JSON.stringify(out);
    };
    const pk: { linkType: number; data: Uint8Array }[] = [];
    if (haveCorpus) {
      for (
        const f of [
          "tcpdump/mptcp-v0.pcap",
          "tcpdump/of13_ericsson.pcapng",
          "tcpdump/vrrp.pcap",
          "tcpdump/dhcp-rfc4388.pcap",
          "tcpdump/babel_update_oobr.pcap",
          "tcpdump/ntp.pcap",
        ]
      ) {
        pk.push(...readCapture(join(corpusDir, f)));
      }
    }
    pk.push({ linkType: 1, data: udpFrame });
    const dec = new PacketDecoder();
    let fast = 0;
    for (const p of pk) {
      for (const len of [p.data.length, Math.max(0, p.data.length - 3), 60, 54, 53]) {
        if (len > p.data.length) continue;
        try {
          Packet.fastPath = false;
          const slow = snap(decode(p.linkType, p.data, 0, len));
          Packet.fastPath = true;
          assert.equal(snap(decode(p.linkType, p.data, 0, len)), slow);
          assert.equal(snap(dec.decode(p.linkType, p.data, 0, len)), slow);
          // inside a buffer that holds more than the packet, the layers read through a DataView
          const big = new Uint8Array(2 * len + 2048).fill(0xee);
          big.set(p.data.subarray(0, len));
          assert.equal(snap(dec.decode(p.linkType, big, 0, len)), slow);
          fast++;
        } finally {
          Packet.fastPath = true;
        }
      }
    }
    assert.ok(fast > 100);
  });

  test("address helpers", () => {
    assert.equal(formatMac(parseMac("0a:1b:2c:3d:4e:5f")), "0a:1b:2c:3d:4e:5f");
    assert.equal(formatIPv4(parseIPv4("255.1.0.9")), "255.1.0.9");
    for (
      const a of [
        "::",
        "::1",
        "2001:db8::1",
        "fe80::1:2:3:4",
        "1:0:0:1::1",
        "1::1:0:0:1",
        "::ffff:1.2.3.4",
        "1:2:3:4:5:6:7:8",
        "2001:db8:0:1::",
      ]
    ) {
      assert.equal(formatIPv6(parseIPv6(a)), a);
    }
    assert.throws(() => parseIPv6("1::2::3"), TypeError);
    assert.throws(() => parseIPv4("256.0.0.1"), TypeError);
  });

  test("UDP and ICMP summaries equal tcpdump -q -nn", { timeout: 120_000 }, async () => {
    const files = (await captureLoopback()).slice(0, 1);
    if (haveCorpus) {
      files.push(
        join(corpusDir, "tcpdump/dns_udp.pcap"),
        join(corpusDir, "libpcap/gateway_or_not.pcap"),
      );
    }
    let compared = 0;
    for (const f of files) {
      let lines: string[];
      try {
        lines = execFileSync("tcpdump", ["-q", "-nn", "-t", "-r", f], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        }).split("\n");
      } catch {
        return; // no tcpdump
      }
      const pk = readCapture(f);
      for (let i = 0; i < pk.length; i++) {
        const p = decode(pk[i].linkType, pk[i].data);
        const t = p.transport;
        if (t === null || t.truncated || p.layerAt(1) !== t.ip) continue;
        if (t.type === "UDP" || (t.type === "ICMPv4" && (t.icmpType === 0 || t.icmpType === 8))) {
          assert.equal(p.summary(), lines[i], `${f} #${i + 1}`);
          compared++;
        }
      }
    }
    assert.ok(compared >= 10, `compared ${compared}`);
  });
});
