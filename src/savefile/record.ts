/**
 * The packet record object produced by the readers.
 *
 * @module
 */

import { EpbOption, OptionCode } from "./types.ts";
import type { InterfaceInfo, PacketRecord, PcapngOption } from "./types.ts";
import { decodeText, parseOptions } from "./options.ts";

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_AB: ArrayBufferLike = EMPTY_BYTES.buffer;
const EMPTY_OPTIONS: readonly PcapngOption[] = Object.freeze([]);
const EMPTY_STRINGS: readonly string[] = Object.freeze([]);

/**
 * The concrete {@link PacketRecord}. Plain fields are set by the decoders; the `data` view
 * is made on first access (from `bytes` and `dataOffset`) and pcapng options are parsed
 * lazily from the block on first access of `flags`, `comments` or `options`.
 * @internal
 */
export class Packet implements PacketRecord {
  interfaceId = 0;
  linkType = 0;
  seconds = 0;
  nanoseconds = 0;
  caplen = 0;
  length = 0;
  /** The buffer holding the captured bytes. */
  bytes: Uint8Array = EMPTY_BYTES;
  /** Offset of the captured bytes in `bytes`. */
  dataOffset = 0;
  /** `bytes.buffer`, cached (making the view from it is cheaper). */
  ab: ArrayBufferLike = EMPTY_AB;
  /** `bytes.byteOffset`. */
  base = 0;
  /** The `data` view, once made (the decoders reset it to null with every record). */
  view: Uint8Array | null = null;
  blockType = 0;
  offset = 0;
  interface: InterfaceInfo;
  /** Block bytes holding the options (pcapng), or null. */
  optBuf: Uint8Array | null = null;
  /** Start of the option list in `optBuf`. */
  optStart = 0;
  /** End of the option list in `optBuf`. */
  optEnd = 0;
  /** Byte order of the options. */
  optLittle = true;
  /** Parsed options cache. */
  parsedOptions: readonly PcapngOption[] | null = null;

  constructor(iface: InterfaceInfo) {
    this.interface = iface;
  }

  /** The captured bytes: a view of `bytes`, made on first access and then cached. */
  get data(): Uint8Array {
    const v = this.view;
    if (v !== null) return v;
    return (this.view = new Uint8Array(this.ab, this.base + this.dataOffset, this.caplen));
  }

  /** Forgets the parsed options (the decoders call this when reusing the object). */
  resetOptions(): void {
    this.parsedOptions = null;
  }

  get options(): readonly PcapngOption[] {
    if (this.parsedOptions) return this.parsedOptions;
    const buf = this.optBuf;
    if (!buf || this.optEnd <= this.optStart) return (this.parsedOptions = EMPTY_OPTIONS);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return (this.parsedOptions = parseOptions(
      buf,
      view,
      this.optStart,
      this.optEnd,
      this.optLittle,
      0,
      "packet block",
      false,
    ));
  }

  get flags(): number | undefined {
    if (!this.optBuf) return undefined;
    for (const o of this.options) {
      if (o.code === EpbOption.FLAGS && o.value.length === 4) {
        return new DataView(o.value.buffer, o.value.byteOffset, 4).getUint32(0, this.optLittle);
      }
    }
    return undefined;
  }

  get comments(): readonly string[] {
    if (!this.optBuf) return EMPTY_STRINGS;
    const out: string[] = [];
    for (const o of this.options) if (o.code === OptionCode.COMMENT) out.push(decodeText(o.value));
    return out;
  }

  copy(): PacketRecord {
    const p = new Packet(this.interface);
    const data = this.data.slice();
    p.bytes = p.view = data;
    p.ab = data.buffer;
    p.interfaceId = this.interfaceId;
    p.linkType = this.linkType;
    p.seconds = this.seconds;
    p.nanoseconds = this.nanoseconds;
    p.caplen = this.caplen;
    p.length = this.length;
    p.blockType = this.blockType;
    p.offset = this.offset;
    if (this.optBuf && this.optEnd > this.optStart) {
      p.optBuf = this.optBuf.slice(this.optStart, this.optEnd);
      p.optStart = 0;
      p.optEnd = p.optBuf.length;
      p.optLittle = this.optLittle;
    }
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
