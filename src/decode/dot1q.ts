/**
 * IEEE 802.1Q VLAN tag (also 802.1ad / QinQ service tags: same 4-byte shape).
 *
 * @module
 */
import { readU16 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** A VLAN tag: the 4 bytes after a TPID of 0x8100, 0x88a8 or 0x9100. */
export class Dot1Q extends Layer {
  /** Layer type tag. */
  readonly type: "Dot1Q" = LayerType.Dot1Q;
  /** The TPID that introduced this tag (0x8100 for 802.1Q, 0x88a8 for 802.1ad). */
  tpid = 0;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number, tpid: number): void {
    this.tpid = tpid;
    if (end - offset >= 4) {
      this.packetData = this.d = data;
      this.offset = this.o = offset;
      this.end = this.e = end;
      this.headerLength = 4;
      this.truncated = false;
      this.error = null;
    } else this.attach(data, offset, end, 4);
  }
  /** Tag control information (priority, DEI, VLAN id). */
  get tci(): number {
    return readU16(this.d, this.o);
  }
  /** Priority code point (0–7). */
  get priority(): number {
    return this.d[this.o] >> 5;
  }
  /** Drop eligible indicator. */
  get dei(): boolean {
    return (this.d[this.o] & 0x10) !== 0;
  }
  /** VLAN identifier (0–4095). */
  get vlanId(): number {
    return this.tci & 0xfff;
  }
  /** EtherType of what follows. */
  get etherType(): number {
    return readU16(this.d, this.o + 2);
  }
  /** Text form. */
  toString(): string {
    return `${this.tpid === 0x8100 ? "802.1Q" : "802.1ad"} vlan ${this.vlanId}, p ${this.priority}`;
  }
}
