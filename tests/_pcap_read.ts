// A tiny private capture-file reader used only by the decode/build/flow tests and bench
// (the real reader lives in src/savefile/). Classic pcap (both byte orders, µs/ns) and a
// minimal pcapng (SHB/IDB/EPB/SPB). Stops quietly at the first malformed record.
import { readFileSync } from "node:fs";

/** One packet record. */
export interface RawPacket {
  /** Link type (DLT) of the packet. */
  linkType: number;
  /** Captured bytes (a subarray of the file). */
  data: Uint8Array;
  /** Original length on the wire. */
  origLen: number;
  /** Timestamp in seconds (float). */
  ts: number;
}

/** Reads all packets of a pcap or pcapng file. */
export function readCapture(path: string): RawPacket[] {
  return parseCapture(new Uint8Array(readFileSync(path)));
}

/** Parses the bytes of a pcap or pcapng file. */
export function parseCapture(buf: Uint8Array): RawPacket[] {
  if (buf.length < 4) return [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = dv.getUint32(0, false);
  if (m === 0x0a0d0d0a) return parsePcapng(buf, dv);
  let le: boolean, nano: boolean;
  if (m === 0xd4c3b2a1) [le, nano] = [true, false];
  else if (m === 0xa1b2c3d4) [le, nano] = [false, false];
  else if (m === 0x4d3cb2a1) [le, nano] = [true, true];
  else if (m === 0xa1b23c4d) [le, nano] = [false, true];
  else return [];
  if (buf.length < 24) return [];
  const linkType = dv.getUint32(20, le) & 0x03ffffff;
  const out: RawPacket[] = [];
  for (let p = 24; p + 16 <= buf.length;) {
    const sec = dv.getUint32(p, le), frac = dv.getUint32(p + 4, le);
    const incl = dv.getUint32(p + 8, le), orig = dv.getUint32(p + 12, le);
    if (p + 16 + incl > buf.length || incl > 0x10000000) break;
    out.push({
      linkType,
      data: buf.subarray(p + 16, p + 16 + incl),
      origLen: orig,
      ts: sec + frac / (nano ? 1e9 : 1e6),
    });
    p += 16 + incl;
  }
  return out;
}

function parsePcapng(buf: Uint8Array, dv: DataView): RawPacket[] {
  const out: RawPacket[] = [];
  let le = true;
  let ifaces: { linkType: number; tsDiv: number }[] = [];
  for (let p = 0; p + 12 <= buf.length;) {
    let type = dv.getUint32(p, le);
    if (type === 0x0a0d0d0a) {
      const bom = dv.getUint32(p + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else break;
      type = 0x0a0d0d0a;
      ifaces = [];
    }
    const len = dv.getUint32(p + 4, le);
    if (len < 12 || (len & 3) !== 0 || p + len > buf.length) break;
    const body = p + 8;
    if (type === 1 && len >= 20) {
      let tsDiv = 1e6;
      // if_tsresol option (9)
      for (let q = body + 8; q + 4 <= p + len - 4;) {
        const code = dv.getUint16(q, le), olen = dv.getUint16(q + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = buf[q + 4];
          tsDiv = (r & 0x80) ? 2 ** (r & 0x7f) : 10 ** r;
        }
        q += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType: dv.getUint16(body, le), tsDiv });
    } else if (type === 6 && len >= 32) {
      const ifc = ifaces[dv.getUint32(body, le)];
      const hi = dv.getUint32(body + 4, le), lo = dv.getUint32(body + 8, le);
      const cap = dv.getUint32(body + 12, le), orig = dv.getUint32(body + 16, le);
      if (ifc && body + 20 + cap <= p + len) {
        out.push({
          linkType: ifc.linkType,
          data: buf.subarray(body + 20, body + 20 + cap),
          origLen: orig,
          ts: (hi * 4294967296 + lo) / ifc.tsDiv,
        });
      }
    } else if (type === 3 && len >= 16) {
      const ifc = ifaces[0];
      const orig = dv.getUint32(body, le);
      const cap = Math.min(orig, len - 16);
      if (ifc) {
        out.push({
          linkType: ifc.linkType,
          data: buf.subarray(body + 4, body + 4 + cap),
          origLen: orig,
          ts: 0,
        });
      }
    }
    p += len;
  }
  return out;
}

/** Writes a classic little-endian µs pcap file image from packets. */
export function writePcap(
  linkType: number,
  packets: { data: Uint8Array; ts?: number }[],
): Uint8Array {
  let size = 24;
  for (const p of packets) size += 16 + p.data.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, linkType, true);
  let p = 24;
  let i = 0;
  for (const pk of packets) {
    const ts = pk.ts ?? 1700000000 + i++;
    dv.setUint32(p, Math.floor(ts), true);
    dv.setUint32(p + 4, Math.round((ts % 1) * 1e6) % 1000000, true);
    dv.setUint32(p + 8, pk.data.length, true);
    dv.setUint32(p + 12, pk.data.length, true);
    out.set(pk.data, p + 16);
    p += 16 + pk.data.length;
  }
  return out;
}
