/**
 * pcapng option lists: parsing and encoding, plus small text helpers.
 *
 * @module
 */

import { PcapFormatError } from "../errors.ts";
import type { PcapngOption } from "./types.ts";
import { OptionCode } from "./types.ts";

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const utf8Encoder = new TextEncoder();

/** Decodes UTF-8, dropping trailing NUL bytes. */
export function decodeText(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return utf8Decoder.decode(bytes.subarray(0, end));
}

/** Encodes UTF-8. */
export function encodeText(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Parses an option list in `buf[start, end)`. The list ends at `opt_endofopt` or at `end`.
 * When `strict`, an option that runs past `end` throws {@link PcapFormatError} (offsets are
 * relative to `base`, the file offset of `buf[0]`); otherwise parsing stops there quietly.
 */
export function parseOptions(
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  little: boolean,
  base: number,
  what: string,
  strict: boolean,
): PcapngOption[] {
  const out: PcapngOption[] = [];
  let p = start;
  while (p < end) {
    if (end - p < 4) {
      if (!strict) break;
      throw new PcapFormatError(base + p, `${what} has a truncated option header`);
    }
    const code = view.getUint16(p, little);
    const len = view.getUint16(p + 2, little);
    const padded = (len + 3) & ~3;
    if (end - p - 4 < padded) {
      if (!strict || code === OptionCode.END && len === 0) break;
      throw new PcapFormatError(
        base + p,
        `${what} has an option (code ${code}) of length ${len} that runs past the end of the block`,
      );
    }
    if (code === OptionCode.END) {
      if (strict && len !== 0) {
        throw new PcapFormatError(
          base + p,
          `${what} has opt_endofopt option with length ${len} != 0`,
        );
      }
      break;
    }
    out.push({ code, value: buf.subarray(p + 4, p + 4 + len) });
    p += 4 + padded;
  }
  return out;
}

/** All `opt_comment` values of an option list. */
export function commentsOf(options: readonly PcapngOption[]): string[] {
  const out: string[] = [];
  for (const o of options) if (o.code === OptionCode.COMMENT) out.push(decodeText(o.value));
  return out;
}

/** The first option with `code`, decoded as text. */
export function textOption(options: readonly PcapngOption[], code: number): string | undefined {
  for (const o of options) if (o.code === code) return decodeText(o.value);
  return undefined;
}

/** Formats bytes as colon-separated lowercase hex. */
export function hexColons(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    if (i) s += ":";
    s += bytes[i].toString(16).padStart(2, "0");
  }
  return s;
}

/** Formats 4 bytes as dotted IPv4. */
export function ipv4Text(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** Formats 16 bytes as IPv6 text (RFC 5952 compression). */
export function ipv6Text(b: Uint8Array, at = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (w: number): string => w.toString(16);
  if (bestStart < 0) return words.map(hex).join(":");
  const head = words.slice(0, bestStart).map(hex).join(":");
  const tail = words.slice(bestStart + bestLen).map(hex).join(":");
  return `${head}::${tail}`;
}

/** Parses dotted IPv4 text into 4 bytes (TypeError when malformed). */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${text}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!/^\d{1,3}$/.test(parts[i]) || n > 255) throw new TypeError(`not an IPv4 address: ${text}`);
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 text into 16 bytes (TypeError when malformed). */
export function parseIpv6(text: string): Uint8Array {
  const bad = (): never => {
    throw new TypeError(`not an IPv6 address: ${text}`);
  };
  let t = text;
  const tailBytes: number[] = [];
  const lastColon = t.lastIndexOf(":");
  if (t.includes(".", lastColon)) {
    const v4 = parseIpv4(t.slice(lastColon + 1));
    tailBytes.push(...v4);
    t = t.slice(0, lastColon + 1) + "0:0";
  }
  const halves = t.split("::");
  if (halves.length > 2) bad();
  const parse = (s: string): number[] =>
    s === "" ? [] : s.split(":").map((w) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) bad();
      return parseInt(w, 16);
    });
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) bad();
  const words = [...head, ...new Array<number>(halves.length === 2 ? zeros : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  if (tailBytes.length) out.set(tailBytes, 12);
  return out;
}

/** Parses colon- or dash-separated hex bytes (TypeError when malformed). */
export function parseHexColons(text: string, length: number): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== length || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`expected ${length} hex bytes separated by colons: ${text}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** An option to encode: code plus bytes or text. */
export interface OptionInput {
  /** The option code. */
  code: number;
  /** The value; strings are encoded as UTF-8. */
  value: Uint8Array | string;
}

/** Size in bytes of an encoded option list, including `opt_endofopt` when non-empty. */
export function optionsSize(options: readonly { code: number; value: Uint8Array }[]): number {
  if (options.length === 0) return 0;
  let n = 4;
  for (const o of options) {
    if (o.value.length > 0xffff) {
      throw new RangeError(`option ${o.code} is longer than 65535 bytes`);
    }
    n += 4 + ((o.value.length + 3) & ~3);
  }
  return n;
}

/** Normalises option inputs to bytes. */
export function toRawOptions(
  options: readonly (OptionInput | PcapngOption)[] | undefined,
): { code: number; value: Uint8Array }[] {
  if (!options) return [];
  return options.map((o) => ({
    code: o.code,
    value: typeof o.value === "string" ? encodeText(o.value) : o.value,
  }));
}

/** Writes an option list (with `opt_endofopt`) at `at`; returns the new offset. */
export function writeOptions(
  buf: Uint8Array,
  view: DataView,
  at: number,
  options: readonly { code: number; value: Uint8Array }[],
  little: boolean,
): number {
  if (options.length === 0) return at;
  let p = at;
  for (const o of options) {
    view.setUint16(p, o.code, little);
    view.setUint16(p + 2, o.value.length, little);
    buf.set(o.value, p + 4);
    const padded = (o.value.length + 3) & ~3;
    buf.fill(0, p + 4 + o.value.length, p + 4 + padded);
    p += 4 + padded;
  }
  view.setUint32(p, 0, little);
  return p + 4;
}
