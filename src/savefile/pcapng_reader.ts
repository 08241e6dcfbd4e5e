/**
 * pcapng decoder. Block framing and IDB checks follow libpcap 1.10's `sf-pcapng.c` (same
 * stopping point on malformed files); like Wireshark, it also reads files whose interfaces
 * differ in link type or snapshot length, and sections of different byte orders.
 *
 * @module
 * @internal
 */

import { PcapFormatError } from "../errors.ts";
import type {
  InterfaceInfo,
  InterfaceStatistics,
  NameResolutionRecord,
  PcapngOption,
  SectionInfo,
  Timestamp,
} from "./types.ts";
import { BlockType, IdbOption, IsbOption, NrbRecordType, ShbOption } from "./types.ts";
import {
  commentsOf,
  decodeText,
  hexColons,
  ipv4Text,
  ipv6Text,
  parseOptions,
  textOption,
} from "./options.ts";
import type { Packet } from "./record.ts";
import { convertTimestamp, RecordIface, tsNanos, tsSeconds } from "./record.ts";
import type { MutableInterface } from "./decoder.ts";
import { Decoder, maxSnaplenFor, NEED, newInterface, READY, RECORD } from "./decoder.ts";

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const SHB_INSANE_MAX = 1024 * 1024;
const INITIAL_MAX_BLOCKSIZE = 16 * 1024 * 1024;

type MutableSection = { -readonly [K in keyof SectionInfo]: SectionInfo[K] } & {
  interfaces: InterfaceInfo[];
};

/** Decoder for pcapng files. */
export class PcapngDecoder extends Decoder {
  /** 0: first SHB, 1: looking for the first IDB, 2: reading packets. */
  state = 0;
  little = true;
  maxBlock = INITIAL_MAX_BLOCKSIZE;
  /** The current section's interfaces, by id. */
  ifaces: RecordIface[] = [];
  section: MutableSection | null = null;
  override blankInterface: InterfaceInfo = newInterface(0, 0, 0, -1, 0, 0);

  #fail(at: number, reason: string): never {
    throw new PcapFormatError(this.base + at, reason);
  }

  #tsOf(rt: RecordIface | undefined, high: number, low: number): Timestamp {
    if (!rt) {
      rt = new RecordIface(newInterface(0, 0, 0, 0, 0, 0), this.little).setResolution(10, 6, 0n);
    }
    convertTimestamp(rt, high, low);
    return { seconds: tsSeconds, nanoseconds: tsNanos };
  }

  next(rec: Packet): number {
    const p = this.pos;
    if (this.state === 2 && this.end - p >= 32) {
      // The common case: an Enhanced Packet Block of a known interface, complete in the buffer.
      const v = this.view, le = this.little;
      const len = v.getUint32(p + 4, le);
      if (
        v.getUint32(p, le) === BlockType.EPB && len >= 32 && (len & 3) === 0 &&
        len <= this.end - p && len <= this.maxBlock && v.getUint32(p + len - 4, le) === len
      ) {
        const rt = this.ifaces[v.getUint32(p + 8, le)];
        const caplen = v.getUint32(p + 20, le);
        if (rt !== undefined && caplen <= len - 32) {
          const chunk = this.chunk;
          // (a reused record mostly keeps its chunk, interface and block type)
          if (rec.chunk !== chunk) rec.chunk = chunk;
          if (rec.ifc !== rt) rec.ifc = rt;
          rec.hdr = p;
          rec.dataOffset = p + 28;
          rec.caplen = caplen;
          rec.view = null;
          if (rec.blockType !== 6) rec.blockType = 6;
          rec.end = p + len - 4;
          if (rec.parsedOptions !== null) rec.parsedOptions = null;
          this.pos = p + len;
          return RECORD;
        }
      }
    }
    return this.#next(rec);
  }

  /** The general case of {@link PcapngDecoder.next}: any block, or bytes missing. */
  #next(rec: Packet): number {
    for (;;) {
      const p = this.pos;
      const avail = this.end - p;
      if (this.state === 0) {
        if (this.#firstShb() === NEED) return NEED;
        continue;
      }
      if (avail < 8) {
        this.need = 8;
        return NEED;
      }
      const v = this.view;
      let le = this.little;
      const type = v.getUint32(p, le);
      if (type === BlockType.SHB) {
        if (avail < 12) {
          this.need = 12;
          return NEED;
        }
        const bom = v.getUint32(p + 8, true);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else this.#fail(p + 8, "the file has a section with a bad byte order magic field");
      }
      const len = v.getUint32(p + 4, le);
      if (len < 12) this.#fail(p + 4, `block in pcapng dump file has a length of ${len} < 12`);
      if ((len & 3) !== 0) {
        this.#fail(
          p + 4,
          `block in pcapng dump file has a length of ${len} that is not a multiple of 4`,
        );
      }
      if (len > this.maxBlock) {
        this.#fail(p + 4, `pcapng block size ${len} > maximum ${this.maxBlock}`);
      }
      if (avail < len) {
        this.need = len;
        return NEED;
      }
      if (v.getUint32(p + len - 4, le) !== len) {
        this.#fail(p + len - 4, "block total length in header and trailer don't match");
      }
      const body = p + 8, bodyEnd = p + len - 4;
      switch (type) {
        case BlockType.EPB:
        case BlockType.PB: {
          if (bodyEnd - body < 20) {
            this.#fail(p, `block of type ${type} in pcapng dump file is too short`);
          }
          const id = type === BlockType.EPB ? v.getUint32(body, le) : v.getUint16(body, le);
          const rt = this.ifaces[id];
          if (rt === undefined) this.#noInterface(p, id);
          const caplen = v.getUint32(body + 12, le);
          const d = body + 20;
          if (caplen > bodyEnd - d) {
            this.#fail(p, `block of type ${type} in pcapng dump file is too short`);
          }
          rec.chunk = this.chunk;
          rec.ifc = rt;
          rec.hdr = p;
          rec.dataOffset = d;
          rec.caplen = caplen;
          rec.view = null;
          rec.blockType = type;
          rec.end = bodyEnd;
          rec.parsedOptions = null;
          this.pos = p + len;
          return RECORD;
        }
        case BlockType.SPB: {
          if (bodyEnd - body < 4) this.#fail(p, "block of type 3 in pcapng dump file is too short");
          const rt = this.ifaces[0];
          if (rt === undefined) this.#noInterface(p, 0);
          const plen = v.getUint32(body, le);
          const snap = rt.info.snaplen;
          const caplen = snap !== 0 && plen > snap ? snap : plen;
          const d = body + 4;
          if (caplen > bodyEnd - d) {
            this.#fail(p, "block of type 3 in pcapng dump file is too short");
          }
          rec.chunk = this.chunk;
          rec.ifc = rt;
          rec.hdr = p;
          rec.dataOffset = d;
          rec.caplen = caplen;
          rec.view = null;
          rec.blockType = 3;
          rec.end = 0;
          rec.parsedOptions = null;
          this.pos = p + len;
          return RECORD;
        }
        case BlockType.IDB:
          this.#idb(p, body, bodyEnd, le);
          this.pos = p + len;
          if (this.state === 1) {
            this.state = 2;
            this.#setInfo();
            return READY;
          }
          continue;
        case BlockType.SHB:
          this.#shb(p, body, bodyEnd, le);
          this.pos = p + len;
          continue;
        case BlockType.NRB:
          this.#nrb(p, body, bodyEnd, le);
          break;
        case BlockType.ISB:
          this.#isb(p, body, bodyEnd, le);
          break;
        case BlockType.DSB:
          this.#dsb(p, body, bodyEnd, le);
          break;
        case BlockType.CUSTOM_COPY:
        case BlockType.CUSTOM_NO_COPY:
          if (bodyEnd - body >= 4) {
            this.customBlocks.push({
              type,
              sectionIndex: this.sections.length - 1,
              offset: this.base + p,
              pen: v.getUint32(body, le),
              data: this.buf.slice(body + 4, bodyEnd),
              copyAllowed: type === BlockType.CUSTOM_COPY,
            });
          }
          break;
        default:
          break;
      }
      this.pos = p + len;
    }
  }

  #noInterface(p: number, id: number): never {
    if (this.state === 1) {
      this.#fail(
        p,
        "the capture file has a packet block before any Interface Description Blocks",
      );
    }
    this.#fail(
      p,
      `a packet arrived on interface ${id}, but there's no Interface Description Block for that interface`,
    );
  }

  #firstShb(): number {
    const p = this.pos, avail = this.end - p;
    if (avail < 12) {
      this.need = 12;
      return NEED;
    }
    const v = this.view;
    const bom = v.getUint32(p + 8, true);
    let le: boolean;
    if (bom === BYTE_ORDER_MAGIC) le = true;
    else if (bom === 0x4d3c2b1a) le = false;
    else return this.#fail(p, "unknown file format");
    const len = v.getUint32(p + 4, le);
    if (len < 28 || len > SHB_INSANE_MAX) {
      this.#fail(
        p + 4,
        `Section Header Block in pcapng dump file has invalid length 28 < _${len}_ < ${SHB_INSANE_MAX} (BT_SHB_INSANE_MAX)`,
      );
    }
    if (avail < len) {
      this.need = len;
      return NEED;
    }
    if (v.getUint32(p + len - 4, le) !== len) {
      this.#fail(p + len - 4, "block total length in header and trailer don't match");
    }
    const major = v.getUint16(p + 12, le), minor = v.getUint16(p + 14, le);
    if (!(major === 1 && (minor === 0 || minor === 2))) {
      this.#fail(p + 12, `unsupported pcapng savefile version ${major}.${minor}`);
    }
    this.#shb(p, p + 8, p + len - 4, le);
    this.pos = p + len;
    this.state = 1;
    return READY;
  }

  #shb(p: number, body: number, bodyEnd: number, le: boolean): void {
    const v = this.view;
    if (bodyEnd - body < 16) {
      this.#fail(p, "block of type 168627466 in pcapng dump file is too short");
    }
    const major = v.getUint16(body + 4, le), minor = v.getUint16(body + 6, le);
    if (major !== 1) this.#fail(body + 4, `unknown pcapng savefile major version number ${major}`);
    const options = parseOptions(
      this.buf,
      v,
      body + 16,
      bodyEnd,
      le,
      this.base,
      "Section Header Block",
      false,
    );
    const copied = copyOptions(options);
    const section: MutableSection = {
      index: this.sections.length,
      offset: this.base + p,
      byteOrder: le ? "little" : "big",
      versionMajor: major,
      versionMinor: minor,
      sectionLength: v.getBigInt64(body + 8, le),
      hardware: textOption(copied, ShbOption.HARDWARE),
      os: textOption(copied, ShbOption.OS),
      userApplication: textOption(copied, ShbOption.USER_APPLICATION),
      comments: commentsOf(copied),
      options: copied,
      interfaces: [],
    };
    this.sections.push(section);
    this.section = section;
    this.little = le;
    this.ifaces = [];
  }

  #idb(p: number, body: number, bodyEnd: number, le: boolean): void {
    const v = this.view;
    if (bodyEnd - body < 8) this.#fail(p, "block of type 1 in pcapng dump file is too short");
    const linkType = v.getUint16(body, le);
    const snaplen = v.getUint32(body + 4, le);
    const options = copyOptions(
      parseOptions(
        this.buf,
        v,
        body + 8,
        bodyEnd,
        le,
        this.base,
        "Interface Description Block",
        true,
      ),
    );
    const section = this.section!;
    const info = newInterface(
      section.interfaces.length,
      section.index,
      this.interfaces.length,
      linkType,
      snaplen,
      this.base + p,
    );
    info.options = options;
    let base: 10 | 2 = 10, exponent = 6, sawRes = false, sawOff = false;
    for (const o of options) {
      const val = o.value;
      const dv = new DataView(val.buffer, val.byteOffset, val.byteLength);
      switch (o.code) {
        case IdbOption.TSRESOL: {
          if (val.length !== 1) {
            this.#fail(
              p,
              `Interface Description Block has if_tsresol option with length ${val.length} != 1`,
            );
          }
          if (sawRes) {
            this.#fail(p, "Interface Description Block has more than one if_tsresol option");
          }
          sawRes = true;
          const r = val[0];
          if (r & 0x80) {
            if ((r & 0x7f) > 63) {
              this.#fail(
                p,
                `Interface Description Block if_tsresol option resolution 2^-${
                  r & 0x7f
                } is too high`,
              );
            }
            base = 2;
            exponent = r & 0x7f;
          } else {
            if (r > 19) {
              this.#fail(
                p,
                `Interface Description Block if_tsresol option resolution 10^-${r} is too high`,
              );
            }
            base = 10;
            exponent = r;
          }
          break;
        }
        case IdbOption.TSOFFSET:
          if (val.length !== 8) {
            this.#fail(
              p,
              `Interface Description Block has if_tsoffset option with length ${val.length} != 8`,
            );
          }
          if (sawOff) {
            this.#fail(p, "Interface Description Block has more than one if_tsoffset option");
          }
          sawOff = true;
          info.tsOffset = dv.getBigInt64(0, le);
          break;
        case IdbOption.NAME:
          info.name ??= decodeText(val);
          break;
        case IdbOption.DESCRIPTION:
          info.description ??= decodeText(val);
          break;
        case IdbOption.IPV4_ADDRESS:
          if (val.length >= 8) info.ipv4Addresses.push(`${ipv4Text(val)}/${ipv4Text(val, 4)}`);
          break;
        case IdbOption.IPV6_ADDRESS:
          if (val.length >= 17) info.ipv6Addresses.push(`${ipv6Text(val)}/${val[16]}`);
          break;
        case IdbOption.MAC_ADDRESS:
          if (val.length === 6) info.macAddress ??= hexColons(val);
          break;
        case IdbOption.EUI_ADDRESS:
          if (val.length === 8) info.euiAddress ??= hexColons(val);
          break;
        case IdbOption.SPEED:
          if (val.length === 8) info.speed ??= dv.getBigUint64(0, le);
          break;
        case IdbOption.TXSPEED:
          if (val.length === 8) info.txSpeed ??= dv.getBigUint64(0, le);
          break;
        case IdbOption.RXSPEED:
          if (val.length === 8) info.rxSpeed ??= dv.getBigUint64(0, le);
          break;
        case IdbOption.TZONE:
          if (val.length === 4) info.timeZone ??= dv.getInt32(0, le);
          break;
        case IdbOption.FILTER:
          if (val.length >= 1 && !info.filter) {
            info.filter = {
              type: val[0],
              expression: val[0] === 0 ? decodeText(val.subarray(1)) : undefined,
              value: val.subarray(1),
            };
          }
          break;
        case IdbOption.OS:
          info.os ??= decodeText(val);
          break;
        case IdbOption.HARDWARE:
          info.hardware ??= decodeText(val);
          break;
        case IdbOption.FCSLEN:
          if (val.length === 1) info.fcsLength ??= val[0];
          break;
      }
    }
    info.tsResolution = { base, exponent };
    info.comments = commentsOf(options);
    const maxBlock = 8 + 20 + maxSnaplenFor(linkType) + 131072 + 4;
    if (maxBlock > this.maxBlock) this.maxBlock = maxBlock;
    this.ifaces.push(new RecordIface(info, le).setResolution(base, exponent, info.tsOffset));
    section.interfaces.push(info);
    this.interfaces.push(info);
  }

  #nrb(p: number, body: number, bodyEnd: number, le: boolean): void {
    const v = this.view, buf = this.buf;
    const records: NameResolutionRecord[] = [];
    const sectionIndex = this.sections.length - 1;
    let q = body, ended = false;
    while (bodyEnd - q >= 4) {
      const type = v.getUint16(q, le), rlen = v.getUint16(q + 2, le);
      const padded = (rlen + 3) & ~3;
      if (type === NrbRecordType.END) {
        q += 4;
        ended = true;
        break;
      }
      if (bodyEnd - q - 4 < padded) break;
      const value = buf.slice(q + 4, q + 4 + rlen);
      const alen = type === NrbRecordType.IPV4
        ? 4
        : type === NrbRecordType.IPV6
        ? 16
        : type === NrbRecordType.EUI48
        ? 6
        : type === NrbRecordType.EUI64
        ? 8
        : 0;
      if (alen && rlen >= alen) {
        const a = value.subarray(0, alen);
        const address = type === NrbRecordType.IPV4
          ? ipv4Text(a)
          : type === NrbRecordType.IPV6
          ? ipv6Text(a)
          : hexColons(a);
        const names = decodeText(value.subarray(alen)).split("\0").filter((s) => s.length > 0);
        records.push({ type, address, names, sectionIndex, value });
      } else {
        records.push({ type, address: hexColons(value), names: [], sectionIndex, value });
      }
      q += 4 + padded;
    }
    const options = ended
      ? copyOptions(parseOptions(buf, v, q, bodyEnd, le, this.base, "Name Resolution Block", false))
      : [];
    this.nameResolution.push({
      sectionIndex,
      offset: this.base + p,
      records,
      comments: commentsOf(options),
      options,
    });
  }

  #isb(p: number, body: number, bodyEnd: number, le: boolean): void {
    if (bodyEnd - body < 12) return;
    const v = this.view;
    const id = v.getUint32(body, le);
    const rt = this.ifaces[id];
    const options = copyOptions(
      parseOptions(
        this.buf,
        v,
        body + 12,
        bodyEnd,
        le,
        this.base,
        "Interface Statistics Block",
        false,
      ),
    );
    let startTime: Timestamp | undefined, endTime: Timestamp | undefined;
    const counters: (bigint | undefined)[] = [];
    for (const o of options) {
      if (o.value.length !== 8) continue;
      const dv = new DataView(o.value.buffer, o.value.byteOffset, 8);
      if (o.code === IsbOption.STARTTIME) {
        startTime ??= this.#tsOf(rt, dv.getUint32(0, le), dv.getUint32(4, le));
      } else if (o.code === IsbOption.ENDTIME) {
        endTime ??= this.#tsOf(rt, dv.getUint32(0, le), dv.getUint32(4, le));
      } else if (o.code >= IsbOption.IFRECV && o.code <= IsbOption.USRDELIV) {
        counters[o.code] ??= dv.getBigUint64(0, le);
      }
    }
    const stats: InterfaceStatistics = {
      interfaceId: id,
      sectionIndex: this.sections.length - 1,
      offset: this.base + p,
      timestamp: this.#tsOf(rt, v.getUint32(body + 4, le), v.getUint32(body + 8, le)),
      startTime,
      endTime,
      received: counters[IsbOption.IFRECV],
      dropped: counters[IsbOption.IFDROP],
      filterAccepted: counters[IsbOption.FILTERACCEPT],
      osDropped: counters[IsbOption.OSDROP],
      delivered: counters[IsbOption.USRDELIV],
      comments: commentsOf(options),
      options,
    };
    this.statistics.push(stats);
    if (rt) (rt.info as MutableInterface).statistics.push(stats);
  }

  #dsb(p: number, body: number, bodyEnd: number, le: boolean): void {
    if (bodyEnd - body < 8) return;
    const v = this.view;
    const secretsType = v.getUint32(body, le), slen = v.getUint32(body + 4, le);
    if (slen > bodyEnd - body - 8) return;
    const optStart = body + 8 + ((slen + 3) & ~3);
    const options = optStart < bodyEnd
      ? copyOptions(
        parseOptions(
          this.buf,
          v,
          optStart,
          bodyEnd,
          le,
          this.base,
          "Decryption Secrets Block",
          false,
        ),
      )
      : [];
    this.decryptionSecrets.push({
      sectionIndex: this.sections.length - 1,
      offset: this.base + p,
      secretsType,
      data: this.buf.slice(body + 8, body + 8 + slen),
      comments: commentsOf(options),
      options,
    });
  }

  #setInfo(): void {
    const s = this.sections[0];
    const first = this.interfaces[0] as InterfaceInfo | undefined;
    this.savefileInfo = {
      format: "pcapng",
      byteOrder: s.byteOrder,
      versionMajor: s.versionMajor,
      versionMinor: s.versionMinor,
      magic: BYTE_ORDER_MAGIC,
      snaplen: first ? first.snaplen : -1,
      linkType: first ? first.linkType : -1,
      linkTypeField: first ? first.linkType : -1,
      linkTypeExt: 0,
      fcsLength: first?.fcsLength,
      tsPrecision: "nano",
      recordHeaderLength: 0,
    };
    if (first) this.blankInterface = first;
    this.ready = true;
  }

  finish(): void {
    const avail = this.end - this.pos;
    if (avail === 0) {
      if (this.state === 1) {
        // No IDB at all: readable (no packets), like Wireshark.
        this.state = 2;
        this.#setInfo();
      }
      return;
    }
    const at = this.base + this.end;
    if (this.state === 0 || this.need <= 8) {
      const hdr = this.state === 0 ? 12 : 0;
      throw new PcapFormatError(
        at,
        `truncated pcapng dump file; tried to read ${this.need - hdr} bytes, only got ${
          avail - hdr
        }`,
      );
    }
    throw new PcapFormatError(
      at,
      `truncated pcapng dump file; tried to read ${this.need - 8} bytes, only got ${avail - 8}`,
    );
  }
}

/** Copies option values out of the (possibly reused) read buffer. */
function copyOptions(options: PcapngOption[]): PcapngOption[] {
  return options.map((o) => ({ code: o.code, value: o.value.slice() }));
}
