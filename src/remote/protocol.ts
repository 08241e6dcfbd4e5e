/**
 * The rpcap wire format (protocol version 0, as spoken by libpcap 1.x's
 * rpcapd and client, WinPcap and Npcap): message types, error codes,
 * structures, and a framer that cuts a byte stream into messages.
 * Every multi-byte field is big-endian.
 *
 * @module
 */

/** The rpcap default port. */
export const DEFAULT_PORT = 2002;
/** The protocol version this implementation speaks (the only one defined). */
export const PROTOCOL_VERSION = 0;
/** Size of the common message header. */
export const HEADER_SIZE = 8;
/** Size of `struct rpcap_pkthdr`. */
export const PKTHDR_SIZE = 20;
/** Size of `struct rpcap_sockaddr`. */
export const SOCKADDR_SIZE = 128;
/** `RPCAP_BYTE_ORDER_MAGIC`. */
export const BYTE_ORDER_MAGIC = 0xa1b2c3d4;
/** `RPCAP_BYTE_ORDER_MAGIC_SWAPPED`. */
export const BYTE_ORDER_MAGIC_SWAPPED = 0xd4c3b2a1;

/** Message types (`RPCAP_MSG_*`). */
export const Msg = {
  ERROR: 1,
  FINDALLIF_REQ: 2,
  OPEN_REQ: 3,
  STARTCAP_REQ: 4,
  UPDATEFILTER_REQ: 5,
  CLOSE: 6,
  PACKET: 7,
  AUTH_REQ: 8,
  STATS_REQ: 9,
  ENDCAP_REQ: 10,
  SETSAMPLING_REQ: 11,
  IS_REPLY: 0x80,
} as const;

/** Error codes carried in the `value` of an error message (`PCAP_ERR_*`). */
export const RemoteErrorCode = {
  NETW: 1,
  INITTIMEOUT: 2,
  AUTH: 3,
  FINDALLIF: 4,
  NOREMOTEIF: 5,
  OPEN: 6,
  UPDATEFILTER: 7,
  GETSTATS: 8,
  READEX: 9,
  HOSTNOAUTH: 10,
  REMOTEACCEPT: 11,
  STARTCAPTURE: 12,
  ENDCAPTURE: 13,
  RUNTIMETIMEOUT: 14,
  SETSAMPLING: 15,
  WRONGMSG: 16,
  WRONGVER: 17,
  AUTH_FAILED: 18,
  TLS_REQUIRED: 19,
  AUTH_TYPE_NOTSUP: 20,
} as const;

/** `RPCAP_STARTCAPREQ_FLAG_*`. */
export const StartFlag = {
  PROMISC: 0x1,
  DGRAM: 0x2,
  SERVEROPEN: 0x4,
  INBOUND: 0x8,
  OUTBOUND: 0x10,
} as const;

/** `RPCAP_RMTAUTH_NULL`, `RPCAP_RMTAUTH_PWD`. */
export const AuthType = { NULL: 0, PASSWORD: 1 } as const;

/** `RPCAP_UPDATEFILTER_BPF`. */
export const FILTER_BPF = 1;
/** rpcapd's limit on the instructions of a filter (`RPCAP_BPF_MAXINSNS`). */
export const MAX_FILTER_INSTRUCTIONS = 8192;
/** `RPCAP_AF_INET`, `RPCAP_AF_INET6` (the Windows value, on every OS). */
export const AF_INET = 2;
export const AF_INET6 = 23;

const names: Record<number, string> = {
  1: "RPCAP_MSG_ERROR",
  2: "RPCAP_MSG_FINDALLIF_REQ",
  3: "RPCAP_MSG_OPEN_REQ",
  4: "RPCAP_MSG_STARTCAP_REQ",
  5: "RPCAP_MSG_UPDATEFILTER_REQ",
  6: "RPCAP_MSG_CLOSE",
  7: "RPCAP_MSG_PACKET",
  8: "RPCAP_MSG_AUTH_REQ",
  9: "RPCAP_MSG_STATS_REQ",
  10: "RPCAP_MSG_ENDCAP_REQ",
  11: "RPCAP_MSG_SETSAMPLING_REQ",
};

/** A readable name of a message type. */
export function messageName(type: number): string {
  const base = names[type & 0x7f];
  if (!base || (type & 0x80 && (type & 0x7f) <= 1)) return `message type ${type}`;
  return type & 0x80 ? base.replace(/_REQ$/, "") + "_REPLY" : base;
}

/** One framed message. */
export interface Message {
  readonly version: number;
  readonly type: number;
  readonly value: number;
  readonly payload: Uint8Array;
}

/** Encodes a message: header and payload in one buffer. */
export function encodeMessage(
  type: number,
  value: number,
  payload: Uint8Array = new Uint8Array(0),
  version = PROTOCOL_VERSION,
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, version);
  v.setUint8(1, type);
  v.setUint16(2, value);
  v.setUint32(4, payload.length);
  out.set(payload, HEADER_SIZE);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A string from UTF-8 bytes (invalid sequences replaced). */
export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** An error message (`RPCAP_MSG_ERROR`), text cut to 256 bytes like rpcapd. */
export function errorMessage(
  code: number,
  message: string,
  version = PROTOCOL_VERSION,
): Uint8Array {
  let bytes = utf8(message);
  if (bytes.length > 256) bytes = bytes.subarray(0, 256);
  return encodeMessage(Msg.ERROR, code, bytes, version);
}

/** The payload of an authentication request. */
export function authPayload(username?: string, password?: string): Uint8Array {
  if (username === undefined && password === undefined) {
    return new Uint8Array(8); // type NULL, no strings
  }
  const u = utf8(username ?? "");
  const p = utf8(password ?? "");
  if (u.length > 65535 || p.length > 65535) throw new RangeError("user name or password too long");
  const out = new Uint8Array(8 + u.length + p.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, AuthType.PASSWORD);
  v.setUint16(4, u.length);
  v.setUint16(6, p.length);
  out.set(u, 8);
  out.set(p, 8 + u.length);
  return out;
}

/** A BPF instruction as rpcap carries it. */
export interface WireInstruction {
  /** Opcode. */
  readonly code: number;
  /** Jump offset if true. */
  readonly jt: number;
  /** Jump offset if false. */
  readonly jf: number;
  /** Generic field. */
  readonly k: number;
}

/** `struct rpcap_filter` followed by the instructions. */
export function filterPayload(instructions: readonly WireInstruction[]): Uint8Array {
  const out = new Uint8Array(8 + instructions.length * 8);
  const v = new DataView(out.buffer);
  v.setUint16(0, FILTER_BPF);
  v.setUint32(4, instructions.length);
  let o = 8;
  for (const i of instructions) {
    v.setUint16(o, i.code & 0xffff);
    v.setUint8(o + 2, i.jt & 0xff);
    v.setUint8(o + 3, i.jf & 0xff);
    v.setUint32(o + 4, i.k >>> 0);
    o += 8;
  }
  return out;
}

/** The one-instruction program libpcap sends when no filter is set: `ret #262144`. */
export const ACCEPT_ALL: readonly WireInstruction[] = [{ code: 0x06, jt: 0, jf: 0, k: 262144 }];

/** Decodes a `struct rpcap_filter` and its instructions; null if malformed. */
export function decodeFilter(
  payload: Uint8Array,
  offset: number,
  maxInstructions: number,
): { instructions: WireInstruction[]; end: number } | { error: string } {
  if (payload.length - offset < 8) return { error: "Message payload is too short" };
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const type = v.getUint16(offset);
  const count = v.getUint32(offset + 4);
  if (type !== FILTER_BPF) return { error: "Only BPF/NPF filters are currently supported" };
  if (count > maxInstructions) {
    return {
      error: `Filter program is larger than the maximum size of ${maxInstructions} instructions`,
    };
  }
  if (payload.length - offset - 8 < count * 8) return { error: "Message payload is too short" };
  const instructions: WireInstruction[] = [];
  let o = offset + 8;
  for (let i = 0; i < count; i++, o += 8) {
    instructions.push({
      code: v.getUint16(o),
      jt: v.getUint8(o + 2),
      jf: v.getUint8(o + 3),
      k: v.getUint32(o + 4),
    });
  }
  return { instructions, end: o };
}

/**
 * Cuts a byte stream into messages. `push()` chunks as they arrive; `take()`
 * gives the next complete message or null. A header announcing more than
 * `maxPayload` bytes makes `take()` throw (the stream cannot be resynced).
 */
export class Framer {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  readonly maxPayload: number;

  constructor(maxPayload: number) {
    this.maxPayload = maxPayload;
  }

  /** Bytes waiting. */
  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.#chunks) {
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (o === n) break;
    }
    return out;
  }

  #consume(n: number): Uint8Array {
    const first = this.#chunks[0];
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let o = 0;
      while (o < n) {
        const c = this.#chunks[0];
        const k = Math.min(c.length, n - o);
        out.set(c.subarray(0, k), o);
        o += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#buffered -= n;
    return out;
  }

  /** The header of the next message, if 8 bytes are here. */
  peekHeader(): { version: number; type: number; value: number; length: number } | null {
    if (this.#buffered < HEADER_SIZE) return null;
    const h = this.#peek(HEADER_SIZE);
    const v = new DataView(h.buffer, h.byteOffset, HEADER_SIZE);
    return { version: h[0], type: h[1], value: v.getUint16(2), length: v.getUint32(4) };
  }

  take(): Message | null {
    const h = this.peekHeader();
    if (!h) return null;
    if (h.length > this.maxPayload) {
      throw new FramingError(
        h,
        `message of ${h.length} bytes exceeds the limit of ${this.maxPayload}`,
      );
    }
    if (this.#buffered < HEADER_SIZE + h.length) return null;
    this.#consume(HEADER_SIZE);
    const payload = h.length > 0 ? this.#consume(h.length).slice() : new Uint8Array(0);
    return { version: h.version, type: h.type, value: h.value, payload };
  }
}

/** A message too large to accept. */
export class FramingError extends Error {
  readonly header: { version: number; type: number; value: number; length: number };
  constructor(header: FramingError["header"], message: string) {
    super(message);
    this.header = header;
  }
}

/** Parses an IPv4 dotted quad or IPv6 text into bytes; null if neither. */
export function addressBytes(text: string): Uint8Array | null {
  const m4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m4) {
    const b = m4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? new Uint8Array(b) : null;
  }
  let s = text;
  const pct = s.indexOf("%");
  if (pct >= 0) s = s.slice(0, pct);
  if (!s.includes(":")) return null;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = addressBytes(s.slice(lastColon + 1));
    if (!v4 || v4.length !== 4) return null;
    tail4 = Array.from(v4);
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...head, ...new Array(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail4.length) out.set(tail4, 12);
  return out;
}
