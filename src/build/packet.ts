/**
 * Lays out a list of layer builders into one packet.
 *
 * @module
 */
import { type BuildContext, type LayerBuilder, payload } from "./layers.ts";

/** One item of {@link buildPacket}: a layer builder, or raw bytes / text as payload. */
export type BuildItem = LayerBuilder | Uint8Array | string;

/**
 * Builds a packet from outermost to innermost layer, filling in lengths, next-protocol fields
 * (EtherType, IP protocol, next header — unless given explicitly) and checksums (including the
 * TCP/UDP/ICMPv6 pseudo-header). Returns bytes ready for inject.
 *
 * ```ts
 * const frame = buildPacket([
 *   ethernet({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02" }),
 *   ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
 *   udp({ srcPort: 5353, dstPort: 53 }),
 *   dnsQuery({ id: 1, name: "example.com" }),
 * ]);
 * ```
 */
export function buildPacket(items: BuildItem[]): Uint8Array {
  const layers = items.map((
    i,
  ) => (i instanceof Uint8Array || typeof i === "string" ? payload(i) : i));
  const offsets: number[] = [];
  let total = 0;
  for (const l of layers) {
    offsets.push(total);
    total += l.headerLength();
  }
  const buf = new Uint8Array(total);
  const ctxs: BuildContext[] = [];
  let ip: BuildContext["ip"] = null;
  for (let i = 0; i < layers.length; i++) {
    const ctx: BuildContext = {
      buf,
      offset: offsets[i],
      end: total,
      next: layers[i + 1] ?? null,
      ip,
    };
    layers[i].write(ctx);
    ctxs.push(ctx);
    if (layers[i].kind === "ipv4" || layers[i].kind === "ipv6") {
      ip = { layer: layers[i], offset: offsets[i] };
    }
  }
  for (let i = layers.length - 1; i >= 0; i--) layers[i].finish?.(ctxs[i]);
  return buf;
}
