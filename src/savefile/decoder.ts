/**
 * Internal interface between the format decoders and the reading drivers.
 *
 * A decoder parses records out of one contiguous buffer `buf[pos, end)` whose first byte
 * is at file offset `base`. `next(rec)` returns {@link RECORD} after filling `rec`,
 * {@link NEED} when at least `need` bytes from `pos` are required, or {@link READY} once the
 * file header (and, for pcapng, the first IDB) has been read. At end of input the driver
 * calls `finish()`, which throws when the input stops inside a record.
 *
 * @module
 * @internal
 */

import type {
  CustomBlock,
  DecryptionSecrets,
  InterfaceInfo,
  InterfaceStatistics,
  NameResolutionBlock,
  SavefileInfo,
  SectionInfo,
} from "./types.ts";
import type { Packet } from "./record.ts";
import { Chunk } from "./record.ts";

/** More bytes are needed. */
export const NEED = 0;
/** A record was produced. */
export const RECORD = 1;
/** The header phase finished. */
export const READY = 2;

/**
 * A savefile decoder (pcap or pcapng): the buffer it reads, the facts it
 * collects, and the driver-facing methods the two formats share.
 */
export abstract class Decoder {
  buf: Uint8Array = EMPTY;
  view: DataView = new DataView(EMPTY.buffer);
  /** The records' view of the buffer (one per `setBuffer`). */
  chunk: Chunk = new Chunk(EMPTY, null, 0);
  pos = 0;
  end = 0;
  base = 0;
  need = 0;
  ready = false;
  sections: SectionInfo[] = [];
  interfaces: InterfaceInfo[] = [];
  nameResolution: NameResolutionBlock[] = [];
  statistics: InterfaceStatistics[] = [];
  customBlocks: CustomBlock[] = [];
  decryptionSecrets: DecryptionSecrets[] = [];
  abstract blankInterface: InterfaceInfo;
  /** The file's facts, once its header has been read. */
  protected savefileInfo: SavefileInfo | null = null;

  /** Points the decoder at `buf[pos, end)`, whose first byte is at file offset `base`. */
  setBuffer(buf: Uint8Array, pos: number, end: number, base: number): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.chunk = new Chunk(buf, this.view, base);
    this.pos = pos;
    this.end = end;
    this.base = base;
  }

  /** The file's facts (after the header phase). */
  info(): SavefileInfo {
    if (!this.savefileInfo) throw new Error("header not read");
    return this.savefileInfo;
  }

  abstract next(rec: Packet): number;
  abstract finish(): void;
}

const EMPTY = new Uint8Array(0);

/** Mutable interface description used while reading. */
export type MutableInterface = { -readonly [K in keyof InterfaceInfo]: InterfaceInfo[K] } & {
  statistics: InterfaceStatistics[];
  ipv4Addresses: string[];
  ipv6Addresses: string[];
};

/** A fresh interface description with defaults. */
export function newInterface(
  id: number,
  sectionIndex: number,
  index: number,
  linkType: number,
  snaplen: number,
  offset: number,
): MutableInterface {
  return {
    id,
    sectionIndex,
    index,
    linkType,
    snaplen,
    offset,
    name: undefined,
    description: undefined,
    ipv4Addresses: [],
    ipv6Addresses: [],
    macAddress: undefined,
    euiAddress: undefined,
    speed: undefined,
    txSpeed: undefined,
    rxSpeed: undefined,
    tsResolution: { base: 10, exponent: 6 },
    tsOffset: 0n,
    timeZone: undefined,
    filter: undefined,
    os: undefined,
    hardware: undefined,
    fcsLength: undefined,
    comments: [],
    options: [],
    statistics: [],
  };
}

/** libpcap's `max_snaplen_for_dlt()` (by DLT / LINKTYPE value; they agree for these). */
export function maxSnaplenFor(linkType: number): number {
  switch (linkType) {
    case 231: // DBUS
      return 128 * 1024 * 1024;
    case 279: // EBHSCR
      return 8 * 1024 * 1024;
    case 249: // USBPCAP
      return 1024 * 1024;
    default:
      return 262144;
  }
}

/**
 * libpcap's `linktype_to_dlt()` on Linux: the DLT value `pcap_datalink()` reports for a
 * LINKTYPE value.
 */
export function linkTypeToDlt(linkType: number): number {
  switch (linkType) {
    case 100:
      return 11; // ATM_RFC1483
    case 101:
      return 12; // RAW
    case 102:
      return 15; // SLIP_BSDOS
    case 103:
      return 16; // PPP_BSDOS
    case 106:
      return 19; // ATM_CLIP
    default:
      return linkType;
  }
}
