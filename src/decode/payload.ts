/**
 * The bytes after the last decoded header.
 *
 * @module
 */
import { Layer, LayerType } from "./layer.ts";

/** Undecoded application (or unknown-protocol) bytes: `payload` holds them all. */
export class Payload extends Layer {
  /** Layer type tag. */
  readonly type: "Payload" = LayerType.Payload;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    if (end - offset >= 0) {
      this.packetData = this.d = data;
      this.offset = this.o = offset;
      this.end = this.e = end;
      this.headerLength = 0;
      this.truncated = false;
      this.error = null;
    } else this.attach(data, offset, end, 0);
  }
  /** Number of bytes. */
  get length(): number {
    return this.end - this.offset;
  }
  /** Text form. */
  toString(): string {
    return `Payload ${this.length} bytes`;
  }
}
