// The layout engine checked by real C compilers: for every ABI with a compiler
// here, C files of _Static_assert(sizeof/offsetof/_Alignof == …) are compiled
// (1) for every struct this package declares, mirrored in C from our
//     declarations, (2) for the real system / libpcap declarations of the same
//     structs, and (3) for a table of #pragma pack cases.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AbiName,
  defineStruct,
  type FieldDecl,
  type ScalarType,
  type StructLayout,
  toCDeclaration,
} from "../ffi/layout.ts";
import { pcapStructs, structNames } from "../ffi/structs.ts";

const compilers: Partial<Record<AbiName, string>> = {
  "linux-x64": "gcc",
  "linux-ia32": "i686-linux-gnu-gcc",
  "linux-arm64": "aarch64-linux-gnu-gcc",
  "windows-x64": "x86_64-w64-mingw32-gcc",
  "windows-ia32": "i686-w64-mingw32-gcc",
};

function have(cc: string): boolean {
  try {
    execFileSync(cc, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "layout-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function compile(cc: string, name: string, source: string): void {
  const file = join(dir, `${name}.c`);
  writeFileSync(file, source);
  try {
    execFileSync(cc, ["-std=gnu11", "-fsyntax-only", "-Werror", file], { stdio: "pipe" });
  } catch (e) {
    const err = e as { stderr?: Uint8Array };
    assert.fail(
      `${cc} rejected ${name}.c:\n${new TextDecoder().decode(err.stderr ?? new Uint8Array())}`,
    );
  }
}

function asserts(cName: string, layout: StructLayout): string[] {
  const out = [
    `_Static_assert(sizeof(struct ${cName}) == ${layout.size}, "sizeof ${cName}");`,
    `_Static_assert(_Alignof(struct ${cName}) == ${layout.align}, "alignof ${cName}");`,
  ];
  for (const f of layout.fields) {
    out.push(
      `_Static_assert(offsetof(struct ${cName}, ${f.name}) == ${f.offset}, "offsetof ${cName}.${f.name}");`,
    );
  }
  return out;
}

// libpcap's own declarations (pcap/pcap.h, pcap/bpf.h, remote-ext), in terms of
// the target's system types: this checks our ABI tables (long, time_t, pointer
// widths, sockaddr shapes), not just our arithmetic.
const pcapHeaderText = `
typedef unsigned int bpf_u_int32;
struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; };
struct pcap_addr { struct pcap_addr *next; struct sockaddr *addr; struct sockaddr *netmask;
  struct sockaddr *broadaddr; struct sockaddr *dstaddr; };
struct pcap_if { struct pcap_if *next; char *name; char *description;
  struct pcap_addr *addresses; bpf_u_int32 flags; };
struct bpf_insn { u_short code; u_char jt; u_char jf; bpf_u_int32 k; };
struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; };
struct pcap_stat { u_int ps_recv; u_int ps_drop; u_int ps_ifdrop;
#ifdef _WIN32
  u_int ps_capt; u_int ps_sent; u_int ps_netdrop;
#endif
};
struct pcap_rmtauth { int type; char *username; char *password; };
struct pcap_send_queue { u_int maxlen; u_int len; char *buffer; };
struct pcap_sf_pkthdr { int tv_sec; int tv_usec; bpf_u_int32 caplen; bpf_u_int32 len; };
`;

function systemSource(abi: AbiName): string {
  const s = pcapStructs(abi);
  const windows = abi.startsWith("windows");
  const lines = [
    "#define _GNU_SOURCE", // struct mmsghdr
    "#include <stddef.h>",
    ...(windows ? ["#include <winsock2.h>", "#include <ws2tcpip.h>"] : [
      "#include <sys/types.h>",
      "#include <sys/time.h>",
      "#include <sys/socket.h>",
      "#include <netinet/in.h>",
      "#include <sys/uio.h>",
      "#include <linux/if_packet.h>",
      "#include <linux/filter.h>",
      "#include <poll.h>",
    ]),
    pcapHeaderText,
  ];
  const real: (typeof structNames)[number][] = [
    "timeval",
    "pcap_pkthdr",
    "pcap_if",
    "pcap_addr",
    "sockaddr",
    "sockaddr_in",
    "sockaddr_in6",
    "bpf_insn",
    "bpf_program",
    "pcap_stat",
    "pcap_rmtauth",
    "pcap_send_queue",
  ];
  real.push("pcap_sf_pkthdr");
  if (!windows) {
    real.push("sockaddr_ll", "iovec", "msghdr", "mmsghdr", "sock_fprog", "packet_mreq");
    real.push("tpacket_req3", "tpacket_bd_ts", "tpacket_hdr_variant1", "tpacket3_hdr", "pollfd");
    if (abi !== "linux-ia32") real.push("tpacket_hdr_v1", "tpacket_block_desc");
  }
  if (abi === "linux-ia32") {
    // __aligned_u64 makes these 8-aligned on linux-ia32 too, where our u64 is 4-aligned:
    // their sizes and offsets still agree, which is what is read.
    for (const name of ["tpacket_hdr_v1", "tpacket_block_desc"] as const) {
      lines.push(...asserts(name, s[name]).filter((l) => !l.includes("_Alignof")));
    }
  }
  for (const name of real) lines.push(...asserts(name, s[name]));
  lines.push(
    `_Static_assert(AF_INET6 == ${windows ? 23 : 10}, "AF_INET6");`,
    `_Static_assert(AF_INET == 2, "AF_INET");`,
  );
  if (!windows) lines.push(`_Static_assert(AF_PACKET == 17, "AF_PACKET");`);
  return lines.join("\n") + "\n";
}

function mirrorSource(abi: AbiName): string {
  const s = pcapStructs(abi);
  const lines = ["#include <stddef.h>", "#include <time.h>"];
  for (const name of structNames) {
    lines.push(toCDeclaration(s[name], "nc_"));
    lines.push(...asserts(`nc_${name}`, s[name]));
  }
  return lines.join("\n") + "\n";
}

/** The #pragma pack table: fixed cases plus a deterministic pseudo-random set. */
function packCases(abi: AbiName): { name: string; layout: StructLayout }[] {
  const cases: { name: string; layout: StructLayout }[] = [];
  const course = [["i", "i32"], ["j", "i16"], ["k", "f64"]] as const;
  cases.push({
    name: "course_natural",
    layout: defineStruct(course, { abi, name: "course_natural" }),
  });
  cases.push({
    name: "course_pack2",
    layout: defineStruct(course, { abi, pack: 2, name: "course_pack2" }),
  });
  const scalars: ScalarType[] = [
    "i8",
    "u8",
    "i16",
    "u16",
    "i32",
    "u32",
    "i64",
    "u64",
    "f32",
    "f64",
    "long",
    "ulong",
    "ptr",
    "size_t",
  ];
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const packs = [undefined, 1, 2, 4, 8, 16] as const;
  for (let i = 0; i < 60; i++) {
    const fields: FieldDecl[] = [];
    const count = 1 + rnd(7);
    for (let j = 0; j < count; j++) {
      const t = scalars[rnd(scalars.length)];
      fields.push([`f${j}`, rnd(5) === 0 ? { of: t, count: 1 + rnd(4) } : t]);
    }
    const pack = packs[i % packs.length];
    const name = `case${i}`;
    cases.push({ name, layout: defineStruct(fields, { abi, pack, name }) });
  }
  // A packed struct holding a naturally aligned one, and the other way round.
  const inner = defineStruct([["c", "u8"], ["d", "f64"]] as const, { abi, name: "inner" });
  cases.push({ name: "inner", layout: inner });
  cases.push({
    name: "outer_pack1",
    layout: defineStruct([["a", "u8"], ["in", inner], ["b", "u16"]] as const, {
      abi,
      pack: 1,
      name: "outer_pack1",
    }),
  });
  const innerPacked = defineStruct([["c", "u8"], ["d", "u32"]] as const, {
    abi,
    pack: 2,
    name: "inner_pack2",
  });
  cases.push({ name: "inner_pack2", layout: innerPacked });
  cases.push({
    name: "outer_natural",
    layout: defineStruct([["a", "u8"], ["in", innerPacked], ["q", "u64"]] as const, {
      abi,
      name: "outer_natural",
    }),
  });
  return cases;
}

/**
 * The eBPF declarations against <linux/bpf.h> (a source of its own: its struct bpf_insn is not
 * libpcap's). The union's members are checked where they sit in union bpf_attr; the register
 * byte of struct bpf_insn is two bit-fields, so only the fields around it are.
 */
function linuxBpfSource(abi: AbiName): string {
  const s = pcapStructs(abi);
  const lines = ["#include <stddef.h>", "#include <linux/bpf.h>"];
  const i = s.ebpf_insn;
  lines.push(
    `_Static_assert(sizeof(struct bpf_insn) == ${i.size}, "sizeof bpf_insn");`,
    `_Static_assert(offsetof(struct bpf_insn, off) == ${i.offsetOf("off")}, "bpf_insn.off");`,
    `_Static_assert(offsetof(struct bpf_insn, imm) == ${i.offsetOf("imm")}, "bpf_insn.imm");`,
  );
  // struct __sk_buff: the leading fields (the rest is not read).
  for (const f of s.__sk_buff.fields) {
    lines.push(
      `_Static_assert(offsetof(struct __sk_buff, ${f.name}) == ${f.offset}, "__sk_buff.${f.name}");`,
    );
  }
  // The member's path in the union: most are anonymous structs; the test run's is "test".
  const members = [
    [s.bpf_attr_map_create, ""],
    [s.bpf_attr_map_elem, ""],
    [s.bpf_attr_prog_load, ""],
    [s.bpf_attr_test_run, "test."],
  ] as const;
  for (const [layout, path] of members) {
    for (const f of layout.fields) {
      if (f.name.startsWith("pad")) continue;
      lines.push(
        `_Static_assert(offsetof(union bpf_attr, ${path}${f.name}) == ${f.offset}, "${layout.name}.${f.name}");`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

function packSource(abi: AbiName): { source: string; count: number } {
  const lines = ["#include <stddef.h>"];
  const cases = packCases(abi);
  for (const c of cases) {
    lines.push(toCDeclaration(c.layout, "p_"));
    lines.push(...asserts(`p_${c.name}`, c.layout));
  }
  return { source: lines.join("\n") + "\n", count: cases.length };
}

describe("layouts agree with real C compilers", () => {
  for (const [abi, cc] of Object.entries(compilers) as [AbiName, string][]) {
    const available = have(cc);
    const skip = available
      ? false
      : `${cc} is not installed (apt-get install ${
        cc.includes("mingw") ? "mingw-w64" : cc.replace(/-gcc$/, "").replace(/^/, "gcc-")
      })`;
    test(`${abi} (${cc}): every declared struct`, { skip }, () => {
      compile(cc, `${abi}-mirror`, mirrorSource(abi));
    });
    test(`${abi} (${cc}): system and libpcap declarations`, { skip }, () => {
      compile(cc, `${abi}-system`, systemSource(abi));
    });
    if (abi.startsWith("linux")) {
      test(`${abi} (${cc}): eBPF instruction and bpf(2) attributes`, { skip }, () => {
        compile(cc, `${abi}-bpf`, linuxBpfSource(abi));
      });
    }
    test(`${abi} (${cc}): #pragma pack table, including the course's two cases`, { skip }, () => {
      const { source, count } = packSource(abi);
      assert.ok(count >= 60);
      assert.match(source, /#pragma pack\(push, 2\)\nstruct p_course_pack2/);
      assert.match(source, /sizeof\(struct p_course_pack2\) == 14/);
      compile(cc, `${abi}-pack`, source);
    });
  }
});
