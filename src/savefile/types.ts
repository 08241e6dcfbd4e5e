/**
 * Types and constants shared by the savefile reader and writers.
 *
 * @module
 */

/** The two savefile formats. */
export const SavefileFormat = {
  /** Classic libpcap format (`.pcap`). */
  PCAP: "pcap",
  /** PCAP Next Generation (`.pcapng`). */
  PCAPNG: "pcapng",
} as const;

/** One of the values of {@link SavefileFormat}. */
export type SavefileFormat = typeof SavefileFormat[keyof typeof SavefileFormat];

/** Byte order of a file or a pcapng section. */
export type ByteOrder = "little" | "big";

/** Time stamp precision of a classic pcap file. */
export type TimestampPrecision = "micro" | "nano";

/** Classic pcap magic numbers (as 32-bit values in the file's byte order). */
export const PcapMagic = {
  /** Microsecond time stamps. */
  MICRO: 0xa1b2c3d4,
  /** Nanosecond time stamps. */
  NANO: 0xa1b23c4d,
  /** Alexey Kuznetzov's modified format: microseconds, 24-byte record headers. */
  MODIFIED: 0xa1b2cd34,
} as const;

/** pcapng block types. */
export const BlockType = {
  /** Section Header Block. */
  SHB: 0x0a0d0d0a,
  /** Interface Description Block. */
  IDB: 0x00000001,
  /** Packet Block (obsolete). */
  PB: 0x00000002,
  /** Simple Packet Block. */
  SPB: 0x00000003,
  /** Name Resolution Block. */
  NRB: 0x00000004,
  /** Interface Statistics Block. */
  ISB: 0x00000005,
  /** Enhanced Packet Block. */
  EPB: 0x00000006,
  /** Decryption Secrets Block. */
  DSB: 0x0000000a,
  /** Custom Block that may be copied to new files. */
  CUSTOM_COPY: 0x00000bad,
  /** Custom Block that must not be copied to new files. */
  CUSTOM_NO_COPY: 0x40000bad,
} as const;

/** Common pcapng option codes (valid in every block). */
export const OptionCode = {
  /** `opt_endofopt`. */
  END: 0,
  /** `opt_comment` (UTF-8). */
  COMMENT: 1,
  /** `opt_custom`, UTF-8, copyable. */
  CUSTOM_STR: 2988,
  /** `opt_custom`, binary, copyable. */
  CUSTOM_BIN: 2989,
  /** `opt_custom`, UTF-8, not copyable. */
  CUSTOM_STR_NO_COPY: 19372,
  /** `opt_custom`, binary, not copyable. */
  CUSTOM_BIN_NO_COPY: 19373,
} as const;

/** Section Header Block option codes. */
export const ShbOption = {
  /** `shb_hardware`. */
  HARDWARE: 2,
  /** `shb_os`. */
  OS: 3,
  /** `shb_userappl`. */
  USER_APPLICATION: 4,
} as const;

/** Interface Description Block option codes. */
export const IdbOption = {
  /** `if_name`. */
  NAME: 2,
  /** `if_description`. */
  DESCRIPTION: 3,
  /** `if_IPv4addr`. */
  IPV4_ADDRESS: 4,
  /** `if_IPv6addr`. */
  IPV6_ADDRESS: 5,
  /** `if_MACaddr`. */
  MAC_ADDRESS: 6,
  /** `if_EUIaddr`. */
  EUI_ADDRESS: 7,
  /** `if_speed`. */
  SPEED: 8,
  /** `if_tsresol`. */
  TSRESOL: 9,
  /** `if_tzone`. */
  TZONE: 10,
  /** `if_filter`. */
  FILTER: 11,
  /** `if_os`. */
  OS: 12,
  /** `if_fcslen`. */
  FCSLEN: 13,
  /** `if_tsoffset`. */
  TSOFFSET: 14,
  /** `if_hardware`. */
  HARDWARE: 15,
  /** `if_txspeed`. */
  TXSPEED: 16,
  /** `if_rxspeed`. */
  RXSPEED: 17,
} as const;

/** Enhanced Packet Block option codes. */
export const EpbOption = {
  /** `epb_flags`. */
  FLAGS: 2,
  /** `epb_hash`. */
  HASH: 3,
  /** `epb_dropcount`. */
  DROPCOUNT: 4,
  /** `epb_packetid`. */
  PACKETID: 5,
  /** `epb_queue`. */
  QUEUE: 6,
  /** `epb_verdict`. */
  VERDICT: 7,
} as const;

/** Interface Statistics Block option codes. */
export const IsbOption = {
  /** `isb_starttime`. */
  STARTTIME: 2,
  /** `isb_endtime`. */
  ENDTIME: 3,
  /** `isb_ifrecv`. */
  IFRECV: 4,
  /** `isb_ifdrop`. */
  IFDROP: 5,
  /** `isb_filteraccept`. */
  FILTERACCEPT: 6,
  /** `isb_osdrop`. */
  OSDROP: 7,
  /** `isb_usrdeliv`. */
  USRDELIV: 8,
} as const;

/** Name Resolution Block record types. */
export const NrbRecordType = {
  /** `nrb_record_end`. */
  END: 0,
  /** `nrb_record_ipv4`. */
  IPV4: 1,
  /** `nrb_record_ipv6`. */
  IPV6: 2,
  /** `nrb_record_eui48`. */
  EUI48: 3,
  /** `nrb_record_eui64`. */
  EUI64: 4,
} as const;

/** One pcapng option, undecoded. `value` is a view into the file data, without padding. */
export interface PcapngOption {
  /** The option code. */
  readonly code: number;
  /** The option value (without padding). */
  readonly value: Uint8Array;
}

/** A time stamp: seconds since the epoch plus nanoseconds. */
export interface Timestamp {
  /** Seconds since 1970-01-01T00:00:00Z. */
  readonly seconds: number;
  /** Nanoseconds within the second. */
  readonly nanoseconds: number;
}

/** How time stamps of a pcapng interface are expressed (`if_tsresol`). */
export interface TimestampResolution {
  /** 10 or 2. */
  readonly base: 10 | 2;
  /** Time stamps count units of `base ** -exponent` seconds. */
  readonly exponent: number;
}

/** An `if_filter` option. */
export interface InterfaceFilter {
  /** Filter type: 0 is a libpcap filter string, 1 a BPF program. */
  readonly type: number;
  /** The filter text, when `type` is 0. */
  readonly expression: string | undefined;
  /** The raw filter bytes (after the type byte). */
  readonly value: Uint8Array;
}

/** One capture interface: the single one of a pcap file, or an IDB of a pcapng section. */
export interface InterfaceInfo {
  /** Interface id inside its section (what packet records call `interfaceId`). */
  readonly id: number;
  /** Index of the section (0 for pcap files). */
  readonly sectionIndex: number;
  /** Index among all interfaces of the file, across sections. */
  readonly index: number;
  /** Link-layer header type (`LINKTYPE_*` value). */
  readonly linkType: number;
  /** Snapshot length (0 means no limit in pcapng). */
  readonly snaplen: number;
  /** Byte offset of the IDB (0 for pcap: the file header). */
  readonly offset: number;
  /** `if_name`. */
  readonly name: string | undefined;
  /** `if_description`. */
  readonly description: string | undefined;
  /** `if_IPv4addr` values as `"a.b.c.d/m.m.m.m"`. */
  readonly ipv4Addresses: readonly string[];
  /** `if_IPv6addr` values as `"addr/prefix"`. */
  readonly ipv6Addresses: readonly string[];
  /** `if_MACaddr` as `"aa:bb:cc:dd:ee:ff"`. */
  readonly macAddress: string | undefined;
  /** `if_EUIaddr` as colon-separated hex. */
  readonly euiAddress: string | undefined;
  /** `if_speed` in bits per second. */
  readonly speed: bigint | undefined;
  /** `if_txspeed` in bits per second. */
  readonly txSpeed: bigint | undefined;
  /** `if_rxspeed` in bits per second. */
  readonly rxSpeed: bigint | undefined;
  /** Time stamp resolution (`if_tsresol`, default 10^-6). */
  readonly tsResolution: TimestampResolution;
  /** `if_tsoffset` in seconds (default 0). */
  readonly tsOffset: bigint;
  /** `if_tzone`. */
  readonly timeZone: number | undefined;
  /** `if_filter`. */
  readonly filter: InterfaceFilter | undefined;
  /** `if_os`. */
  readonly os: string | undefined;
  /** `if_hardware`. */
  readonly hardware: string | undefined;
  /** FCS length in bytes (`if_fcslen`, or the FCS bits of a pcap link-type field). */
  readonly fcsLength: number | undefined;
  /** `opt_comment` values. */
  readonly comments: readonly string[];
  /** All options, undecoded, in file order. */
  readonly options: readonly PcapngOption[];
  /** Interface Statistics Blocks seen so far for this interface. */
  readonly statistics: readonly InterfaceStatistics[];
}

/** An Interface Statistics Block. */
export interface InterfaceStatistics {
  /** Interface id inside the section. */
  readonly interfaceId: number;
  /** Section index. */
  readonly sectionIndex: number;
  /** Byte offset of the block. */
  readonly offset: number;
  /** When the statistics were taken (in the interface's resolution, converted). */
  readonly timestamp: Timestamp;
  /** `isb_starttime`. */
  readonly startTime: Timestamp | undefined;
  /** `isb_endtime`. */
  readonly endTime: Timestamp | undefined;
  /** `isb_ifrecv`: packets received by the interface. */
  readonly received: bigint | undefined;
  /** `isb_ifdrop`: packets dropped by the interface. */
  readonly dropped: bigint | undefined;
  /** `isb_filteraccept`: packets accepted by the filter. */
  readonly filterAccepted: bigint | undefined;
  /** `isb_osdrop`: packets dropped by the operating system. */
  readonly osDropped: bigint | undefined;
  /** `isb_usrdeliv`: packets delivered to the user. */
  readonly delivered: bigint | undefined;
  /** `opt_comment` values. */
  readonly comments: readonly string[];
  /** All options, undecoded. */
  readonly options: readonly PcapngOption[];
}

/** One entry of a Name Resolution Block. */
export interface NameResolutionRecord {
  /** Record type (see {@link NrbRecordType}). */
  readonly type: number;
  /** Address as text (dotted IPv4, IPv6, or colon-separated hex for EUI / unknown types). */
  readonly address: string;
  /** The names for that address. */
  readonly names: readonly string[];
  /** Section index. */
  readonly sectionIndex: number;
  /** The raw record value. */
  readonly value: Uint8Array;
}

/** A Name Resolution Block. */
export interface NameResolutionBlock {
  /** Section index. */
  readonly sectionIndex: number;
  /** Byte offset of the block. */
  readonly offset: number;
  /** Its records. */
  readonly records: readonly NameResolutionRecord[];
  /** `opt_comment` values. */
  readonly comments: readonly string[];
  /** All options (e.g. `ns_dnsname`), undecoded. */
  readonly options: readonly PcapngOption[];
}

/** A Custom Block. */
export interface CustomBlock {
  /** {@link BlockType.CUSTOM_COPY} or {@link BlockType.CUSTOM_NO_COPY}. */
  readonly type: number;
  /** Section index. */
  readonly sectionIndex: number;
  /** Byte offset of the block. */
  readonly offset: number;
  /** IANA Private Enterprise Number. */
  readonly pen: number;
  /** The block body after the PEN (custom data and any options, undecoded). */
  readonly data: Uint8Array;
  /** True for 0x00000BAD (may be copied). */
  readonly copyAllowed: boolean;
}

/** A Decryption Secrets Block. */
export interface DecryptionSecrets {
  /** Section index. */
  readonly sectionIndex: number;
  /** Byte offset of the block. */
  readonly offset: number;
  /** Secrets type (e.g. 0x544c534b TLS key log). */
  readonly secretsType: number;
  /** The secrets. */
  readonly data: Uint8Array;
  /** `opt_comment` values. */
  readonly comments: readonly string[];
  /** All options, undecoded. */
  readonly options: readonly PcapngOption[];
}

/** A pcapng section (or, for a pcap file, its header). */
export interface SectionInfo {
  /** Section index, from 0. */
  readonly index: number;
  /** Byte offset of the SHB. */
  readonly offset: number;
  /** Byte order of the section. */
  readonly byteOrder: ByteOrder;
  /** Major version. */
  readonly versionMajor: number;
  /** Minor version. */
  readonly versionMinor: number;
  /** Section length from the SHB (-1n when not specified). */
  readonly sectionLength: bigint;
  /** `shb_hardware`. */
  readonly hardware: string | undefined;
  /** `shb_os`. */
  readonly os: string | undefined;
  /** `shb_userappl`. */
  readonly userApplication: string | undefined;
  /** `opt_comment` values. */
  readonly comments: readonly string[];
  /** All options, undecoded. */
  readonly options: readonly PcapngOption[];
  /** Interfaces of this section, by id. */
  readonly interfaces: readonly InterfaceInfo[];
}

/** The facts of a savefile known after its header (and, for pcapng, its first IDB) was read. */
export interface SavefileInfo {
  /** Format. */
  readonly format: SavefileFormat;
  /** Byte order of the file (of the first section for pcapng). */
  readonly byteOrder: ByteOrder;
  /** Version of the file (of the first section for pcapng). */
  readonly versionMajor: number;
  /** Minor version. */
  readonly versionMinor: number;
  /**
   * Magic number as read with the file's byte order (pcap: one of {@link PcapMagic};
   * pcapng: the byte-order magic 0x1a2b3c4d).
   */
  readonly magic: number;
  /**
   * Snapshot length: the pcap header value as stored, or the first IDB's snaplen for
   * pcapng (-1 when the pcapng file has no IDB before its first packet or end).
   */
  readonly snaplen: number;
  /**
   * Link type: for pcap the link-type field masked to 0x03FFFFFF (as libpcap does);
   * for pcapng the first IDB's link type (-1 when there is none).
   */
  readonly linkType: number;
  /** pcap: the raw 32-bit link-type field. pcapng: the first IDB's link type (or -1). */
  readonly linkTypeField: number;
  /** pcap: the upper six bits of the link-type field (0xFC000000 mask), as libpcap's `pcap_datalink_ext()`. pcapng: 0. */
  readonly linkTypeExt: number;
  /** pcap: FCS length in bytes if the link-type field says so. */
  readonly fcsLength: number | undefined;
  /** Time stamp precision of a pcap file (pcapng: "nano", values are converted). */
  readonly tsPrecision: TimestampPrecision;
  /** pcap: 16 or 24 (modified format) bytes per record header; pcapng: 0. */
  readonly recordHeaderLength: number;
}

/**
 * One packet. Fields are plain values; `data` is a view of the file's bytes (zero-copy).
 *
 * Validity: records from {@link readPackets}, {@link readPacketsSync} and a reader's
 * `packets()` are fresh objects that stay valid for ever (each `data` keeps its chunk of the
 * file alive). Records from {@link readBatches} / `batches()` are one reused object per
 * batch: read what you need (or `copy()` it) before the iterator advances, and `data` is
 * valid only until the next batch is requested.
 */
export interface PacketRecord {
  /** Interface id (pcapng: inside the section; pcap: 0). */
  readonly interfaceId: number;
  /** Link type of the packet's interface. */
  readonly linkType: number;
  /** Seconds since the epoch. */
  readonly seconds: number;
  /** Nanoseconds (not normalised for classic pcap: may exceed 999,999,999 as in the file). */
  readonly nanoseconds: number;
  /** Number of captured bytes (`data.length`). */
  readonly caplen: number;
  /** Original length on the wire. */
  readonly length: number;
  /**
   * The captured bytes, a view of {@link PacketRecord.bytes} (no copy). Readers make the view
   * on first access, so records whose `data` is never read cost no view; code that only
   * needs to read the bytes can use `bytes` and `dataOffset` instead (as the decoder's
   * `decodeRecord()` does). It is an accessor, so an object spread (`{ ...record }`) leaves it
   * out: pass `data: record.data` along, or use `copy()`. (The readers' records read their
   * other header fields from the record header on access too: `interfaceId`, `linkType`,
   * `seconds`, `nanoseconds`, `length`, `bytes`, `offset` and `interface` are accessors as
   * well.)
   */
  readonly data: Uint8Array;
  /**
   * The buffer that holds the captured bytes (the input bytes, or a chunk of the file): the
   * packet is `bytes[dataOffset, dataOffset + caplen)`. Same validity as `data`.
   */
  readonly bytes: Uint8Array;
  /** Offset of the captured bytes in {@link PacketRecord.bytes}. */
  readonly dataOffset: number;
  /** pcapng block type ({@link BlockType.EPB}, SPB or PB); 0 for a pcap record. */
  readonly blockType: number;
  /** Byte offset of the record (header) in the file. */
  readonly offset: number;
  /** The packet's interface. */
  readonly interface: InterfaceInfo;
  /** `epb_flags` (pcapng EPB/PB), or undefined. */
  readonly flags: number | undefined;
  /** `opt_comment` values (pcapng). */
  readonly comments: readonly string[];
  /** All options of the packet block (pcapng), undecoded. */
  readonly options: readonly PcapngOption[];
  /** A detached copy (fresh object, `data` copied). */
  copy(): PacketRecord;
}

/** Options of the readers. */
export interface ReadOptions {
  /** Read size for file paths and minimum buffer for streams, in bytes (default 1 MiB). */
  chunkSize?: number;
  /** An AbortSignal that stops reading (the iterator throws the signal's reason). */
  signal?: AbortSignal;
}

/** What the readers accept: bytes, a file path or `file:` URL, or a byte stream. */
export type ReadSource = Uint8Array | string | URL | ReadableStream<Uint8Array>;
