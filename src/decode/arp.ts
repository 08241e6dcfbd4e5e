/**
 * ARP / RARP (RFC 826).
 *
 * @module
 */
import { formatIPv4, formatMac, readMac, readU16, readU32, toHex } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** ARP operation codes. */
export const ArpOp = {
  Request: 1,
  Reply: 2,
  RarpRequest: 3,
  RarpReply: 4,
} as const;

/** An ARP packet. Addresses are numbers when they are Ethernet MACs / IPv4 addresses. */
export class ARP extends Layer {
  /** Layer type tag. */
  readonly type: "ARP" = LayerType.ARP;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    if (!this.attach(data, offset, end, 8)) return;
    this.extend(8 + 2 * (this.d[this.o + 4] + this.d[this.o + 5]));
  }
  /** Hardware type (1 = Ethernet). */
  get hardwareType(): number {
    return readU16(this.d, this.o);
  }
  /** Protocol type (0x0800 = IPv4). */
  get protocolType(): number {
    return readU16(this.d, this.o + 2);
  }
  /** Hardware address length. */
  get hardwareSize(): number {
    return this.d[this.o + 4];
  }
  /** Protocol address length. */
  get protocolSize(): number {
    return this.d[this.o + 5];
  }
  /** Operation (see {@link ArpOp}). */
  get operation(): number {
    return readU16(this.d, this.o + 6);
  }
  /** Hardware address at `off` when it is a 6-byte MAC, else -1. */
  private hw(off: number): number {
    return this.hardwareSize === 6 ? readMac(this.d, this.o + off) : -1;
  }
  /** Protocol address at `off` when it is a 4-byte IPv4 address, else -1. */
  private pr(off: number): number {
    return this.protocolSize === 4 ? readU32(this.d, this.o + off) : -1;
  }
  /** Sender hardware address (MAC number), or -1 if it is not 6 bytes. */
  get senderHardware(): number {
    return this.hw(8);
  }
  /** Sender protocol address (IPv4 number), or -1 if it is not 4 bytes. */
  get senderProtocol(): number {
    return this.pr(8 + this.hardwareSize);
  }
  /** Target hardware address (MAC number), or -1 if it is not 6 bytes. */
  get targetHardware(): number {
    return this.hw(8 + this.hardwareSize + this.protocolSize);
  }
  /** Target protocol address (IPv4 number), or -1 if it is not 4 bytes. */
  get targetProtocol(): number {
    return this.pr(8 + 2 * this.hardwareSize + this.protocolSize);
  }
  /** Text form of an address field. */
  private text(off: number, len: number, isHw: boolean): string {
    if (isHw && len === 6) return formatMac(readMac(this.d, this.o + off));
    if (!isHw && len === 4) return formatIPv4(readU32(this.d, this.o + off));
    return toHex(this.d, this.o + off, len, ":");
  }
  /** Sender hardware address as text. */
  get senderHardwareString(): string {
    return this.text(8, this.hardwareSize, true);
  }
  /** Sender protocol address as text. */
  get senderProtocolString(): string {
    return this.text(8 + this.hardwareSize, this.protocolSize, false);
  }
  /** Target hardware address as text. */
  get targetHardwareString(): string {
    return this.text(8 + this.hardwareSize + this.protocolSize, this.hardwareSize, true);
  }
  /** Target protocol address as text. */
  get targetProtocolString(): string {
    return this.text(8 + 2 * this.hardwareSize + this.protocolSize, this.protocolSize, false);
  }
  /** Text form. */
  toString(): string {
    const op = this.operation;
    if (op === 1) {
      return `ARP, Request who-has ${this.targetProtocolString} tell ${this.senderProtocolString}`;
    }
    if (op === 2) {
      return `ARP, Reply ${this.senderProtocolString} is-at ${this.senderHardwareString}`;
    }
    return `ARP, op ${op}`;
  }
}
