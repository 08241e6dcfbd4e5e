// Windows (Wine) legs deno-builtin / bun-builtin: Wine's builtin wpcap.dll, which forwards to
// the host's libpcap and converts its device list to Windows form (\Device\NPF_{GUID} names,
// Windows sockaddrs with AF_INET6 = 23). listDevices() must show the host's own addresses:
// the caller (.ci/run) writes Linux `ip -j addr` to a file named by PCAP_EXPECTED_IP_ADDR.
// The builtin's stubs abort the process when called; the loader treats them as absent, so
// asking for one must be a PcapError instead.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  libraryInfo,
  listDevices,
  lookupNet,
  openDead,
  openOffline,
  PcapError,
} from "../../mod.ts";
import { hostAbi } from "../../ffi/layout.ts";

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

function expectedLinks(): IpLink[] {
  const file = process.env.PCAP_EXPECTED_IP_ADDR;
  assert.ok(file, "PCAP_EXPECTED_IP_ADDR must name a file holding Linux `ip -j addr` output");
  return JSON.parse(readFileSync(file, "utf8"));
}

const ipSet = (list: string[]): string[] => [...new Set(list)].sort();

describe("builtin wpcap.dll: the library", () => {
  test("the leg is what it claims: Wine's builtin (the host libpcap's version text)", () => {
    assert.equal(process.env.PCAP_WPCAP_FLAVOR, "builtin");
    assert.equal(process.platform, "win32");
    const info = libraryInfo();
    assert.match(info.version, /^libpcap version 1\.\d+\.\d+ \(with TPACKET_V3\)$/);
    assert.equal(info.flavor, "libpcap");
    assert.match(info.path, /\\System32\\Npcap\\wpcap\.dll$/i);
  });

  test("the stubs are treated as absent, so features say what works", () => {
    const { features, missing } = libraryInfo();
    assert.equal(features.openDead, false);
    assert.equal(features.sendQueue, false);
    assert.equal(features.statisticsMode, false);
    assert.equal(features.statsEx, false);
    assert.equal(features.selectableFd, false);
    assert.equal(features.memoryStreams, false);
    for (const f of ["pcap_open_dead", "pcap_open_offline", "pcap_inject", "pcap_dump_close"]) {
      assert.ok(missing.includes(f), `${f} is missing`);
    }
    assert.ok(!missing.includes("pcap_sendpacket"));
  });

  test("a stub is a NOT_SUPPORTED PcapError, not an abort of the process", () => {
    for (const call of [() => openDead(1), () => openOffline("Z:\\nothing.pcap")]) {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof PcapError, String(e));
        assert.equal(e.code, "NOT_SUPPORTED");
        assert.match(e.message, /^pcap_open_(dead|offline)\(\) is not available in libpcap/);
        return true;
      });
    }
  });
});

describe("builtin wpcap.dll: listDevices()", () => {
  test("every IPv4 and IPv6 address (with prefix length) of `ip -j addr`, and no other", () => {
    const links = expectedLinks();
    const theirs = ipSet(links.flatMap((l) =>
      l.addr_info
        .filter((a) => a.family === "inet" || a.family === "inet6")
        .map((a) => `${a.family === "inet" ? "ipv4" : "ipv6"} ${a.local}/${a.prefixlen}`)
    ));
    const ours = ipSet(
      listDevices().flatMap((d) =>
        d.addresses
          .filter((a) => a.family === "ipv4" || a.family === "ipv6")
          .map((a) => `${a.family} ${a.address}/${a.prefixLength}`)
      ),
    );
    assert.ok(theirs.length >= 2, `ip -j addr lists addresses: ${theirs}`);
    assert.deepEqual(ours, theirs);
  });

  test("Windows names and address families: \\Device\\NPF_{GUID}, AF_INET 2, AF_INET6 23", () => {
    const devices = listDevices();
    assert.ok(devices.length >= expectedLinks().filter((l) => l.addr_info.length > 0).length);
    let v4 = 0;
    let v6 = 0;
    for (const d of devices) {
      assert.match(d.name, /^\\Device\\NPF_\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}$/i);
      for (const a of d.addresses) {
        assert.ok(a.family === "ipv4" || a.family === "ipv6", `${d.name}: ${a.family}`);
        assert.equal(a.familyNumber, a.family === "ipv4" ? 2 : 23, `${d.name} ${a.address}`);
        if (a.family === "ipv4") {
          v4++;
          assert.equal(a.bytes.length, 4);
          assert.ok(a.netmask, `${a.address} has a netmask`);
        } else {
          v6++;
          assert.equal(a.bytes.length, 16);
        }
      }
    }
    assert.equal(hostAbi.af.inet6, 23);
    assert.ok(v4 >= 1 && v6 >= 1, `${v4} IPv4 and ${v6} IPv6 addresses`);
  });

  test("IPv6 link-local addresses carry a scope id; others do not", () => {
    for (const d of listDevices()) {
      for (const a of d.addresses.filter((x) => x.family === "ipv6")) {
        if (a.address.startsWith("fe80:")) assert.ok(a.scopeId > 0, `${a.address} scope`);
        else assert.equal(a.scopeId, 0, `${a.address} scope`);
      }
    }
  });

  test("the loopback device: 127.0.0.1/8 and ::1/128, flagged loopback and up", () => {
    const lo = listDevices().find((d) => d.addresses.some((a) => a.address === "127.0.0.1"));
    assert.ok(lo, "a device with 127.0.0.1");
    assert.equal(lo.flags.loopback, true);
    assert.equal(lo.flags.up, true);
    const addrs = lo.addresses.map((a) => `${a.address}/${a.prefixLength}`).sort();
    assert.ok(addrs.includes("127.0.0.1/8"), String(addrs));
    assert.ok(addrs.includes("::1/128"), String(addrs));
    const ipLo = expectedLinks().find((l) => l.flags.includes("LOOPBACK"))!;
    assert.deepEqual(
      addrs,
      ipLo.addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort(),
      "the same addresses as the host's loopback",
    );
  });

  test("lookupNet: the builtin hands the name to the host libpcap unchanged", () => {
    // Wine 8 does not map \Device\NPF_{...} back to the host name in pcap_lookupnet (Npcap
    // takes its own names), so the Windows name is libpcap's error and the host name works.
    // The description of a builtin device is the host's interface name.
    const lo = listDevices().find((d) => d.addresses.some((a) => a.address === "127.0.0.1"))!;
    assert.equal(lo.description, expectedLinks().find((l) => l.flags.includes("LOOPBACK"))!.ifname);
    const net = lookupNet(lo.description!);
    assert.equal(net.network, "127.0.0.0");
    assert.equal(net.netmask, "255.0.0.0");
    assert.equal(net.netmaskNumber, 0xff000000);
    assert.throws(() => lookupNet(lo.name), (e: unknown) => {
      assert.ok(e instanceof PcapError, String(e));
      assert.equal(e.code, "ERROR");
      assert.ok(e.message.includes(lo.name), e.message);
      return true;
    });
  });
});
