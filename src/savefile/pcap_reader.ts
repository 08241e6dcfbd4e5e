/**
 * Classic pcap decoder (all four magics, both byte orders), following libpcap 1.10's
 * `sf-pcap.c` checks so that it stops where libpcap stops.
 *
 * @module
 * @internal
 */

import { PcapFormatError } from "../errors.ts";
import type { InterfaceInfo } from "./types.ts";
import { PcapMagic } from "./types.ts";
import type { Packet } from "./record.ts";
import { RecordIface } from "./record.ts";
import {
  Decoder,
  linkTypeToDlt,
  maxSnaplenFor,
  NEED,
  newInterface,
  READY,
  RECORD,
} from "./decoder.ts";

/** Which pcap magic `m` (read little-endian) is, or null. */
export function pcapMagicOf(
  m: number,
): { little: boolean; nano: boolean; modified: boolean } | null {
  const swapped = ((m & 0xff) << 24 | (m & 0xff00) << 8 | (m >>> 8) & 0xff00 | m >>> 24) >>> 0;
  for (const [v, little] of [[m >>> 0, true], [swapped, false]] as const) {
    if (v === PcapMagic.MICRO) return { little, nano: false, modified: false };
    if (v === PcapMagic.NANO) return { little, nano: true, modified: false };
    if (v === PcapMagic.MODIFIED) return { little, nano: false, modified: true };
  }
  return null;
}

/** Decoder for classic pcap files. */
export class PcapDecoder extends Decoder {
  little = true;
  nano = false;
  modified = false;
  hdrLen = 16;
  snapshot = 0;
  maxCaplen = 262144;
  /** 0: not swapped, 1: maybe swapped (2.3), 2: swapped (< 2.3, 543.0). */
  lengthsSwapped = 0;
  frac = 1000;
  /** True when records can take the fast path (16-byte headers, lengths not swapped). */
  fast = false;
  /**
   * Largest caplen the fast path takes (not above the maximum or the snapshot length); -1
   * while the fast path is off (before the file header, or for other record layouts).
   */
  fastMax = -1;
  /** The records' interface (byte order, time stamp unit). */
  rif: RecordIface;
  iface: InterfaceInfo;
  override blankInterface: InterfaceInfo;

  constructor() {
    super();
    this.iface = newInterface(0, 0, 0, 0, 0, 0);
    this.blankInterface = this.iface;
    this.rif = new RecordIface(this.iface, true);
  }

  next(rec: Packet): number {
    const p = this.pos, d = p + 16;
    const end = this.end;
    if (d <= end) {
      // the common case: a standard 16-byte header, unswapped lengths, caplen within limits
      // (fastMax is -1 when the header is not read yet or the records have another layout)
      const caplen = this.view.getUint32(p + 8, this.little);
      if (caplen <= this.fastMax && d + caplen <= end) {
        // (a reused record keeps its chunk for a whole buffer; a record already in this chunk
        // has this file's interface too: there is one, set by the header before any record)
        const chunk = this.chunk;
        if (rec.chunk !== chunk) {
          rec.chunk = chunk;
          rec.ifc = this.rif;
        }
        rec.hdr = p;
        rec.dataOffset = d;
        rec.caplen = caplen;
        rec.view = null;
        this.pos = d + caplen;
        return RECORD;
      }
    }
    return this.#next(rec);
  }

  /** The general case of {@link PcapDecoder.next} (kept apart so that `next` can be inlined). */
  #next(rec: Packet): number {
    const p = this.pos;
    if (!this.ready) {
      // The file header. (Read here rather than in a method of its own: this function is then
      // too big for the JIT to inline into the callers' loops, whose inlining budget it would
      // use up although it runs once per buffer.)
      const avail = this.end - this.pos;
      if (avail < 24) {
        this.need = 24;
        return NEED;
      }
      const v = this.view, p = this.pos;
      const m = pcapMagicOf(v.getUint32(p, true));
      if (!m) throw new PcapFormatError(this.base + p, "unknown file format");
      const le = m.little;
      this.little = le;
      this.nano = m.nano;
      this.modified = m.modified;
      this.frac = m.nano ? 1 : 1000;
      const major = v.getUint16(p + 4, le), minor = v.getUint16(p + 6, le);
      const snaplen = v.getUint32(p + 16, le);
      const field = v.getUint32(p + 20, le);
      if (major < 2) throw new PcapFormatError(this.base + p + 4, "archaic pcap savefile format");
      if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
        throw new PcapFormatError(
          this.base + p + 4,
          `unsupported pcap savefile version ${major}.${minor}`,
        );
      }
      this.lengthsSwapped = major === 543 || minor < 3 ? 2 : minor === 3 ? 1 : 0;
      const linkType = field & 0x03ffffff;
      const dlt = linkTypeToDlt(linkType);
      this.maxCaplen = maxSnaplenFor(dlt);
      let snapshot = snaplen | 0;
      if (snapshot <= 0) snapshot = maxSnaplenFor(field);
      this.hdrLen = m.modified ? 24 : 16;
      if (m.modified && dlt === 1) {
        snapshot = snapshot <= 0x7fffffff - 14 ? snapshot + 14 : 0x7fffffff;
      }
      this.snapshot = snapshot;
      const ext = (field & 0xfc000000) >>> 0;
      const fcsLength = field & 0x04000000 ? ((field >>> 28) & 0xf) * 2 : undefined;
      const iface = newInterface(0, 0, 0, linkType, snaplen, 0);
      iface.fcsLength = fcsLength;
      iface.tsResolution = { base: 10, exponent: m.nano ? 9 : 6 };
      this.iface = iface;
      this.blankInterface = iface;
      const rif = new RecordIface(iface, le);
      rif.frac = this.frac;
      rif.lengthsSwapped = this.lengthsSwapped;
      this.rif = rif;
      this.interfaces.push(iface);
      this.sections.push({
        index: 0,
        offset: 0,
        byteOrder: le ? "little" : "big",
        versionMajor: major,
        versionMinor: minor,
        sectionLength: -1n,
        hardware: undefined,
        os: undefined,
        userApplication: undefined,
        comments: [],
        options: [],
        interfaces: [iface],
      });
      this.savefileInfo = {
        format: "pcap",
        byteOrder: le ? "little" : "big",
        versionMajor: major,
        versionMinor: minor,
        magic: m.nano ? PcapMagic.NANO : m.modified ? PcapMagic.MODIFIED : PcapMagic.MICRO,
        snaplen,
        linkType,
        linkTypeField: field,
        linkTypeExt: ext,
        fcsLength,
        tsPrecision: m.nano ? "nano" : "micro",
        recordHeaderLength: this.hdrLen,
      };
      this.pos = p + 24;
      this.ready = true;
      this.fast = this.hdrLen === 16 && this.lengthsSwapped === 0;
      this.fastMax = this.fast ? Math.min(this.maxCaplen, this.snapshot) : -1;
      return READY;
    }
    const avail = this.end - p;
    const hl = this.hdrLen;
    if (avail < hl) {
      this.need = hl;
      return NEED;
    }
    const v = this.view, le = this.little;
    let caplen = v.getUint32(p + 8, le);
    if (this.lengthsSwapped !== 0) {
      // (the record's `length` getter swaps the same way)
      const len = v.getUint32(p + 12, le);
      if (this.lengthsSwapped === 2 || caplen > len) caplen = len;
    }
    if (caplen > this.maxCaplen) {
      throw new PcapFormatError(
        this.base + p + 8,
        caplen > this.snapshot
          ? `invalid packet capture length ${caplen}, bigger than snaplen of ${this.snapshot}`
          : `invalid packet capture length ${caplen}, bigger than maximum of ${this.maxCaplen}`,
      );
    }
    if (avail < hl + caplen) {
      this.need = hl + caplen;
      return NEED;
    }
    const take = caplen > this.snapshot ? this.snapshot : caplen;
    const dp = p + hl;
    rec.chunk = this.chunk;
    rec.ifc = this.rif;
    rec.hdr = p;
    rec.dataOffset = dp;
    rec.caplen = take;
    rec.view = null;
    this.pos = dp + caplen;
    return RECORD;
  }

  finish(): void {
    const avail = this.end - this.pos;
    if (avail === 0) {
      if (!this.ready) {
        throw new PcapFormatError(
          this.base + this.pos,
          "truncated dump file; tried to read 24 file header bytes, only got 0",
        );
      }
      return;
    }
    const at = this.base + this.end;
    if (!this.ready) {
      throw new PcapFormatError(
        at,
        `truncated dump file; tried to read 24 file header bytes, only got ${avail - 4}`,
      );
    }
    if (avail < this.hdrLen) {
      throw new PcapFormatError(
        at,
        `truncated dump file; tried to read ${this.hdrLen} header bytes, only got ${avail}`,
      );
    }
    const wanted = this.need - this.hdrLen;
    throw new PcapFormatError(
      at,
      `truncated dump file; tried to read ${
        Math.min(wanted, this.snapshot)
      } captured bytes, only got ${avail - this.hdrLen}`,
    );
  }
}
