/**
 * Internal: Linux eBPF for the statistics engine. A classic BPF program (as libpcap compiles
 * it for a live Linux handle) is translated into an eBPF socket filter that, for each packet
 * the classic program accepts, adds 1 and the packet's length to two counters in a BPF map,
 * and then drops the packet: the kernel counts and no packet is queued to user space (what
 * WinPcap's driver does in its statistics mode). The same translation with a plain verdict
 * (the classic program's return value) is run by the tests through `BPF_PROG_TEST_RUN`.
 *
 * The translation follows the kernel's own classic-to-eBPF conversion: A in R0 (where the
 * packet loads `LD_ABS`/`LD_IND` put their result), X in R7, the socket buffer in R6, the 16
 * scratch words on the stack, 32-bit arithmetic and comparisons. Linux extension loads
 * (`SKF_AD_*`) become reads of `struct __sk_buff`; those without such a field make the
 * translation fail (the caller counts another way).
 *
 * @module
 */

import type { PcapStructs } from "../ffi/structs.ts";
import type { BpfInstruction } from "./filter.ts";
import { native, structBytes, structs } from "./native.ts";

// --- eBPF encoding (linux/bpf.h, linux/bpf_common.h) ---
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06;
const ALU64 = 0x07;
const W = 0x00, B = 0x10, DW = 0x18;
const ABS = 0x20, IND = 0x40, MEM = 0x60, ATOMIC = 0xc0;
const K = 0x00, X = 0x08;
const MOV = 0xb0, ADD = 0x00, AND = 0x50, LSH = 0x60, XOR = 0xa0, END = 0xd0, TO_BE = 0x08;
const JA = 0x00, JEQ = 0x10, CALL = 0x80, EXIT = 0x90;
const PSEUDO_MAP_FD = 1;
const HELPER_MAP_LOOKUP_ELEM = 1;
const HELPER_GET_PRANDOM_U32 = 7;
const HELPER_GET_SMP_PROCESSOR_ID = 8;
const R0 = 0, R1 = 1, R2 = 2, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

/** The registers: A, X, the socket buffer, and a spare. */
const A = R0, XR = R7, CTX = R6, TMP = R8;

/** A field of `struct __sk_buff` (declared in ffi/structs.ts). */
type SkbField = Parameters<PcapStructs["__sk_buff"]["offsetOf"]>[0];

/** `SKF_AD_OFF`: classic loads from this offset up read packet metadata (linux/filter.h). */
const SKF_AD_OFF = 0xfffff000;
const PACKET_OUTGOING = 4;
/** The 16 scratch words `M[]` sit at the bottom of the stack frame, the map key below them. */
const SCRATCH = -64;
const KEY = -72;

/** One eBPF instruction before encoding; `to` names a jump's target (resolved at the end). */
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  to?: number | "accept" | "reject";
}

/** How a translated program ends for a packet the classic program accepts. */
export type Verdict =
  /** Return the classic program's value (the number of bytes to keep). */
  | { readonly kind: "verdict" }
  /**
   * Add 1 and the packet's length (plus 4 when the kernel took a VLAN tag out, which libpcap
   * puts back) to the two 64-bit counters of element 0 of the array map `mapFd`, then drop
   * the packet. With `skipOutgoing`, outgoing packets are not counted (on the loopback
   * device, where libpcap sees each packet again as incoming).
   */
  | { readonly kind: "count"; readonly mapFd: number; readonly skipOutgoing: boolean };

/**
 * The eBPF translation of a classic program, encoded as `struct bpf_insn`s, or null when the
 * program uses something with no eBPF counterpart here.
 */
export function translateFilter(
  program: readonly BpfInstruction[],
  verdict: Verdict,
): Uint8Array | null {
  const out: Insn[] = [];
  const emit = (code: number, dst: number, src: number, off: number, imm: number): void => {
    out.push({ code, dst, src, off, imm });
  };
  const jump = (code: number, dst: number, src: number, imm: number, to: Insn["to"]): void => {
    out.push({ code, dst, src, off: 0, imm, to });
  };
  const skb = structs().__sk_buff;
  const ctxLoad = (dst: number, field: SkbField): void =>
    emit(LDX | MEM | W, dst, CTX, skb.offsetOf(field), 0);

  // Prologue: the socket buffer in R6, A = X = 0, the scratch words zero.
  emit(ALU64 | MOV | X, CTX, R1, 0, 0);
  emit(ALU | MOV | K, A, 0, 0, 0);
  emit(ALU | MOV | K, XR, 0, 0, 0);
  for (let i = 0; i < 8; i++) emit(ST | MEM | DW, R10, 0, SCRATCH + 8 * i, 0);

  // Only instructions reachable from the first are translated (the verifier refuses dead code).
  const n = program.length;
  const reachable = new Uint8Array(n);
  if (n > 0) reachable[0] = 1;
  for (let i = 0; i < n; i++) {
    if (!reachable[i]) continue;
    const { code, jt, jf, k } = program[i];
    const cls = code & 0x07;
    if (cls === 0x06) continue; // ret
    if (cls === 0x05) {
      const targets = (code & 0xf0) === JA ? [i + 1 + k] : [i + 1 + jt, i + 1 + jf];
      for (const t of targets) {
        if (t >= n) return null;
        reachable[t] = 1;
      }
    } else if (i + 1 < n) reachable[i + 1] = 1;
    else return null; // runs off the end
  }

  const start = new Array<number>(n + 1).fill(-1);
  let accepts = false;
  for (let i = 0; i < n; i++) {
    if (!reachable[i]) continue;
    start[i] = out.length;
    const { code, jt, jf } = program[i];
    const k = program[i].k >>> 0;
    const imm = k | 0;
    const cls = code & 0x07;
    const size = code & 0x18;
    const mode = code & 0xe0;
    switch (cls) {
      case 0x00: // ld
      case 0x01: { // ldx
        const dst = cls === 0x00 ? A : XR;
        if (mode === 0x00) emit(ALU | MOV | K, dst, 0, 0, imm); // #k
        else if (mode === 0x80) ctxLoad(dst, "len"); // #len
        else if (mode === MEM) { // M[k]
          if (k > 15) return null;
          emit(LDX | MEM | W, dst, R10, SCRATCH + 4 * k, 0);
        } else if (cls === 0x01 && mode === 0xa0 && size === B) { // 4*([k]&0xf)
          emit(ALU64 | MOV | X, TMP, A, 0, 0);
          emit(LD | ABS | B, 0, 0, 0, imm);
          emit(ALU | AND | K, A, 0, 0, 0xf);
          emit(ALU | LSH | K, A, 0, 0, 2);
          emit(ALU | MOV | X, XR, A, 0, 0);
          emit(ALU64 | MOV | X, A, TMP, 0, 0);
        } else if (cls === 0x00 && mode === ABS && k >= SKF_AD_OFF) {
          if (!extension(k - SKF_AD_OFF, emit, ctxLoad)) return null;
        } else if (cls === 0x00 && (mode === ABS || mode === IND) && size !== DW) {
          emit(LD | mode | size, 0, mode === IND ? XR : 0, 0, imm);
        } else return null;
        break;
      }
      case 0x02: // st M[k]
      case 0x03: // stx M[k]
        if (k > 15) return null;
        emit(STX | MEM | W, R10, cls === 0x02 ? A : XR, SCRATCH + 4 * k, 0);
        break;
      case 0x04: { // alu
        const op = code & 0xf0;
        if (op > 0xa0) return null;
        if (op === 0x80) { // neg
          emit(ALU | op, A, 0, 0, 0);
          break;
        }
        if (code & X) {
          // Division by a zero X ends the classic program with 0.
          if (op === 0x30 || op === 0x90) jump(JMP | JEQ | K, XR, 0, 0, "reject");
          emit(ALU | op | X, A, XR, 0, 0);
        } else {
          if ((op === 0x30 || op === 0x90) && k === 0) return null;
          emit(ALU | op | K, A, 0, 0, imm);
        }
        break;
      }
      case 0x05: { // jmp
        const op = code & 0xf0;
        if (op === JA) {
          jump(JMP | JA, 0, 0, 0, i + 1 + k);
          break;
        }
        if (op > 0x40) return null;
        const src = code & X ? XR : 0;
        const t = i + 1 + jt, f = i + 1 + jf;
        if (t === f) jump(JMP | JA, 0, 0, 0, t);
        else {
          jump(JMP32 | op | (code & X), A, src, imm, t);
          if (f !== i + 1) jump(JMP | JA, 0, 0, 0, f);
        }
        break;
      }
      case 0x06: { // ret
        const rval = code & 0x18;
        if (rval === 0x08) return null; // ret x: refused by the kernel's classic checker too
        if (verdict.kind === "verdict") {
          if (rval === 0x00) emit(ALU | MOV | K, A, 0, 0, imm);
          emit(JMP | EXIT, 0, 0, 0, 0);
        } else if (rval === 0x00) {
          jump(JMP | JA, 0, 0, 0, k === 0 ? "reject" : "accept");
          if (k !== 0) accepts = true;
        } else {
          jump(JMP | JEQ | K, A, 0, 0, "reject");
          jump(JMP | JA, 0, 0, 0, "accept");
          accepts = true;
        }
        break;
      }
      case 0x07: // misc: tax, txa
        if ((code & 0xf8) === 0x00) emit(ALU | MOV | X, XR, A, 0, 0);
        else if ((code & 0xf8) === 0x80) emit(ALU | MOV | X, A, XR, 0, 0);
        else return null;
        break;
    }
  }

  let accept = -1;
  if (verdict.kind === "count" && accepts) {
    accept = out.length;
    ctxLoad(TMP, "len");
    ctxLoad(R9, "vlan_present");
    emit(JMP | JEQ | K, R9, 0, 1, 0);
    emit(ALU64 | ADD | K, TMP, 0, 0, 4);
    if (verdict.skipOutgoing) {
      ctxLoad(R9, "pkt_type");
      jump(JMP | JEQ | K, R9, 0, PACKET_OUTGOING, "reject");
    }
    emit(ST | MEM | W, R10, 0, KEY, 0);
    emit(LD | 0x00 | DW, R1, PSEUDO_MAP_FD, 0, verdict.mapFd); // ld_imm64 r1, map
    emit(0, 0, 0, 0, 0);
    emit(ALU64 | MOV | X, R2, R10, 0, 0);
    emit(ALU64 | ADD | K, R2, 0, 0, KEY);
    emit(JMP | CALL, 0, 0, 0, HELPER_MAP_LOOKUP_ELEM);
    jump(JMP | JEQ | K, R0, 0, 0, "reject");
    emit(ALU64 | MOV | K, R1, 0, 0, 1);
    const counters = structs().bpf_counters;
    emit(STX | ATOMIC | DW, R0, R1, counters.offsetOf("packets"), ADD);
    emit(STX | ATOMIC | DW, R0, TMP, counters.offsetOf("bytes"), ADD);
  }
  // The shared "return 0", where anything reaches it (the verifier refuses dead code).
  let reject = -1;
  if (accept >= 0 || out.some((insn) => insn.to === "reject")) {
    reject = out.length;
    emit(ALU | MOV | K, A, 0, 0, 0);
    emit(JMP | EXIT, 0, 0, 0, 0);
  }

  // Jump offsets count the instructions after the jump.
  for (let at = 0; at < out.length; at++) {
    const insn = out[at];
    if (insn.to === undefined) continue;
    const target = insn.to === "accept" ? accept : insn.to === "reject" ? reject : start[insn.to];
    if (target < 0) return null;
    insn.off = target - at - 1;
    if (insn.off > 0x7fff) return null;
  }
  return encode(out);
}

/** A Linux extension load (`ld [SKF_AD_OFF + ad]`) into A; false when not translatable. */
function extension(
  ad: number,
  emit: (code: number, dst: number, src: number, off: number, imm: number) => void,
  ctxLoad: (dst: number, field: SkbField) => void,
): boolean {
  const swap16 = (): void => emit(ALU | END | TO_BE, A, 0, 0, 16); // ntohs
  switch (ad) {
    case 0: // SKF_AD_PROTOCOL (network order in the socket buffer)
      ctxLoad(A, "protocol");
      swap16();
      return true;
    case 4: // SKF_AD_PKTTYPE
      ctxLoad(A, "pkt_type");
      return true;
    case 8: // SKF_AD_IFINDEX
      ctxLoad(A, "ifindex");
      return true;
    case 20: // SKF_AD_MARK
      ctxLoad(A, "mark");
      return true;
    case 24: // SKF_AD_QUEUE
      ctxLoad(A, "queue_mapping");
      return true;
    case 32: // SKF_AD_RXHASH
      ctxLoad(A, "hash");
      return true;
    case 36: // SKF_AD_CPU
      emit(JMP | CALL, 0, 0, 0, HELPER_GET_SMP_PROCESSOR_ID);
      return true;
    case 40: // SKF_AD_ALU_XOR_X
      emit(ALU | XOR | X, A, XR, 0, 0);
      return true;
    case 44: // SKF_AD_VLAN_TAG
      ctxLoad(A, "vlan_tci");
      return true;
    case 48: // SKF_AD_VLAN_TAG_PRESENT
      ctxLoad(A, "vlan_present");
      return true;
    case 56: // SKF_AD_RANDOM
      emit(JMP | CALL, 0, 0, 0, HELPER_GET_PRANDOM_U32);
      return true;
    case 60: // SKF_AD_VLAN_TPID
      ctxLoad(A, "vlan_proto");
      swap16();
      return true;
    default: // SKF_AD_HATYPE, SKF_AD_NLATTR*, SKF_AD_PAY_OFFSET: no __sk_buff field
      return false;
  }
}

function encode(insns: readonly Insn[]): Uint8Array {
  const layout = structs().ebpf_insn;
  const littleEndian = layout.abi.littleEndian;
  const bytes = new Uint8Array(insns.length * layout.size);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, i) => {
    // The two 4-bit register fields: dst_reg first, in the low bits on little-endian hosts.
    const regs = littleEndian ? (insn.src << 4) | insn.dst : (insn.dst << 4) | insn.src;
    layout.write(view, { code: insn.code, regs, off: insn.off, imm: insn.imm }, i * layout.size);
  });
  return bytes;
}

// --- the bpf(2) system call ---

/** `SYS_bpf` by architecture (Linux's syscall tables); others have no eBPF path here. */
const SYS_BPF: Readonly<Record<string, number>> = { x86_64: 321, aarch64: 280 };
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_SOCKET_FILTER = 1;
const LICENSE = new TextEncoder().encode("MIT\0");

/** True where the `bpf(2)` calls can be made (Linux on x86-64 or arm64). */
export function bpfAvailable(): boolean {
  const n = native();
  return n.backend.os === "linux" && SYS_BPF[n.backend.arch] !== undefined &&
    !!n.libc?.symbols.syscall && !!n.libc.symbols.close;
}

function bpf(cmd: number, bytes: Uint8Array): number {
  const n = native();
  return Number(n.libc!.symbols.syscall!(SYS_BPF[n.backend.arch], cmd, bytes, bytes.length));
}

function addressOf(bytes: Uint8Array): number {
  const b = native().backend;
  return b.address(b.pointerOf(bytes));
}

/** A new array map of one element holding two 64-bit counters; its descriptor, or -1. */
export function createCounterMap(): number {
  if (!bpfAvailable()) return -1;
  return bpf(
    BPF_MAP_CREATE,
    structBytes(structs().bpf_attr_map_create, {
      map_type: BPF_MAP_TYPE_ARRAY,
      key_size: 4,
      value_size: structs().bpf_counters.size,
      max_entries: 1,
    }),
  );
}

/** The counters of a map from {@link createCounterMap}, or null when it cannot be read. */
export function readCounterMap(mapFd: number): { packets: number; bytes: number } | null {
  const s = structs();
  const key = new Uint8Array(4); // element 0
  const value = new Uint8Array(s.bpf_counters.size);
  const a = structBytes(s.bpf_attr_map_elem, {
    map_fd: mapFd,
    key: addressOf(key),
    value: addressOf(value),
  });
  if (bpf(BPF_MAP_LOOKUP_ELEM, a) !== 0) return null;
  const v = s.bpf_counters.read(new DataView(value.buffer));
  return { packets: Number(v.packets), bytes: Number(v.bytes) };
}

/**
 * Loads encoded instructions as a socket filter; its descriptor, or -1. With `log`, the
 * verifier writes its account there (a NUL-terminated text).
 */
export function loadSocketFilter(insns: Uint8Array, log?: Uint8Array): number {
  if (!bpfAvailable()) return -1;
  const a = structBytes(structs().bpf_attr_prog_load, {
    prog_type: BPF_PROG_TYPE_SOCKET_FILTER,
    insn_cnt: insns.length / structs().ebpf_insn.size,
    insns: addressOf(insns),
    license: addressOf(LICENSE),
    ...(log ? { log_level: 1, log_size: log.length, log_buf: addressOf(log) } : {}),
  });
  return bpf(BPF_PROG_LOAD, a);
}

/** Runs a loaded socket filter once on a frame (`BPF_PROG_TEST_RUN`): its return value, or null. */
export function testRunSocketFilter(progFd: number, frame: Uint8Array): number | null {
  const layout = structs().bpf_attr_test_run;
  const a = structBytes(layout, {
    prog_fd: progFd,
    data_size_in: frame.length,
    data_in: addressOf(frame),
    repeat: 1,
  });
  if (bpf(BPF_PROG_TEST_RUN, a) !== 0) return null;
  return layout.reader("retval")(new DataView(a.buffer), 0) as number;
}

/** Closes a descriptor from the functions above. */
export function closeFd(fd: number): void {
  if (fd >= 0) native().libc!.symbols.close!(fd);
}
