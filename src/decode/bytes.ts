/**
 * Byte reading and address formatting helpers shared by the layer views.
 *
 * @module
 */

/** Reads a big-endian unsigned 16-bit integer. */
export function readU16(d: Uint8Array, o: number): number {
  return (d[o] << 8) | d[o + 1];
}

/** Reads a big-endian unsigned 32-bit integer. */
export function readU32(d: Uint8Array, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}

/** Reads a 48-bit MAC address as a number (exact: 48 bits fit in a double). */
export function readMac(d: Uint8Array, o: number): number {
  return ((d[o] << 8) | d[o + 1]) * 0x100000000 +
    (((d[o + 2] << 24) | (d[o + 3] << 16) | (d[o + 4] << 8) | d[o + 5]) >>> 0);
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

/** Lower-case hex of `len` bytes, optionally joined by `sep`. */
export function toHex(d: Uint8Array, o = 0, len: number = d.length - o, sep = ""): string {
  let s = "";
  for (let i = 0; i < len; i++) s += (i > 0 ? sep : "") + HEX[d[o + i] ?? 0];
  return s;
}

/** Formats a MAC address number as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: number): string {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  return HEX[(hi >>> 8) & 255] + ":" + HEX[hi & 255] + ":" + HEX[lo >>> 24] + ":" +
    HEX[(lo >>> 16) & 255] + ":" + HEX[(lo >>> 8) & 255] + ":" + HEX[lo & 255];
}

/** Formats an IPv4 address number (big-endian uint32) as dotted quad. */
export function formatIPv4(ip: number): string {
  return (ip >>> 24) + "." + ((ip >>> 16) & 255) + "." + ((ip >>> 8) & 255) + "." + (ip & 255);
}

// IPv6 text as glibc's inet_ntop prints it: one implementation for the package.
export { formatIPv6 } from "../address.ts";

/** Parses a dotted-quad IPv4 address into a number. Throws `TypeError` on bad input. */
export function parseIPv4(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) throw new TypeError(`invalid IPv4 address: ${text}`);
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const v = Number(m[i]);
    if (v > 255) throw new TypeError(`invalid IPv4 address: ${text}`);
    n = n * 256 + v;
  }
  return n;
}

/** Parses a textual IPv6 address (with `::` and embedded IPv4 forms) into 16 bytes. */
export function parseIPv6(text: string): Uint8Array {
  const bad = (): never => {
    throw new TypeError(`invalid IPv6 address: ${text}`);
  };
  let s = text;
  const out = new Uint8Array(16);
  let tail: number[] = [];
  const dot = s.lastIndexOf(".");
  if (dot >= 0) {
    const c = s.lastIndexOf(":");
    if (c < 0) bad();
    const v4 = parseIPv4(s.slice(c + 1));
    s = s.slice(0, c + 1) + "0:0";
    tail = [v4 >>> 16, v4 & 0xffff];
  }
  const parts = s.split("::");
  if (parts.length > 2) bad();
  const head = parts[0] === "" ? [] : parts[0].split(":");
  const rest = parts.length === 2 ? (parts[1] === "" ? [] : parts[1].split(":")) : [];
  const groups: number[] = [];
  const parse = (h: string): number => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(h)) bad();
    return parseInt(h, 16);
  };
  for (const h of head) groups.push(parse(h));
  const fill = 8 - head.length - rest.length;
  if (parts.length === 2) {
    if (fill < 1) bad();
    for (let i = 0; i < fill; i++) groups.push(0);
  } else if (fill !== 0) bad();
  for (const h of rest) groups.push(parse(h));
  if (tail.length) {
    groups[6] = tail[0];
    groups[7] = tail[1];
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 255;
  }
  return out;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into a MAC address number. */
export function parseMac(text: string): number {
  const m =
    /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/
      .exec(text);
  if (!m) throw new TypeError(`invalid MAC address: ${text}`);
  let n = 0;
  for (let i = 1; i <= 6; i++) n = n * 256 + parseInt(m[i], 16);
  return n;
}
