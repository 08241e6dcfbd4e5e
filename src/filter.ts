/**
 * BPF filters: compiling expressions with libpcap, inspecting the program,
 * and matching packets offline (`pcap_offline_filter`).
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { LinkType } from "./linktype.ts";
import { cString, native, requireSymbol, structs } from "./native.ts";

/** `PCAP_NETMASK_UNKNOWN`. */
export const NETMASK_UNKNOWN = 0xffffffff;

/** One BPF instruction (`struct bpf_insn`). */
export interface BpfInstruction {
  /** Opcode. */
  readonly code: number;
  /** Jump offset if true. */
  readonly jt: number;
  /** Jump offset if false. */
  readonly jf: number;
  /** Generic field (constant, offset, …). */
  readonly k: number;
}

/** Options of {@link compileFilter} and `setFilter`. */
export interface FilterOptions {
  /** Run libpcap's optimizer (default true). */
  readonly optimize?: boolean;
  /**
   * IPv4 netmask of the network, for `ip broadcast`: a host-order number or
   * dotted quad. Default: unknown (`PCAP_NETMASK_UNKNOWN`).
   */
  readonly netmask?: number | string;
}

/** Options of {@link compileFilter}. */
export interface CompileOptions extends FilterOptions {
  /** Link type the program is for (default Ethernet, `LinkType.EN10MB`). */
  readonly linkType?: number;
  /** Snapshot length (default 262144). */
  readonly snaplen?: number;
}

/** The parts of a packet {@link BpfProgram.matches} needs. */
export interface MatchInput {
  /** The captured bytes. */
  readonly data: Uint8Array;
  /** Length on the wire (default: `data.length`). */
  readonly length?: number;
}

/** Parses a netmask option into a host-order number. @internal */
export function netmaskValue(netmask: number | string | undefined): number {
  if (netmask === undefined) return NETMASK_UNKNOWN;
  if (typeof netmask === "number") {
    if (!Number.isInteger(netmask) || netmask < 0 || netmask > 0xffffffff) {
      throw new RangeError("netmask must be an integer from 0 to 0xffffffff");
    }
    return netmask;
  }
  if (typeof netmask === "string") {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(netmask);
    if (!m || m.slice(1).some((x) => Number(x) > 255)) {
      throw new RangeError(`netmask must be a dotted quad, got "${netmask}"`);
    }
    return ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
  }
  throw new TypeError("netmask must be a number or a string");
}

/**
 * @internal Instructions as an array of `struct bpf_insn` (at least one entry's room: libpcap
 * and the kernel take a pointer even to none).
 */
export function instructionBytes(instructions: readonly BpfInstruction[]): Uint8Array {
  const layout = structs().bpf_insn;
  const bytes = new Uint8Array(Math.max(1, instructions.length) * layout.size);
  const view = new DataView(bytes.buffer);
  instructions.forEach((i, at) => {
    layout.write(view, { code: i.code, jt: i.jt, jf: i.jf, k: i.k }, at * layout.size);
  });
  return bytes;
}

/**
 * A compiled BPF program. Owns libpcap's instruction array until
 * {@link BpfProgram.dispose} (`pcap_freecode`); `instructions` and
 * `toString()` stay usable afterwards, `matches()` does not.
 */
export class BpfProgram {
  /** The expression it was compiled from. */
  readonly expression: string;
  /** The link type it was compiled for. */
  readonly linkType: number;
  /** The instructions, copied out of libpcap. */
  readonly instructions: readonly BpfInstruction[];
  #program: Uint8Array | null;
  #insnBytes: Uint8Array;
  #header: Uint8Array;
  #headerView: DataView;
  /** JS memory holding the instructions (fromInstructions), or null when libpcap owns them. */
  #owned: Uint8Array | null;

  /** @internal Use `compileFilter()`, a handle's `compileFilter()` or `fromInstructions()`. */
  constructor(expression: string, linkType: number, program: Uint8Array, owned?: Uint8Array) {
    const n = native();
    const s = structs();
    this.expression = expression;
    this.linkType = linkType;
    this.#program = program;
    const pv = new DataView(program.buffer, program.byteOffset, program.byteLength);
    const count = s.bpf_program.reader("bf_len")(pv, 0) as number;
    const insns = s.bpf_program.reader("bf_insns")(pv, 0) as number;
    this.#insnBytes = count > 0
      ? n.backend.copy(n.backend.fromAddress(insns), count * s.bpf_insn.size)
      : new Uint8Array(0);
    const iv = new DataView(this.#insnBytes.buffer);
    const list: BpfInstruction[] = [];
    for (let i = 0; i < count; i++) {
      const v = s.bpf_insn.read(iv, i * s.bpf_insn.size);
      list.push(Object.freeze({ code: v.code, jt: v.jt, jf: v.jf, k: v.k }));
    }
    this.instructions = Object.freeze(list);
    this.#header = new Uint8Array(s.pcap_pkthdr.size);
    this.#headerView = new DataView(this.#header.buffer);
    this.#owned = owned ?? null;
    if (!owned) registry.register(this, program, this);
  }

  /**
   * A program from raw instructions (for example received over the network,
   * or written by hand), in memory owned by JS: usable with `setFilter()` and
   * `matches()`; libpcap validates it when it is set. `dispose()` frees nothing
   * in libpcap.
   */
  static fromInstructions(
    instructions: readonly BpfInstruction[],
    options: { readonly linkType?: number; readonly expression?: string } = {},
  ): BpfProgram {
    if (!Array.isArray(instructions)) throw new TypeError("instructions must be an array");
    const s = structs();
    const b = native().backend;
    instructions.forEach((i, at) => {
      for (
        const [name, max] of [["code", 0xffff], ["jt", 0xff], ["jf", 0xff], [
          "k",
          0xffffffff,
        ]] as const
      ) {
        const v = i?.[name];
        if (!Number.isInteger(v) || v < 0 || v > max) {
          throw new RangeError(`instructions[${at}].${name} must be an integer from 0 to ${max}`);
        }
      }
    });
    const insns = instructionBytes(instructions);
    const program = new Uint8Array(s.bpf_program.size);
    s.bpf_program.write(new DataView(program.buffer), {
      bf_len: instructions.length,
      bf_insns: b.address(b.pointerOf(insns)),
    });
    return new BpfProgram(
      options.expression ?? "",
      options.linkType ?? LinkType.EN10MB,
      program,
      insns,
    );
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#program === null;
  }

  /** @internal The `struct bpf_program` for `pcap_setfilter`. */
  get programBuffer(): Uint8Array {
    if (!this.#program) {
      throw new PcapError(ErrorCode.CLOSED, "This BPF program was disposed");
    }
    return this.#program;
  }

  /** The program printed like `tcpdump -d` (libpcap's `bpf_image`), one line per instruction. */
  toString(): string {
    const n = native();
    const base = n.backend.address(n.backend.pointerOf(this.#insnBytes));
    const size = structs().bpf_insn.size;
    const image = requireSymbol("bpf_image");
    const lines: string[] = [];
    for (let i = 0; i < this.instructions.length; i++) {
      lines.push(n.backend.readCString(image(base + i * size, i)) ?? "");
    }
    return lines.join("\n");
  }

  /** True when the program accepts the packet (`pcap_offline_filter`). */
  matches(packet: MatchInput): boolean {
    const program = this.programBuffer;
    if (!packet || !(packet.data instanceof Uint8Array)) {
      throw new TypeError("packet.data must be a Uint8Array");
    }
    const filter = requireSymbol("pcap_offline_filter");
    const s = structs();
    const hv = this.#headerView;
    const caplen = packet.data.length;
    s.pcap_pkthdr.write(hv, { caplen, len: packet.length ?? caplen });
    return filter(program, this.#header, packet.data) !== 0;
  }

  /** Frees libpcap's copy of the program (`pcap_freecode`). Idempotent. */
  dispose(): void {
    const p = this.#program;
    if (!p) return;
    this.#program = null;
    if (this.#owned) {
      this.#owned = null;
      return;
    }
    registry.unregister(this);
    native().pcap.symbols.pcap_freecode(p);
  }

  /** Same as {@link BpfProgram.dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

const registry = new FinalizationRegistry<Uint8Array>((program) => {
  try {
    native().pcap.symbols.pcap_freecode(program);
  } catch {
    // Safety net only.
  }
});

/** Compiles on an existing handle. @internal */
export function compileOn(
  handle: Ptr,
  expression: string,
  options: FilterOptions,
  linkType: number,
): BpfProgram {
  if (typeof expression !== "string") throw new TypeError("expression must be a string");
  const optimize = options.optimize ?? true;
  if (typeof optimize !== "boolean") throw new TypeError("optimize must be a boolean");
  const netmask = netmaskValue(options.netmask);
  const n = native();
  const program = new Uint8Array(structs().bpf_program.size);
  const rc = n.pcap.symbols.pcap_compile(
    handle,
    program,
    cString(expression),
    optimize ? 1 : 0,
    netmask,
  );
  if (rc !== 0) {
    const text = n.backend.readCString(n.pcap.symbols.pcap_geterr(handle)) ?? "unknown error";
    throw new PcapError(ErrorCode.FILTER, text, { status: rc });
  }
  return new BpfProgram(expression, linkType, program);
}

/**
 * Compiles a filter expression for a link type without any capture
 * (`pcap_open_dead` + `pcap_compile`). Errors are {@link PcapError}s with
 * code `FILTER` and libpcap's exact text.
 *
 * ```ts
 * import { compileFilter, LinkType } from "@netcap/pcap";
 *
 * using program = compileFilter("tcp port 443", { linkType: LinkType.EN10MB });
 * console.log(program.toString()); // (000) ldh [12] …, as tcpdump -d prints it
 * const keep = program.matches({ data: frame });
 * ```
 */
export function compileFilter(expression: string, options: CompileOptions = {}): BpfProgram {
  if (typeof expression !== "string") throw new TypeError("expression must be a string");
  const linkType = options.linkType ?? LinkType.EN10MB;
  const snaplen = options.snaplen ?? 262144;
  if (!Number.isInteger(linkType) || linkType < 0) {
    throw new RangeError("linkType must be a non-negative integer");
  }
  if (!Number.isInteger(snaplen) || snaplen <= 0) {
    throw new RangeError("snaplen must be a positive integer");
  }
  const n = native();
  const openDead = requireSymbol("pcap_open_dead");
  const dead = openDead(linkType, snaplen);
  if (n.backend.isNull(dead)) {
    throw new PcapError(ErrorCode.ERROR, "pcap_open_dead failed");
  }
  try {
    return compileOn(dead, expression, options, linkType);
  } finally {
    n.pcap.symbols.pcap_close(dead);
  }
}
