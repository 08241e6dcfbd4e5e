/**
 * DNS messages (RFC 1035): header, questions and resource records, with compressed names.
 *
 * @module
 */
import { formatIPv4, formatIPv6, readU16, readU32 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** Common DNS record types. */
export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

/** A question entry. */
export interface DnsQuestion {
  /** Owner name (dotted, no trailing dot; `<Root>` for the root). */
  name: string;
  /** Query type (see {@link DnsType}). */
  type: number;
  /** Query class (1 = IN; for mDNS the top bit is the unicast-response bit). */
  class: number;
}

/** A resource record. */
export interface DnsRecord {
  /** Owner name. */
  name: string;
  /** Record type (see {@link DnsType}). */
  type: number;
  /** Class (for OPT records: the UDP payload size). */
  class: number;
  /** Time to live (for OPT records: extended rcode and flags). */
  ttl: number;
  /** Offset of the record data in the packet buffer. */
  dataOffset: number;
  /** Length of the record data. */
  dataLength: number;
  /**
   * The data in text form for the common types: the address of A/AAAA, the name of
   * NS/CNAME/PTR, the exchange of MX, the target of SRV; "" for others.
   */
  value: string;
}

/** The parsed sections of a message. */
export interface DnsSections {
  /** Questions. */
  questions: DnsQuestion[];
  /** Answer records. */
  answers: DnsRecord[];
  /** Authority records. */
  authorities: DnsRecord[];
  /** Additional records. */
  additionals: DnsRecord[];
  /** Why parsing stopped early (`"truncated"`, `"name loop"`, …), or null. */
  error: string | null;
}

const MAX_JUMPS = 64;

/**
 * A DNS message header. The sections are parsed on first use of `questions`/`answers`/… and
 * cached; a bogus message yields the records before the problem plus an `error`.
 */
export class DNS extends Layer {
  /** Layer type tag. */
  readonly type: "DNS" = LayerType.DNS;
  /** True when the message was carried over TCP with a 2-byte length prefix (not included). */
  overTcp = false;
  private parsed: DnsSections | null = null;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number, overTcp = false): void {
    this.parsed = null;
    this.overTcp = overTcp;
    this.attach(data, offset, end, 12);
  }
  /** Transaction id. */
  get id(): number {
    return readU16(this.d, this.o);
  }
  /** The 16-bit flags word. */
  get flags(): number {
    return readU16(this.d, this.o + 2);
  }
  /** True for responses (QR bit). */
  get isResponse(): boolean {
    return (this.d[this.o + 2] & 0x80) !== 0;
  }
  /** Opcode (0 = query). */
  get opcode(): number {
    return (this.d[this.o + 2] >> 3) & 15;
  }
  /** Authoritative-answer flag. */
  get authoritative(): boolean {
    return (this.d[this.o + 2] & 4) !== 0;
  }
  /** Truncation flag. */
  get truncatedFlag(): boolean {
    return (this.d[this.o + 2] & 2) !== 0;
  }
  /** Recursion-desired flag. */
  get recursionDesired(): boolean {
    return (this.d[this.o + 2] & 1) !== 0;
  }
  /** Recursion-available flag. */
  get recursionAvailable(): boolean {
    return (this.d[this.o + 3] & 0x80) !== 0;
  }
  /** Response code (low 4 bits). */
  get rcode(): number {
    return this.d[this.o + 3] & 15;
  }
  /** Question count field. */
  get questionCount(): number {
    return readU16(this.d, this.o + 4);
  }
  /** Answer count field. */
  get answerCount(): number {
    return readU16(this.d, this.o + 6);
  }
  /** Authority count field. */
  get authorityCount(): number {
    return readU16(this.d, this.o + 8);
  }
  /** Additional count field. */
  get additionalCount(): number {
    return readU16(this.d, this.o + 10);
  }
  /** All sections, parsed on first use (allocates once per packet). */
  get sections(): DnsSections {
    return this.parsed ??= this.parse();
  }
  /** Questions. */
  get questions(): DnsQuestion[] {
    return this.sections.questions;
  }
  /** Answer records. */
  get answers(): DnsRecord[] {
    return this.sections.answers;
  }
  /** Authority records. */
  get authorities(): DnsRecord[] {
    return this.sections.authorities;
  }
  /** Additional records. */
  get additionals(): DnsRecord[] {
    return this.sections.additionals;
  }
  /** Why section parsing stopped early, or null. */
  get sectionError(): string | null {
    return this.sections.error;
  }

  /**
   * Reads the (possibly compressed) name at message offset `pos`. Returns the name and the
   * offset after it, or null when the name is bogus (pointer loop, out of bounds, too long).
   */
  readName(pos: number): { name: string; next: number } | null {
    const d = this.d, base = this.o, len = this.e - this.o;
    if (!Number.isInteger(pos) || pos < 0) return null;
    let name = "";
    let next = -1;
    let jumps = 0;
    let total = 0;
    let p = pos;
    for (;;) {
      if (p >= len) return null;
      const b = d[base + p];
      if (b === 0) {
        if (next < 0) next = p + 1;
        break;
      }
      const kind = b & 0xc0;
      if (kind === 0xc0) {
        if (p + 1 >= len) return null;
        if (++jumps > MAX_JUMPS) return null;
        if (next < 0) next = p + 2;
        p = ((b & 0x3f) << 8) | d[base + p + 1];
        continue;
      }
      if (kind !== 0) return null;
      if (p + 1 + b > len) return null;
      total += b + 1;
      if (total > 255) return null;
      let label = "";
      for (let i = 1; i <= b; i++) {
        const c = d[base + p + i];
        label += c > 32 && c < 127 && c !== 46 && c !== 92
          ? String.fromCharCode(c)
          : "\\" + (c === 46 || c === 92 ? String.fromCharCode(c) : c.toString().padStart(3, "0"));
      }
      name += (name === "" ? "" : ".") + label;
      p += 1 + b;
    }
    return { name: name === "" ? "<Root>" : name, next };
  }

  /** Parses all sections. */
  private parse(): DnsSections {
    const out: DnsSections = {
      questions: [],
      answers: [],
      authorities: [],
      additionals: [],
      error: null,
    };
    if (this.truncated) {
      out.error = "truncated";
      return out;
    }
    const d = this.d, base = this.o, len = this.e - this.o;
    let p = 12;
    for (let i = 0; i < this.questionCount; i++) {
      const n = this.readName(p);
      if (n === null) {
        out.error = "bad name";
        return out;
      }
      if (n.next + 4 > len) {
        out.error = "truncated";
        return out;
      }
      out.questions.push({
        name: n.name,
        type: readU16(d, base + n.next),
        class: readU16(d, base + n.next + 2),
      });
      p = n.next + 4;
    }
    const lists = [out.answers, out.authorities, out.additionals];
    const counts = [this.answerCount, this.authorityCount, this.additionalCount];
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < counts[s]; i++) {
        const n = this.readName(p);
        if (n === null) {
          out.error = "bad name";
          return out;
        }
        const q = n.next;
        if (q + 10 > len) {
          out.error = "truncated";
          return out;
        }
        const type = readU16(d, base + q);
        const rdlen = readU16(d, base + q + 8);
        if (q + 10 + rdlen > len) {
          out.error = "truncated";
          return out;
        }
        const rd = q + 10;
        let value = "";
        if (type === 1 && rdlen === 4) value = formatIPv4(readU32(d, base + rd));
        else if (type === 28 && rdlen === 16) value = formatIPv6(d, base + rd);
        else if (type === 2 || type === 5 || type === 12) value = this.readName(rd)?.name ?? "";
        else if (type === 15 && rdlen >= 3) value = this.readName(rd + 2)?.name ?? "";
        else if (type === 33 && rdlen >= 7) value = this.readName(rd + 6)?.name ?? "";
        lists[s].push({
          name: n.name,
          type,
          class: readU16(d, base + q + 2),
          ttl: readU32(d, base + q + 4),
          dataOffset: this.offset + rd,
          dataLength: rdlen,
          value,
        });
        p = rd + rdlen;
      }
    }
    return out;
  }
  /** Text form, tcpdump-like (`12345+ A? example.com.` / `12345 1/0/0 A 1.2.3.4`). */
  toString(): string {
    const q = this.questions[0];
    if (!this.isResponse) {
      return `${this.id}${this.recursionDesired ? "+" : ""}` +
        (q ? ` ${typeName(q.type)}? ${q.name}.` : "");
    }
    let s = `${this.id} ${this.answerCount}/${this.authorityCount}/${this.additionalCount}`;
    for (const a of this.answers) s += ` ${typeName(a.type)} ${a.value}`;
    return s;
  }
}

function typeName(t: number): string {
  for (const [k, v] of Object.entries(DnsType)) if (v === t) return k;
  return `Type${t}`;
}
