/**
 * The common base of all layer views, and the names of the layer types.
 *
 * @module
 */

/** Names of the layer types the decoder produces. */
export const LayerType = {
  Ethernet: "Ethernet",
  Dot1Q: "Dot1Q",
  MPLS: "MPLS",
  LLC: "LLC",
  LinuxSLL: "LinuxSLL",
  LinuxSLL2: "LinuxSLL2",
  Loopback: "Loopback",
  PPP: "PPP",
  Radiotap: "Radiotap",
  IEEE80211: "IEEE80211",
  ARP: "ARP",
  IPv4: "IPv4",
  IPv6: "IPv6",
  ICMPv4: "ICMPv4",
  ICMPv6: "ICMPv6",
  TCP: "TCP",
  UDP: "UDP",
  GRE: "GRE",
  VXLAN: "VXLAN",
  DNS: "DNS",
  Payload: "Payload",
} as const;

/** A value of {@link LayerType}. */
export type LayerTypeName = typeof LayerType[keyof typeof LayerType];

const EMPTY = new Uint8Array(0);

/**
 * A view of one protocol header inside a packet's bytes. Nothing is copied: fields are getters
 * that read the bytes when called.
 *
 * A layer whose header does not fit in the captured bytes has `truncated` set; its fields then
 * read the captured bytes followed by zeros (never bytes of anything else). A layer whose header
 * is inconsistent has `error` set to a short reason. Neither case throws.
 */
export abstract class Layer {
  /** Which layer this is. */
  abstract readonly type: LayerTypeName;
  /** The buffer the getters read (the packet's buffer, or a zero-padded copy when truncated). */
  protected d: Uint8Array = EMPTY;
  /** Offset of this layer's first byte in `d`. */
  protected o = 0;
  /** End (exclusive) of the bytes of this layer and its payload in `d`. */
  protected e = 0;
  /**
   * A DataView over `d` when the packet's buffer has one (set up by the decoder's fast path for
   * buffers that hold many packets): the hot getters then read multi-byte fields through it.
   */
  protected v: DataView | null = null;
  private scratch: Uint8Array | null = null;
  /** The packet buffer this layer lies in. */
  packetData: Uint8Array = EMPTY;
  /** Offset of this layer's first byte in {@link Layer.packetData}. */
  offset = 0;
  /** End (exclusive) of this layer's captured bytes (header and payload) in `packetData`. */
  end = 0;
  /** Header length in bytes, as the header states it (may exceed the captured bytes). */
  headerLength = 0;
  /** True when the header is cut short by the end of the captured bytes. */
  truncated = false;
  /** A short reason when the header is bogus (e.g. `"bad header length"`), else null. */
  error: string | null = null;

  /**
   * Points the view at `data[offset..end)` and makes sure `need` header bytes can be read.
   * @internal
   */
  protected attach(data: Uint8Array, offset: number, end: number, need: number): boolean {
    this.packetData = data;
    this.offset = offset;
    this.end = end;
    this.error = null;
    this.headerLength = need;
    this.v = null;
    if (end - offset >= need) {
      this.d = data;
      this.o = offset;
      this.e = end;
      this.truncated = false;
      return true;
    }
    let s = this.scratch;
    if (s === null || s.length < need) s = this.scratch = new Uint8Array(Math.max(need, 64));
    else s.fill(0, 0, need);
    const avail = end > offset ? end - offset : 0;
    for (let i = 0; i < avail; i++) s[i] = data[offset + i];
    this.d = s;
    this.o = 0;
    this.e = avail;
    this.truncated = true;
    return false;
  }

  /**
   * Re-checks that a longer header (now known to be `need` bytes) fits. Truncates if not.
   * @internal
   */
  protected extend(need: number): boolean {
    this.headerLength = need;
    if (this.truncated) return false;
    if (this.end - this.offset >= need) return true;
    const data = this.packetData, offset = this.offset, end = this.end, err = this.error;
    this.attach(data, offset, end, need);
    this.error = err;
    this.headerLength = need;
    return false;
  }

  /** Offset in `packetData` where this layer's payload starts (clamped to `end`). */
  get payloadOffset(): number {
    const p = this.offset + this.headerLength;
    return p < this.end ? p : this.end;
  }

  /** Number of captured payload bytes after the header. */
  get payloadSize(): number {
    return this.end - this.payloadOffset;
  }

  /** The captured header bytes (a subarray; no copy). */
  get contents(): Uint8Array {
    const e = this.offset + this.headerLength;
    return this.packetData.subarray(this.offset, e < this.end ? e : this.end);
  }

  /** The captured payload bytes after the header (a subarray; no copy). */
  get payload(): Uint8Array {
    return this.packetData.subarray(this.payloadOffset, this.end);
  }

  /** A short human-readable description of the layer. */
  abstract toString(): string;
}
