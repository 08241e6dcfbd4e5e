/**
 * The packet record object produced by the readers.
 *
 * @module
 */

import { EpbOption, OptionCode } from "./types.ts";
import type { InterfaceInfo, PacketRecord, PcapngOption } from "./types.ts";
import { decodeText, parseOptions } from "./options.ts";
import { newInterface } from "./decoder.ts";

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_OPTIONS: readonly PcapngOption[] = Object.freeze([]);
const EMPTY_STRINGS: readonly string[] = Object.freeze([]);
const TWO32 = 4294967296;

/**
 * A buffer records lie in, with what their lazy fields need: the `ArrayBuffer` and byte
 * offset (for the `data` views), a DataView (for the header fields) and the file offset of
 * the buffer's first byte. The decoders make one per buffer position (`setBuffer`).
 * @internal
 */
export class Chunk {
  readonly bytes: Uint8Array;
  readonly ab: ArrayBufferLike;
  readonly abOff: number;
  readonly view: DataView;
  /** File offset of `bytes[0]`. */
  readonly base: number;

  constructor(bytes: Uint8Array, view: DataView | null, base: number) {
    this.bytes = bytes;
    this.ab = bytes.buffer;
    this.abOff = bytes.byteOffset;
    this.view = view ?? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.base = base;
  }
}

/**
 * What the lazy header fields of a record need to know about its interface: the interface,
 * the byte order, and how to read the time stamps (pcap: the fraction's unit; pcapng: the
 * interface's resolution and offset). One per pcap file, one per pcapng interface.
 * @internal
 */
export class RecordIface {
  info: InterfaceInfo;
  /** `info.linkType` (read by the records' `linkType` accessor with one load less). */
  readonly linkType: number;
  little: boolean;
  /** pcap: nanoseconds per unit of the time stamp fraction (1000 or 1). */
  frac = 1000;
  /** pcap: 0: lengths not swapped, 1: maybe swapped (2.3), 2: swapped (< 2.3, 543.0). */
  lengthsSwapped = 0;
  /** pcapng: units per second when <= 2^32, else 0 (BigInt path). */
  units = 1000000;
  unitsBig = 1000000n;
  /** pcapng: 0: units = 1e9; 1: decimal, multiply; 2: binary shift (exponent <= 32); 3: BigInt. */
  mode = 1;
  mul = 1000;
  shift = 0;
  /** pcapng: `if_tsoffset`, in seconds. */
  tsOffset = 0;
  /** pcapng: the last time stamp converted (of the block at `tsHdr` in `tsChunk`). */
  tsChunk: Chunk | null = null;
  tsHdr = -1;
  tsSec = 0;
  tsNs = 0;

  constructor(info: InterfaceInfo, little: boolean) {
    this.info = info;
    this.linkType = info.linkType;
    this.little = little;
  }

  /** Sets the pcapng time stamp resolution and offset. */
  setResolution(base: 10 | 2, exponent: number, offset: bigint): this {
    this.unitsBig = base === 10 ? 10n ** BigInt(exponent) : 1n << BigInt(exponent);
    this.tsOffset = Number(BigInt.asIntN(64, offset));
    this.mul = 1;
    this.shift = 0;
    if (this.unitsBig > 0x100000000n) {
      this.units = 0;
      this.mode = 3;
    } else {
      this.units = Number(this.unitsBig);
      if (this.units === 1e9) this.mode = 0;
      else if (base === 10) {
        this.mode = 1;
        this.mul = 1e9 / this.units;
      } else {
        this.mode = 2;
        this.shift = exponent;
      }
    }
    return this;
  }
}

/** Result of {@link convertTimestamp}: seconds. @internal */
export let tsSeconds = 0;
/** Result of {@link convertTimestamp}: nanoseconds. @internal */
export let tsNanos = 0;

/**
 * Converts the 64-bit pcapng time stamp `high:low` of interface `rt` into {@link tsSeconds}
 * and {@link tsNanos}.
 * @internal
 */
export function convertTimestamp(rt: RecordIface, high: number, low: number): void {
  let sec: number, frac: number;
  const mode = rt.mode;
  if (mode === 3) {
    const t = BigInt(high) * 4294967296n + BigInt(low);
    const u = rt.unitsBig;
    sec = Number(t / u);
    tsNanos = Number(((t % u) * 1000000000n) / u);
    tsSeconds = sec + rt.tsOffset;
    return;
  }
  const u = rt.units;
  if (high < 0x100000) {
    const t = high * TWO32 + low;
    sec = Math.floor(t / u);
    frac = t - sec * u;
    if (frac < 0) {
      sec--;
      frac += u;
    } else if (frac >= u) {
      sec++;
      frac -= u;
    }
  } else {
    // Long division in base 2^16: every intermediate stays below 2^53.
    let x = high >>> 16;
    let q = Math.floor(x / u);
    let r = x - q * u;
    sec = q;
    x = r * 65536 + (high & 0xffff);
    q = Math.floor(x / u);
    r = x - q * u;
    if (r < 0) (q--, r += u);
    else if (r >= u) (q++, r -= u);
    sec = sec * 65536 + q;
    x = r * 65536 + (low >>> 16);
    q = Math.floor(x / u);
    r = x - q * u;
    if (r < 0) (q--, r += u);
    else if (r >= u) (q++, r -= u);
    sec = sec * 65536 + q;
    x = r * 65536 + (low & 0xffff);
    q = Math.floor(x / u);
    r = x - q * u;
    if (r < 0) (q--, r += u);
    else if (r >= u) (q++, r -= u);
    sec = sec * 65536 + q;
    frac = r;
  }
  if (mode === 0) tsNanos = frac;
  else if (mode === 1) tsNanos = frac * rt.mul;
  else {
    const s = rt.shift;
    tsNanos = s <= 9 ? frac * 1e9 / 2 ** s : Math.floor(frac * 1953125 / 2 ** (s - 9));
  }
  tsSeconds = sec + rt.tsOffset;
}

const BLANK_CHUNK = new Chunk(EMPTY_BYTES, null, 0);
const BLANK_IFACE = new RecordIface(newInterface(0, 0, 0, 0, 0, 0), true);

/**
 * The concrete {@link PacketRecord}. The decoders set only where the record lies (`chunk`,
 * `hdr`, `dataOffset`, `caplen`, `end`) and its interface (`ifc`); the other fields are
 * read from the record's header when asked for, the `data` view is made on first access, and
 * pcapng options are parsed on first access of `flags`, `comments` or `options`.
 * @internal
 */
export class Packet implements PacketRecord {
  /** The buffer the record lies in. */
  chunk: Chunk = BLANK_CHUNK;
  /** The record's interface (byte order, time stamp format). */
  ifc: RecordIface = BLANK_IFACE;
  /** Offset of the record's header (pcap) or block (pcapng) in `chunk.bytes`. */
  hdr = 0;
  /** Offset of the captured bytes in `bytes`. */
  dataOffset = 0;
  /** Number of captured bytes (`data.length`). */
  caplen = 0;
  /** The `data` view, once made (the decoders reset it to null with every record). */
  view: Uint8Array | null = null;
  /** pcapng block type ({@link BlockType.EPB}, SPB or PB); 0 for a pcap record. */
  blockType = 0;
  /** pcapng EPB / PB: end of the block body (the options lie before it); 0 otherwise. */
  end = 0;
  /** Parsed options cache (the decoders reset it to null with every pcapng record). */
  parsedOptions: readonly PcapngOption[] | null = null;

  /** The captured bytes: a view of `bytes`, made on first access and then cached. */
  get data(): Uint8Array {
    const v = this.view;
    if (v !== null) return v;
    const c = this.chunk;
    return (this.view = new Uint8Array(c.ab, c.abOff + this.dataOffset, this.caplen));
  }

  /** The buffer holding the captured bytes. */
  get bytes(): Uint8Array {
    return this.chunk.bytes;
  }

  /** Interface id (pcapng: inside the section; pcap: 0). */
  get interfaceId(): number {
    return this.ifc.info.id;
  }

  /** Link type of the packet's interface. */
  get linkType(): number {
    return this.ifc.linkType;
  }

  /** The packet's interface. */
  get interface(): InterfaceInfo {
    return this.ifc.info;
  }

  /** Byte offset of the record in the file. */
  get offset(): number {
    return this.chunk.base + this.hdr;
  }

  get seconds(): number {
    const bt = this.blockType, rt = this.ifc, c = this.chunk, h = this.hdr;
    if (bt === 0) return c.view.getInt32(h, rt.little);
    if (bt === 3) return 0;
    if (rt.tsHdr !== h || rt.tsChunk !== c) this.#convert();
    return rt.tsSec;
  }

  get nanoseconds(): number {
    const bt = this.blockType, rt = this.ifc, c = this.chunk, h = this.hdr;
    if (bt === 0) return c.view.getInt32(h + 4, rt.little) * rt.frac;
    if (bt === 3) return 0;
    if (rt.tsHdr !== h || rt.tsChunk !== c) this.#convert();
    return rt.tsNs;
  }

  /**
   * Converts the pcapng time stamp into the interface's one-entry cache (so that reading
   * `seconds` and then `nanoseconds` converts once).
   */
  #convert(): void {
    const rt = this.ifc, c = this.chunk, h = this.hdr, v = c.view;
    convertTimestamp(rt, v.getUint32(h + 12, rt.little), v.getUint32(h + 16, rt.little));
    rt.tsSec = tsSeconds;
    rt.tsNs = tsNanos;
    rt.tsChunk = c;
    rt.tsHdr = h;
  }

  get length(): number {
    const bt = this.blockType, rt = this.ifc, v = this.chunk.view, h = this.hdr;
    if (bt === 0) {
      let len = v.getUint32(h + 12, rt.little);
      const swapped = rt.lengthsSwapped;
      if (swapped !== 0) {
        const c = v.getUint32(h + 8, rt.little);
        if (swapped === 2 || c > len) len = c;
      }
      return len;
    }
    return v.getUint32(bt === 3 ? h + 8 : h + 24, rt.little);
  }

  /** Start of the options in `bytes` (pcapng EPB / PB). */
  #optStart(): number {
    return this.dataOffset + ((this.caplen + 3) & ~3);
  }

  get options(): readonly PcapngOption[] {
    if (this.parsedOptions) return this.parsedOptions;
    const start = this.#optStart(), end = this.end;
    if (end <= start) return (this.parsedOptions = EMPTY_OPTIONS);
    const c = this.chunk;
    return (this.parsedOptions = parseOptions(
      c.bytes,
      c.view,
      start,
      end,
      this.ifc.little,
      0,
      "packet block",
      false,
    ));
  }

  get flags(): number | undefined {
    if (this.end <= this.#optStart()) return undefined;
    for (const o of this.options) {
      if (o.code === EpbOption.FLAGS && o.value.length === 4) {
        return new DataView(o.value.buffer, o.value.byteOffset, 4).getUint32(0, this.ifc.little);
      }
    }
    return undefined;
  }

  get comments(): readonly string[] {
    if (this.end <= this.#optStart()) return EMPTY_STRINGS;
    const out: string[] = [];
    for (const o of this.options) if (o.code === OptionCode.COMMENT) out.push(decodeText(o.value));
    return out;
  }

  /** A detached copy: the record's header (or block) and data copied into a new buffer. */
  copy(): PacketRecord {
    const h = this.hdr;
    const stop = Math.max(this.end, this.dataOffset + this.caplen);
    const chunk = this.chunk;
    const p = new Packet();
    p.chunk = new Chunk(chunk.bytes.slice(h, stop), null, chunk.base + h);
    p.ifc = this.ifc;
    p.dataOffset = this.dataOffset - h;
    p.caplen = this.caplen;
    p.blockType = this.blockType;
    p.end = this.end === 0 ? 0 : this.end - h;
    return p;
  }

  /** For `console.log` and JSON: the plain fields. */
  toJSON(): Record<string, unknown> {
    return {
      interfaceId: this.interfaceId,
      linkType: this.linkType,
      seconds: this.seconds,
      nanoseconds: this.nanoseconds,
      caplen: this.caplen,
      length: this.length,
      blockType: this.blockType,
      offset: this.offset,
      flags: this.flags,
      comments: this.comments,
    };
  }
}
