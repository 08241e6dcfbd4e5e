// The layout engine: C rules, #pragma pack, and the documented BSD layouts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Abis, defineStruct, hostAbi } from "../ffi/layout.ts";
import { pcapStructs } from "../ffi/structs.ts";

describe("defineStruct", () => {
  test("the course's example: natural alignment and pack(2)", () => {
    const s = [["i", "i32"], ["j", "i16"], ["k", "f64"]] as const;
    const natural = defineStruct(s);
    assert.equal(natural.size, 16);
    assert.deepEqual(natural.fields.map((f) => f.offset), [0, 4, 8]);
    const packed = defineStruct(s, { pack: 2 });
    assert.equal(packed.size, 14);
    assert.deepEqual(packed.fields.map((f) => f.offset), [0, 4, 6]);
    assert.equal(packed.offsetOf("k"), 6);
  });

  test("pack(1) removes all padding; pack larger than natural changes nothing", () => {
    const s = [["a", "u8"], ["b", "u64"], ["c", "u16"]] as const;
    assert.equal(defineStruct(s, { pack: 1 }).size, 11);
    assert.equal(defineStruct(s, { pack: 16 }).size, 24);
    assert.equal(defineStruct(s, { pack: 4 }).offsetOf("b"), 4);
    assert.equal(defineStruct(s, { pack: 4 }).size, 16);
  });

  test("i386 System V aligns 8-byte members to 4; 32-bit Windows to 8", () => {
    const s = [["a", "u8"], ["d", "f64"]] as const;
    assert.equal(defineStruct(s, { abi: "linux-ia32" }).offsetOf("d"), 4);
    assert.equal(defineStruct(s, { abi: "linux-ia32" }).size, 12);
    assert.equal(defineStruct(s, { abi: "windows-ia32" }).offsetOf("d"), 8);
    assert.equal(defineStruct(s, { abi: "windows-ia32" }).size, 16);
  });

  test("long is 8 bytes on LP64 and 4 on LLP64", () => {
    const s = [["a", "u8"], ["l", "long"]] as const;
    assert.equal(defineStruct(s, { abi: "linux-x64" }).size, 16);
    assert.equal(defineStruct(s, { abi: "darwin-arm64" }).size, 16);
    assert.equal(defineStruct(s, { abi: "windows-x64" }).size, 8);
  });

  test("nested structs and arrays", () => {
    const inner = defineStruct([["x", "u16"], ["y", "u32"]] as const, { name: "inner" });
    const outer = defineStruct(
      [["a", "u8"], ["in", inner], ["arr", { of: "u16", count: 3 }], ["z", "u8"]] as const,
    );
    assert.equal(outer.offsetOf("in"), 4);
    assert.equal(outer.offsetOf("arr"), 12);
    assert.equal(outer.offsetOf("z"), 18);
    assert.equal(outer.size, 20);
    const dv = new DataView(new ArrayBuffer(outer.size));
    outer.write(dv, { a: 7, z: 9 });
    inner.write(dv, { x: 0x1234, y: 0xdeadbeef }, outer.offsetOf("in"));
    const v = outer.read(dv);
    assert.deepEqual(v, { a: 7, in: { x: 0x1234, y: 0xdeadbeef }, arr: [0, 0, 0], z: 9 });
  });

  test("readers: pointer-width fields read as exact numbers, 64-bit fixed as bigint", () => {
    const s = defineStruct([["p", "ptr"], ["q", "u64"], ["t", "long"]] as const, {
      abi: "linux-x64",
    });
    const dv = new DataView(new ArrayBuffer(s.size));
    dv.setBigUint64(0, 0x7fff12345678n, true);
    dv.setBigUint64(8, 0xffffffffffffffffn, true);
    dv.setBigInt64(16, -5n, true);
    assert.equal(s.reader("p")(dv, 0), 0x7fff12345678);
    assert.equal(s.reader("q")(dv, 0), 0xffffffffffffffffn);
    assert.equal(s.reader("t")(dv, 0), -5);
  });

  test("argument mistakes are TypeError / RangeError with exact text", () => {
    assert.throws(
      () => defineStruct([["a", "u8"]] as const, { pack: 3 as 1 }),
      { name: "RangeError", message: "pack must be 1, 2, 4, 8 or 16, got 3" },
    );
    assert.throws(() => defineStruct([["a", "u8"], ["a", "u8"]] as const), {
      name: "TypeError",
      message: 'Duplicate field "a" in struct anonymous',
    });
    assert.throws(() => defineStruct([["a", "u8"]] as const).offsetOf("b" as "a"), {
      name: "RangeError",
      message: 'Struct anonymous has no field "b"',
    });
    assert.throws(() => defineStruct([["a", "u8"]] as const, { abi: "vax" as "linux-x64" }), {
      name: "RangeError",
    });
  });
});

describe("platform struct layouts", () => {
  test("the host ABI is detected", () => {
    assert.ok(Object.values(Abis).includes(hostAbi));
  });

  // Values from the BSD/macOS headers (<sys/socket.h>, <netinet/in.h>,
  // <netinet6/in6.h>, <net/if_dl.h>, <sys/_types/_timeval.h>).
  for (const abi of ["darwin-x64", "darwin-arm64"] as const) {
    test(`${abi}: sockaddr with sa_len, 32-bit tv_usec, AF_INET6 = 30`, () => {
      const s = pcapStructs(abi);
      assert.equal(s.sockaddr.size, 16);
      assert.equal(s.sockaddr.offsetOf("sa_family"), 1);
      assert.equal(s.sockaddr_in.size, 16);
      assert.equal(s.sockaddr_in.offsetOf("sin_port"), 2);
      assert.equal(s.sockaddr_in.offsetOf("sin_addr"), 4);
      assert.equal(s.sockaddr_in6.size, 28);
      assert.equal(s.sockaddr_in6.offsetOf("sin6_flowinfo"), 4);
      assert.equal(s.sockaddr_in6.offsetOf("sin6_addr"), 8);
      assert.equal(s.sockaddr_in6.offsetOf("sin6_scope_id"), 24);
      assert.equal(s.sockaddr_dl.size, 20);
      assert.equal(s.sockaddr_dl.offsetOf("sdl_data"), 8);
      assert.equal(s.timeval.size, 16);
      assert.equal(s.timeval.offsetOf("tv_usec"), 8);
      assert.equal(s.pcap_pkthdr.size, 24);
      assert.equal(s.pcap_pkthdr.offsetOf("caplen"), 16);
      assert.equal(s.pcap_if.size, 40);
      assert.equal(s.pcap_stat.size, 12);
      assert.equal(Abis[abi].af.inet6, 30);
      assert.equal(Abis[abi].af.link, 18);
    });
  }

  test("windows-x64: 16-byte pcap_pkthdr, 24-byte pcap_stat, AF_INET6 = 23", () => {
    const s = pcapStructs("windows-x64");
    assert.equal(s.pcap_pkthdr.size, 16);
    assert.equal(s.pcap_pkthdr.offsetOf("caplen"), 8);
    assert.equal(s.pcap_pkthdr.offsetOf("len"), 12);
    assert.equal(s.pcap_stat.size, 24);
    assert.equal(Abis["windows-x64"].af.inet6, 23);
  });
});
