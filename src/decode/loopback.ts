/**
 * BSD loopback header (`DLT_NULL`, host byte order; `DLT_LOOP`, network byte order).
 *
 * @module
 */
import { Layer, LayerType } from "./layer.ts";

/** The 4-byte address family header of loopback captures. */
export class Loopback extends Layer {
  /** Layer type tag. */
  readonly type: "Loopback" = LayerType.Loopback;
  /** True for `DLT_LOOP` (network byte order). */
  networkOrder = false;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number, networkOrder: boolean): void {
    this.networkOrder = networkOrder;
    this.attach(data, offset, end, 4);
  }
  /**
   * The address family (e.g. 2 = IPv4; 10, 24, 28 or 30 = IPv6 depending on the OS). For
   * `DLT_NULL` the byte order is guessed as libpcap and Wireshark do: a value with its upper
   * 16 bits set is taken to be byte-swapped.
   */
  get family(): number {
    const d = this.d, o = this.o;
    const be = ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
    if (this.networkOrder) return be;
    const le = ((d[o + 3] << 24) | (d[o + 2] << 16) | (d[o + 1] << 8) | d[o]) >>> 0;
    return (le & 0xffff0000) !== 0 ? be : le;
  }
  /** Text form. */
  toString(): string {
    return `Loopback family ${this.family}`;
  }
}
