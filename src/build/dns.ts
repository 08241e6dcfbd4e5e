/**
 * DNS query builder.
 *
 * @module
 */
import { DnsType } from "../decode/dns.ts";
import { type LayerBuilder, payload } from "./layers.ts";

/** Options of {@link dnsQuery}. */
export interface DnsQueryOptions {
  /** Transaction id (default 0). */
  id?: number;
  /** Name to look up (`"example.com"`; a trailing dot is allowed). */
  name: string;
  /** Query type: a number or a {@link DnsType} name (default `"A"`). */
  type?: number | keyof typeof DnsType;
  /** Query class (default 1 = IN). */
  class?: number;
  /** Recursion desired (default true). */
  recursionDesired?: boolean;
}

/** Encodes a DNS query message (header + one question). */
export function encodeDnsQuery(o: DnsQueryOptions): Uint8Array {
  const labels = o.name.replace(/\.$/, "").split(".").filter((l) => l !== "");
  const enc = new TextEncoder();
  const parts = labels.map((l) => enc.encode(l));
  let nameLen = 1;
  for (const p of parts) {
    if (p.length > 63) throw new RangeError(`DNS label longer than 63 bytes: ${o.name}`);
    nameLen += 1 + p.length;
  }
  if (nameLen > 255) throw new RangeError(`DNS name longer than 255 bytes: ${o.name}`);
  const out = new Uint8Array(12 + nameLen + 4);
  const id = o.id ?? 0;
  out[0] = id >> 8;
  out[1] = id & 255;
  out[2] = (o.recursionDesired ?? true) ? 1 : 0;
  out[5] = 1;
  let p = 12;
  for (const l of parts) {
    out[p++] = l.length;
    out.set(l, p);
    p += l.length;
  }
  out[p++] = 0;
  const t = typeof o.type === "string" ? DnsType[o.type] : (o.type ?? 1);
  const c = o.class ?? 1;
  out[p] = t >> 8;
  out[p + 1] = t & 255;
  out[p + 2] = c >> 8;
  out[p + 3] = c & 255;
  return out;
}

/** A DNS query as a layer (put it after `udp({ dstPort: 53, ... })`). */
export function dnsQuery(o: DnsQueryOptions): LayerBuilder {
  return { ...payload(encodeDnsQuery(o)), kind: "dns" };
}
