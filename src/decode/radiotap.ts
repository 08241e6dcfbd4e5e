/**
 * Radiotap header (the radio metadata before an 802.11 frame in `DLT_IEEE802_11_RADIO`).
 *
 * @module
 */
import { Layer, LayerType } from "./layer.ts";

/** Radiotap `flags` field bits. */
export const RadiotapFlags = {
  CFP: 0x01,
  ShortPreamble: 0x02,
  WEP: 0x04,
  Fragmentation: 0x08,
  FCS: 0x10,
  DataPad: 0x20,
  BadFCS: 0x40,
  ShortGI: 0x80,
} as const;

// [alignment, size] of the radiotap fields for present bits 0..5
const ALIGN = [8, 1, 1, 2, 1, 1];
const SIZE = [8, 1, 1, 4, 2, 1];

/** A radiotap header: version, length, present bitmap and the first few standard fields. */
export class Radiotap extends Layer {
  /** Layer type tag. */
  readonly type: "Radiotap" = LayerType.Radiotap;
  // offsets (relative to the header start) of fields 0..5, -1 when absent
  private fieldOff = new Int32Array(6);

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.fieldOff.fill(-1);
    if (!this.attach(data, offset, end, 8)) return;
    const d = this.d, o = this.o;
    const len = d[o + 2] | (d[o + 3] << 8);
    if (len < 8) {
      this.error = "bad header length";
      return;
    }
    if (!this.extend(len)) return;
    // skip extended present words
    let p = 4;
    while (p + 4 <= len && (d[o + p + 3] & 0x80) !== 0) p += 4;
    p += 4;
    if (p > len) {
      this.error = "bad present bitmap";
      return;
    }
    const present = this.present;
    for (let bit = 0; bit < 6; bit++) {
      if ((present & (1 << bit)) === 0) continue;
      const a = ALIGN[bit];
      p = (p + a - 1) & ~(a - 1);
      if (p + SIZE[bit] > len) {
        this.error = "field beyond header";
        return;
      }
      this.fieldOff[bit] = p;
      p += SIZE[bit];
    }
  }
  /** Header revision (0). */
  get version(): number {
    return this.d[this.o];
  }
  /** Header length from the header itself (= `headerLength`). */
  get length(): number {
    return this.d[this.o + 2] | (this.d[this.o + 3] << 8);
  }
  /** First word of the present bitmap. */
  get present(): number {
    const d = this.d, o = this.o;
    return (d[o + 4] | (d[o + 5] << 8) | (d[o + 6] << 16) | (d[o + 7] << 24)) >>> 0;
  }
  /** The flags field (see {@link RadiotapFlags}), or -1 when absent. */
  get flags(): number {
    const f = this.fieldOff[1];
    return f < 0 ? -1 : this.d[this.o + f];
  }
  /** True when the 802.11 frame ends with a 4-byte FCS. */
  get hasFcs(): boolean {
    const f = this.flags;
    return f >= 0 && (f & RadiotapFlags.FCS) !== 0;
  }
  /** TX/RX data rate in units of 500 kb/s, or -1 when absent. */
  get rate(): number {
    const f = this.fieldOff[2];
    return f < 0 ? -1 : this.d[this.o + f];
  }
  /** Channel frequency in MHz, or -1 when absent. */
  get channelFrequency(): number {
    const f = this.fieldOff[3];
    return f < 0 ? -1 : this.d[this.o + f] | (this.d[this.o + f + 1] << 8);
  }
  /** Channel flags, or -1 when absent. */
  get channelFlags(): number {
    const f = this.fieldOff[3];
    return f < 0 ? -1 : this.d[this.o + f + 2] | (this.d[this.o + f + 3] << 8);
  }
  /** Antenna signal in dBm, or null when absent. */
  get antennaSignal(): number | null {
    const f = this.fieldOff[5];
    return f < 0 ? null : (this.d[this.o + f] << 24) >> 24;
  }
  /** Text form. */
  toString(): string {
    return `Radiotap len ${this.length}` +
      (this.channelFrequency >= 0 ? ` ${this.channelFrequency} MHz` : "") +
      (this.antennaSignal !== null ? ` ${this.antennaSignal}dBm signal` : "");
  }
}
