/**
 * Linux "cooked" capture header, version 1 (`DLT_LINUX_SLL`).
 *
 * @module
 */
import { readU16, toHex } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** The 16-byte SLL header. */
export class LinuxSLL extends Layer {
  /** Layer type tag. */
  readonly type: "LinuxSLL" = LayerType.LinuxSLL;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.attach(data, offset, end, 16);
  }
  /** Packet type (0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing). */
  get packetType(): number {
    return readU16(this.d, this.o);
  }
  /** ARPHRD_ link-layer address type. */
  get arphrdType(): number {
    return readU16(this.d, this.o + 2);
  }
  /** Link-layer address length. */
  get addressLength(): number {
    return readU16(this.d, this.o + 4);
  }
  /** Link-layer address as colon-separated hex (at most 8 bytes). */
  get addressString(): string {
    const n = Math.min(this.addressLength, 8);
    return toHex(this.d, this.o + 6, n, ":");
  }
  /** Protocol: an EtherType, or a Linux pseudo-protocol value below 0x0600. */
  get protocol(): number {
    return readU16(this.d, this.o + 14);
  }
  /** Text form. */
  toString(): string {
    return `SLL type ${this.packetType} proto 0x${this.protocol.toString(16).padStart(4, "0")}`;
  }
}
