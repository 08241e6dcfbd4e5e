/**
 * Printing network addresses the way `inet_ntop(3)` does.
 *
 * @module
 */

/** Dotted-quad text of 4 bytes (network order) at `offset`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text of 16 bytes at `offset`, as glibc's `inet_ntop` prints it. */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[offset + i * 2] << 8) | bytes[offset + i * 2 + 1]);
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, not :: or ::1).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0) {
    const v4 = formatIPv4(bytes, offset + 12);
    if (g[5] === 0xffff) return `::ffff:${v4}`;
    if (g[5] === 0 && g[6] !== 0) return `::${v4}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      parts.push(i === 0 ? ":" : "");
      i += bestLen - 1;
      if (i === 7) parts.push("");
      continue;
    }
    parts.push(g[i].toString(16));
  }
  return parts.join(":");
}

/** Colon-separated lowercase hex of `length` bytes (a MAC address for 6). */
export function formatMac(bytes: Uint8Array, offset = 0, length = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i++) parts.push(bytes[offset + i].toString(16).padStart(2, "0"));
  return parts.join(":");
}

/** Number of leading one bits of a netmask (its prefix length), or null when not contiguous. */
export function prefixLength(mask: Uint8Array): number | null {
  let n = 0;
  let i = 0;
  for (; i < mask.length && mask[i] === 0xff; i++) n += 8;
  if (i < mask.length) {
    let b = mask[i];
    while (b & 0x80) {
      n++;
      b = (b << 1) & 0xff;
    }
    if (b !== 0) return null;
    for (i++; i < mask.length; i++) if (mask[i] !== 0) return null;
  }
  return n;
}
