// listDevices() and lookupNet() against the kernel's own view (`ip -j addr`).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { type Device, libraryInfo, listDevices, lookupNet, PcapError } from "../mod.ts";

interface IpAddr {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  address?: string;
  scope: string;
}
interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  link_type: string;
  address?: string;
  broadcast?: string;
  addr_info: IpAddr[];
}

function ipAddr(): IpLink[] | null {
  try {
    return JSON.parse(execFileSync("ip", ["-j", "addr"], { encoding: "utf8" }));
  } catch {
    return null;
  }
}

const links = ipAddr();
const skip = process.platform !== "linux"
  ? "compares with Linux's `ip -j addr`"
  : links === null
  ? "`ip` (iproute2) is not installed"
  : false;

describe("listDevices", () => {
  test("lists lo with 127.0.0.1 and ::1", () => {
    const lo = listDevices().find((d) => d.flags.loopback);
    assert.ok(lo, "a loopback device");
    const addrs = lo.addresses.map((a) => a.address);
    assert.ok(addrs.includes("127.0.0.1"), `127.0.0.1 in ${addrs}`);
    if (process.platform === "linux") assert.ok(addrs.includes("::1"), `::1 in ${addrs}`);
  });

  test("every address of every device equals `ip -j addr`", { skip }, () => {
    const devices = new Map<string, Device>(listDevices().map((d) => [d.name, d]));
    let compared = 0;
    for (const link of links!) {
      const dev = devices.get(link.ifname);
      assert.ok(dev, `libpcap lists ${link.ifname}`);
      // Flags.
      assert.equal(dev.flags.loopback, link.flags.includes("LOOPBACK"), `${link.ifname} loopback`);
      assert.equal(dev.flags.up, link.flags.includes("UP"), `${link.ifname} up`);
      // IPv4 and IPv6: same set of address/prefix (and broadcast for IPv4).
      const ours = dev.addresses
        .filter((a) => a.family === "ipv4" || a.family === "ipv6")
        .map((a) =>
          `${a.family} ${a.address}/${a.prefixLength}` +
          (a.family === "ipv4" && a.broadcast ? ` brd ${a.broadcast}` : "") +
          (a.family === "ipv6" && a.scopeId ? ` scope ${a.scopeId}` : "")
        )
        .sort();
      const theirs = link.addr_info
        .filter((a) => a.family === "inet" || a.family === "inet6")
        .map((a) =>
          `${a.family === "inet" ? "ipv4" : "ipv6"} ${a.local}/${a.prefixlen}` +
          (a.family === "inet" && a.broadcast ? ` brd ${a.broadcast}` : "") +
          (a.family === "inet6" && a.scope === "link" ? ` scope ${link.ifindex}` : "")
        )
        .sort();
      assert.deepEqual(ours, theirs, `${link.ifname} IP addresses`);
      compared += ours.length;
      // The MAC address from AF_PACKET.
      if (link.address && (link.link_type === "ether" || link.link_type === "loopback")) {
        const mac = dev.addresses.find((a) => a.family === "link");
        assert.ok(mac, `${link.ifname} has a link-layer address`);
        assert.equal(mac.address, link.address, `${link.ifname} MAC`);
        assert.equal(mac.familyNumber, 17, "AF_PACKET");
        compared++;
        if (link.flags.includes("BROADCAST") && link.broadcast) {
          assert.equal(mac.broadcast, link.broadcast, `${link.ifname} link broadcast`);
        }
      }
      for (const a of dev.addresses) {
        if (a.family === "ipv6") assert.equal(a.familyNumber, 10, "AF_INET6 on Linux");
        if (a.family === "ipv4") {
          assert.equal(a.familyNumber, 2);
          assert.ok(a.netmask, "IPv4 addresses have a netmask");
        }
      }
    }
    assert.ok(compared >= 3, `compared ${compared} addresses`);
  });

  test("an interface with a MAC shows it (eth0 when present)", { skip }, () => {
    const eth = links!.find((l) => l.link_type === "ether" && l.addr_info.length > 0);
    if (!eth) return;
    const dev = listDevices().find((d) => d.name === eth.ifname)!;
    assert.equal(dev.addresses.find((a) => a.family === "link")?.address, eth.address);
  });
});

describe("lookupNet", () => {
  test("gives lo's network", { skip }, () => {
    const net = lookupNet("lo");
    assert.equal(net.network, "127.0.0.0");
    assert.equal(net.netmask, "255.0.0.0");
    assert.equal(net.netmaskNumber, 0xff000000);
  });

  test("an unknown device is a PcapError with libpcap's text", () => {
    assert.throws(() => lookupNet("no-such-device0"), (e: unknown) => {
      assert.ok(e instanceof PcapError);
      assert.equal(e.code, "ERROR");
      assert.match(e.message, /no-such-device0/);
      return true;
    });
  });

  test("argument mistakes are TypeErrors", () => {
    assert.throws(() => lookupNet(42 as unknown as string), {
      name: "TypeError",
      message: "device must be a string",
    });
  });
});

describe("libraryInfo", () => {
  test("reports path, version, flavour and features", () => {
    const info = libraryInfo();
    assert.match(info.version, /libpcap version|Npcap|WinPcap/);
    assert.ok(info.path.length > 0);
    assert.ok(["libpcap", "Npcap", "WinPcap"].includes(info.flavor));
    assert.equal(typeof info.features.immediateMode, "boolean");
    if (process.platform === "linux") {
      assert.equal(info.flavor, "libpcap");
      assert.equal(info.features.selectableFd, true);
      assert.equal(info.features.memoryStreams, true);
    }
  });
});
