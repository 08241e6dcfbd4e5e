/**
 * pcapng writer.
 *
 * @module
 */

import type { ByteOrder, PcapngOption, Timestamp, TimestampResolution } from "./types.ts";
import {
  BlockType,
  EpbOption,
  IdbOption,
  IsbOption,
  NrbRecordType,
  OptionCode,
  ShbOption,
} from "./types.ts";
import type { OptionInput } from "./options.ts";
import {
  encodeText,
  optionsSize,
  parseHexColons,
  parseIpv4,
  parseIpv6,
  toRawOptions,
  writeOptions,
} from "./options.ts";
import type { Sink, WriterOptions, WriteTarget } from "./writer_output.ts";
import { fileSink, memorySink, now, Output, targetSink } from "./writer_output.ts";
import type { WritablePacket } from "./writer_pcap.ts";

type RawOption = { code: number; value: Uint8Array };

/** Section Header Block contents. */
export interface SectionOptions {
  /** `shb_hardware`. */
  hardware?: string;
  /** `shb_os`. */
  os?: string;
  /** `shb_userappl`. */
  userApplication?: string;
  /** `opt_comment` values. */
  comments?: readonly string[];
  /** More options, written as given. */
  options?: readonly (OptionInput | PcapngOption)[];
}

/** An interface to describe in an Interface Description Block. */
export interface InterfaceOptions {
  /** Link type (`LINKTYPE_*`). */
  linkType: number;
  /** Snapshot length (default 0: no limit). */
  snaplen?: number;
  /** `if_name`. */
  name?: string;
  /** `if_description`. */
  description?: string;
  /**
   * Time stamp resolution (default 10^-9; 10^-6 is written without an option). A number
   * is a decimal exponent.
   */
  tsResolution?: TimestampResolution | number;
  /** `if_tsoffset` in seconds. */
  tsOffset?: bigint | number;
  /** `if_fcslen` in bytes. */
  fcsLength?: number;
  /** `if_filter` as a libpcap filter expression. */
  filter?: string;
  /** `if_os`. */
  os?: string;
  /** `if_hardware`. */
  hardware?: string;
  /** `if_speed` in bits per second. */
  speed?: bigint | number;
  /** `if_IPv4addr` values, `"a.b.c.d/m.m.m.m"`. */
  ipv4Addresses?: readonly string[];
  /** `if_IPv6addr` values, `"addr/prefix"`. */
  ipv6Addresses?: readonly string[];
  /** `if_MACaddr`, `"aa:bb:cc:dd:ee:ff"`. */
  macAddress?: string;
  /** `opt_comment` values. */
  comments?: readonly string[];
  /** More options, written as given. */
  options?: readonly (OptionInput | PcapngOption)[];
}

/** Counters and times for an Interface Statistics Block. */
export interface StatisticsInput {
  /** When the statistics were taken (default: now). */
  timestamp?: Timestamp;
  /** `isb_starttime`. */
  startTime?: Timestamp;
  /** `isb_endtime`. */
  endTime?: Timestamp;
  /** `isb_ifrecv`. */
  received?: bigint | number;
  /** `isb_ifdrop`. */
  dropped?: bigint | number;
  /** `isb_filteraccept`. */
  filterAccepted?: bigint | number;
  /** `isb_osdrop`. */
  osDropped?: bigint | number;
  /** `isb_usrdeliv`. */
  delivered?: bigint | number;
  /** `opt_comment` values. */
  comments?: readonly string[];
}

/** One Name Resolution Block entry to write. */
export interface NameResolutionInput {
  /** Record type; inferred from the address (IPv4 or IPv6) when left out. */
  type?: number;
  /** The address: dotted IPv4, IPv6, or colon-separated hex (EUI-48/64). */
  address: string;
  /** Names for the address. */
  names: readonly string[];
}

/** Options of {@link PcapngWriter}. */
export interface PcapngWriterOptions extends WriterOptions {
  /** Byte order (default "little"). */
  byteOrder?: ByteOrder;
  /** The first section's SHB options. */
  section?: SectionOptions;
  /** Interfaces to describe at once (ids 0, 1, ...). */
  interfaces?: readonly InterfaceOptions[];
}

/** Per-interface encoding state. */
interface IfaceState {
  linkType: number;
  snaplen: number;
  /** Units per second if <= 2^32, else 0. */
  units: number;
  unitsBig: bigint;
  base: 10 | 2;
  exponent: number;
  offset: number;
}

function u64(v: bigint | number): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

function stringOpt(code: number, s: string | undefined, out: RawOption[]): void {
  if (s !== undefined) out.push({ code, value: encodeText(s) });
}

function commentsOpts(comments: readonly string[] | undefined, out: RawOption[]): void {
  if (comments) {
    for (const c of comments) out.push({ code: OptionCode.COMMENT, value: encodeText(c) });
  }
}

function u64Opt(code: number, v: bigint | number | undefined, le: boolean, out: RawOption[]): void {
  if (v === undefined) return;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, u64(v), le);
  out.push({ code, value: b });
}

/**
 * Writes a pcapng file: a Section Header Block, one Interface Description Block per
 * {@link PcapngWriter.addInterface}, Enhanced Packet Blocks, and on request Interface
 * Statistics, Name Resolution, Decryption Secrets and Custom Blocks. Output is buffered.
 *
 * @example
 * ```ts
 * await using w = await PcapngWriter.open("out.pcapng", { section: { userApplication: "me" } });
 * const eth = w.addInterface({ linkType: 1, name: "eth0" });
 * w.writePacket({ interfaceId: eth, data, seconds: 1700000000, comments: ["hello"] });
 * ```
 */
export class PcapngWriter implements AsyncDisposable {
  #out: Output;
  #le: boolean;
  #ifaces: IfaceState[] = [];
  /** Byte order of the file. */
  readonly byteOrder: ByteOrder;
  /** Packets written so far. */
  packetsWritten = 0;

  private constructor(sink: Sink, options: PcapngWriterOptions) {
    this.#out = new Output(sink, options);
    this.byteOrder = options.byteOrder ?? "little";
    this.#le = this.byteOrder === "little";
    this.startSection(options.section ?? {});
    for (const i of options.interfaces ?? []) this.addInterface(i);
  }

  /** Opens a writer on a file path / `file:` URL (created or truncated) or a WritableStream. */
  static async open(target: WriteTarget, options: PcapngWriterOptions = {}): Promise<PcapngWriter> {
    if (typeof target === "string" || target instanceof URL) {
      return new PcapngWriter(await fileSink(target, false, 0), options);
    }
    return new PcapngWriter(targetSink(target), options);
  }

  /** A writer that keeps the file in memory: get it with {@link PcapngWriter.toBytes}. */
  static inMemory(options: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(memorySink(), options);
  }

  /** Bytes accepted so far. */
  get bytesWritten(): number {
    return this.#out.bytesWritten;
  }

  /** Number of interfaces in the current section. */
  get interfaceCount(): number {
    return this.#ifaces.length;
  }

  /** Writes a block with a fixed part of `fixed` bytes (filled by `fill`) and options. */
  #block(
    type: number,
    fixed: number,
    options: readonly RawOption[],
    fill: (v: DataView, buf: Uint8Array, at: number) => void,
  ): Promise<void> | undefined {
    const out = this.#out;
    out.check();
    const optLen = optionsSize(options);
    const total = 12 + fixed + optLen;
    const wait = out.reserve(total);
    const v = out.view, p = out.len, le = this.#le;
    v.setUint32(p, type, le);
    v.setUint32(p + 4, total, le);
    fill(v, out.buf, p + 8);
    writeOptions(out.buf, v, p + 8 + fixed, options, le);
    v.setUint32(p + total - 4, total, le);
    out.commit(total);
    return wait;
  }

  /**
   * Starts a new section (a new SHB); interfaces must be added again. The constructor starts
   * the first one.
   */
  startSection(section: SectionOptions = {}): void {
    const opts: RawOption[] = [];
    stringOpt(ShbOption.HARDWARE, section.hardware, opts);
    stringOpt(ShbOption.OS, section.os, opts);
    stringOpt(ShbOption.USER_APPLICATION, section.userApplication, opts);
    commentsOpts(section.comments, opts);
    opts.push(...toRawOptions(section.options));
    this.#ifaces = [];
    const le = this.#le;
    this.#block(BlockType.SHB, 16, opts, (v, _b, at) => {
      v.setUint32(at, 0x1a2b3c4d, le);
      v.setUint16(at + 4, 1, le);
      v.setUint16(at + 6, 0, le);
      v.setBigInt64(at + 8, -1n, le);
    });
  }

  /** Describes an interface (IDB); returns its id for {@link WritablePacket.interfaceId}. */
  addInterface(iface: InterfaceOptions): number {
    const linkType = iface.linkType;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
      throw new RangeError(`invalid link type ${linkType}`);
    }
    const snaplen = iface.snaplen ?? 0;
    if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0xffffffff) {
      throw new RangeError(`invalid snaplen ${snaplen}`);
    }
    const res = typeof iface.tsResolution === "number"
      ? { base: 10 as const, exponent: iface.tsResolution }
      : iface.tsResolution ?? { base: 10 as const, exponent: 9 };
    if (
      !Number.isInteger(res.exponent) || res.exponent < 0 ||
      res.exponent > (res.base === 10 ? 19 : 63) || (res.base !== 10 && res.base !== 2)
    ) {
      throw new RangeError(`invalid time stamp resolution ${res.base}^-${res.exponent}`);
    }
    const le = this.#le;
    const opts: RawOption[] = [];
    stringOpt(IdbOption.NAME, iface.name, opts);
    stringOpt(IdbOption.DESCRIPTION, iface.description, opts);
    for (const a of iface.ipv4Addresses ?? []) {
      const [addr, mask] = a.split("/");
      const b = new Uint8Array(8);
      b.set(parseIpv4(addr));
      b.set(mask === undefined ? [255, 255, 255, 255] : parseIpv4(mask), 4);
      opts.push({ code: IdbOption.IPV4_ADDRESS, value: b });
    }
    for (const a of iface.ipv6Addresses ?? []) {
      const [addr, prefix] = a.split("/");
      const b = new Uint8Array(17);
      b.set(parseIpv6(addr));
      b[16] = prefix === undefined ? 128 : Number(prefix);
      opts.push({ code: IdbOption.IPV6_ADDRESS, value: b });
    }
    if (iface.macAddress !== undefined) {
      opts.push({ code: IdbOption.MAC_ADDRESS, value: parseHexColons(iface.macAddress, 6) });
    }
    u64Opt(IdbOption.SPEED, iface.speed, le, opts);
    if (!(res.base === 10 && res.exponent === 6)) {
      opts.push({
        code: IdbOption.TSRESOL,
        value: Uint8Array.of(res.base === 2 ? 0x80 | res.exponent : res.exponent),
      });
    }
    if (iface.filter !== undefined) {
      const t = encodeText(iface.filter);
      const b = new Uint8Array(1 + t.length);
      b.set(t, 1);
      opts.push({ code: IdbOption.FILTER, value: b });
    }
    stringOpt(IdbOption.OS, iface.os, opts);
    if (iface.fcsLength !== undefined) {
      opts.push({ code: IdbOption.FCSLEN, value: Uint8Array.of(iface.fcsLength) });
    }
    if (iface.tsOffset !== undefined && BigInt(iface.tsOffset) !== 0n) {
      u64Opt(IdbOption.TSOFFSET, iface.tsOffset, le, opts);
    }
    stringOpt(IdbOption.HARDWARE, iface.hardware, opts);
    commentsOpts(iface.comments, opts);
    opts.push(...toRawOptions(iface.options));
    this.#block(BlockType.IDB, 8, opts, (v, _b, at) => {
      v.setUint16(at, linkType, le);
      v.setUint16(at + 2, 0, le);
      v.setUint32(at + 4, snaplen, le);
    });
    const unitsBig = res.base === 10 ? 10n ** BigInt(res.exponent) : 1n << BigInt(res.exponent);
    this.#ifaces.push({
      linkType,
      snaplen,
      units: unitsBig <= 0x100000000n ? Number(unitsBig) : 0,
      unitsBig,
      base: res.base,
      exponent: res.exponent,
      offset: Number(BigInt(iface.tsOffset ?? 0)),
    });
    return this.#ifaces.length - 1;
  }

  #iface(id: number): IfaceState {
    const s = this.#ifaces[id];
    if (s === undefined) throw new RangeError(`no interface ${id} in this section`);
    return s;
  }

  /** Encodes a time stamp for interface `s` into `v` at `at` (high word, low word). */
  #ts(s: IfaceState, seconds: number, ns: number, v: DataView, at: number): void {
    const le = this.#le;
    const sec = seconds - s.offset;
    let frac: number;
    if (s.base === 10) {
      frac = s.exponent <= 9
        ? Math.floor(ns / 10 ** (9 - s.exponent))
        : ns * 10 ** (s.exponent - 9);
    } else frac = Math.floor(ns * 2 ** s.exponent / 1e9);
    const u = s.units;
    if (u !== 0 && sec >= 0 && sec < 4294967296 && frac >= 0 && frac < u && Number.isInteger(sec)) {
      const rl = u % 65536, rh = (u - rl) / 65536;
      const x = sec * rl + frac;
      const y = sec * rh;
      const yl = y % 65536;
      const z = yl * 65536 + x;
      const zl = z % 4294967296;
      v.setUint32(at, (y - yl) / 65536 + (z - zl) / 4294967296, le);
      v.setUint32(at + 4, zl, le);
      return;
    }
    const t = BigInt.asUintN(
      64,
      BigInt(Math.trunc(sec)) * s.unitsBig +
        (s.base === 10 && s.exponent > 9
          ? BigInt(Math.trunc(ns)) * 10n ** BigInt(s.exponent - 9)
          : BigInt(Math.trunc(frac))),
    );
    v.setUint32(at, Number(t >> 32n), le);
    v.setUint32(at + 4, Number(t & 0xffffffffn), le);
  }

  /**
   * Buffers one packet as an Enhanced Packet Block. Returns a promise only when the target
   * is behind (backpressure), otherwise undefined.
   */
  writePacket(packet: WritablePacket): Promise<void> | undefined {
    const out = this.#out;
    out.check();
    const id = packet.interfaceId ?? 0;
    const s = this.#iface(id);
    const data = packet.data;
    const caplen = s.snaplen !== 0 && data.length > s.snaplen ? s.snaplen : data.length;
    let sec = packet.seconds, ns = packet.nanoseconds ?? 0;
    if (sec === undefined) ({ seconds: sec, nanoseconds: ns } = now());
    const le = this.#le;
    let opts: RawOption[] | null = null;
    if (packet.flags !== undefined || packet.comments?.length || packet.options?.length) {
      opts = [];
      commentsOpts(packet.comments, opts);
      if (packet.flags !== undefined) {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, packet.flags >>> 0, le);
        opts.push({ code: EpbOption.FLAGS, value: b });
      }
      for (const o of toRawOptions(packet.options)) {
        if (o.code !== OptionCode.COMMENT && o.code !== EpbOption.FLAGS && o.code !== 0) {
          opts.push(o);
        }
      }
    }
    const padded = (caplen + 3) & ~3;
    const optLen = opts ? optionsSize(opts) : 0;
    const total = 32 + padded + optLen;
    const wait = out.reserve(total);
    const v = out.view, p = out.len, buf = out.buf;
    v.setUint32(p, BlockType.EPB, le);
    v.setUint32(p + 4, total, le);
    v.setUint32(p + 8, id, le);
    this.#ts(s, sec, ns, v, p + 12);
    v.setUint32(p + 20, caplen, le);
    v.setUint32(p + 24, packet.length ?? data.length, le);
    buf.set(caplen === data.length ? data : data.subarray(0, caplen), p + 28);
    for (let i = p + 28 + caplen; i < p + 28 + padded; i++) buf[i] = 0;
    if (opts) writeOptions(buf, v, p + 28 + padded, opts, le);
    v.setUint32(p + total - 4, total, le);
    out.commit(total);
    this.packetsWritten++;
    return wait;
  }

  /** Writes an Interface Statistics Block for interface `interfaceId`. */
  writeStatistics(interfaceId: number, stats: StatisticsInput = {}): Promise<void> | undefined {
    const s = this.#iface(interfaceId);
    const le = this.#le;
    const opts: RawOption[] = [];
    const tsOpt = (code: number, t: Timestamp | undefined): void => {
      if (!t) return;
      const b = new Uint8Array(8);
      this.#ts(s, t.seconds, t.nanoseconds, new DataView(b.buffer), 0);
      opts.push({ code, value: b });
    };
    tsOpt(IsbOption.STARTTIME, stats.startTime);
    tsOpt(IsbOption.ENDTIME, stats.endTime);
    u64Opt(IsbOption.IFRECV, stats.received, le, opts);
    u64Opt(IsbOption.IFDROP, stats.dropped, le, opts);
    u64Opt(IsbOption.FILTERACCEPT, stats.filterAccepted, le, opts);
    u64Opt(IsbOption.OSDROP, stats.osDropped, le, opts);
    u64Opt(IsbOption.USRDELIV, stats.delivered, le, opts);
    commentsOpts(stats.comments, opts);
    const t = stats.timestamp ?? now();
    return this.#block(BlockType.ISB, 12, opts, (v, _b, at) => {
      v.setUint32(at, interfaceId, le);
      this.#ts(s, t.seconds, t.nanoseconds, v, at + 4);
    });
  }

  /** Writes a Name Resolution Block. */
  writeNameResolution(
    records: readonly NameResolutionInput[],
    options: { dnsName?: string; comments?: readonly string[] } = {},
  ): Promise<void> | undefined {
    const entries: { type: number; value: Uint8Array }[] = [];
    for (const r of records) {
      const type = r.type ??
        (r.address.includes(":") ? NrbRecordType.IPV6 : NrbRecordType.IPV4);
      const addr = type === NrbRecordType.IPV4
        ? parseIpv4(r.address)
        : type === NrbRecordType.IPV6
        ? parseIpv6(r.address)
        : type === NrbRecordType.EUI48
        ? parseHexColons(r.address, 6)
        : type === NrbRecordType.EUI64
        ? parseHexColons(r.address, 8)
        : Uint8Array.from(r.address.split(":").filter(Boolean), (h) => parseInt(h, 16));
      const names = r.names.map((n) => encodeText(n + "\0"));
      const len = addr.length + names.reduce((a, n) => a + n.length, 0);
      if (len > 0xffff) throw new RangeError("name resolution record too long");
      const value = new Uint8Array(len);
      value.set(addr);
      let o = addr.length;
      for (const n of names) {
        value.set(n, o);
        o += n.length;
      }
      entries.push({ type, value });
    }
    let fixed = 4;
    for (const e of entries) fixed += 4 + ((e.value.length + 3) & ~3);
    const opts: RawOption[] = [];
    commentsOpts(options.comments, opts);
    stringOpt(2, options.dnsName, opts);
    const le = this.#le;
    return this.#block(BlockType.NRB, fixed, opts, (v, buf, at) => {
      let p = at;
      for (const e of entries) {
        v.setUint16(p, e.type, le);
        v.setUint16(p + 2, e.value.length, le);
        buf.set(e.value, p + 4);
        const padded = (e.value.length + 3) & ~3;
        buf.fill(0, p + 4 + e.value.length, p + 4 + padded);
        p += 4 + padded;
      }
      v.setUint32(p, 0, le);
    });
  }

  /** Writes a Custom Block (`copyAllowed` picks 0x00000BAD, default, or 0x40000BAD). */
  writeCustomBlock(
    block: { pen: number; data: Uint8Array; copyAllowed?: boolean },
  ): Promise<void> | undefined {
    const le = this.#le;
    const padded = (block.data.length + 3) & ~3;
    return this.#block(
      block.copyAllowed === false ? BlockType.CUSTOM_NO_COPY : BlockType.CUSTOM_COPY,
      4 + padded,
      [],
      (v, buf, at) => {
        v.setUint32(at, block.pen >>> 0, le);
        buf.set(block.data, at + 4);
        buf.fill(0, at + 4 + block.data.length, at + 4 + padded);
      },
    );
  }

  /** Writes a Decryption Secrets Block. */
  writeDecryptionSecrets(
    secretsType: number,
    data: Uint8Array,
    comments?: readonly string[],
  ): Promise<void> | undefined {
    const le = this.#le;
    const padded = (data.length + 3) & ~3;
    const opts: RawOption[] = [];
    commentsOpts(comments, opts);
    return this.#block(BlockType.DSB, 8 + padded, opts, (v, buf, at) => {
      v.setUint32(at, secretsType >>> 0, le);
      v.setUint32(at + 4, data.length, le);
      buf.set(data, at + 8);
      buf.fill(0, at + 8 + data.length, at + 8 + padded);
    });
  }

  /** Writes everything buffered to the target and waits for it. */
  flush(): Promise<void> {
    return this.#out.flush();
  }

  /** Flushes and closes the target. Idempotent. */
  close(): Promise<void> {
    return this.#out.close();
  }

  /** Same as {@link PcapngWriter.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** In-memory writers: the chunks written so far. */
  get chunks(): readonly Uint8Array[] {
    return this.#out.memoryChunks();
  }

  /** In-memory writers: the whole file so far as one array. */
  toBytes(): Uint8Array {
    return this.#out.toBytes();
  }
}
