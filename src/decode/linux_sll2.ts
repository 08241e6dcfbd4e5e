/**
 * Linux "cooked" capture header, version 2 (`DLT_LINUX_SLL2`).
 *
 * @module
 */
import { readU16, readU32, toHex } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** The 20-byte SLL2 header. */
export class LinuxSLL2 extends Layer {
  /** Layer type tag. */
  readonly type: "LinuxSLL2" = LayerType.LinuxSLL2;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.attach(data, offset, end, 20);
  }
  /** Protocol: an EtherType, or a Linux pseudo-protocol value below 0x0600. */
  get protocol(): number {
    return readU16(this.d, this.o);
  }
  /** Interface index. */
  get interfaceIndex(): number {
    return readU32(this.d, this.o + 4);
  }
  /** ARPHRD_ link-layer address type. */
  get arphrdType(): number {
    return readU16(this.d, this.o + 8);
  }
  /** Packet type (0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing). */
  get packetType(): number {
    return this.d[this.o + 10];
  }
  /** Link-layer address length. */
  get addressLength(): number {
    return this.d[this.o + 11];
  }
  /** Link-layer address as colon-separated hex (at most 8 bytes). */
  get addressString(): string {
    return toHex(this.d, this.o + 12, Math.min(this.addressLength, 8), ":");
  }
  /** Text form. */
  toString(): string {
    return `SLL2 ifindex ${this.interfaceIndex} proto 0x${
      this.protocol.toString(16).padStart(4, "0")
    }`;
  }
}
