/**
 * One MPLS label stack entry.
 *
 * @module
 */
import { readU32 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** An MPLS label stack entry (4 bytes). */
export class MPLS extends Layer {
  /** Layer type tag. */
  readonly type: "MPLS" = LayerType.MPLS;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.attach(data, offset, end, 4);
  }
  /** The raw 32-bit entry. */
  get entry(): number {
    return readU32(this.d, this.o);
  }
  /** The 20-bit label. */
  get label(): number {
    return this.entry >>> 12;
  }
  /** Traffic class (the former EXP bits). */
  get trafficClass(): number {
    return (this.d[this.o + 2] >> 1) & 7;
  }
  /** Bottom of stack flag. */
  get bottomOfStack(): boolean {
    return (this.d[this.o + 2] & 1) !== 0;
  }
  /** Time to live. */
  get ttl(): number {
    return this.d[this.o + 3];
  }
  /** Text form. */
  toString(): string {
    return `MPLS (label ${this.label}, tc ${this.trafficClass}, ${
      this.bottomOfStack ? "[S], " : ""
    }ttl ${this.ttl})`;
  }
}
