/**
 * The Internet checksum (RFC 1071), used by IPv4, ICMP, ICMPv6, TCP and UDP.
 *
 * @module
 */

/**
 * Adds the 16-bit big-endian words of `d[from..to)` to `sum` (an odd trailing byte is padded with
 * zero). Returns the unfolded sum; fold it with {@link foldChecksum}.
 */
export function sumWords(d: Uint8Array, from: number, to: number, sum = 0): number {
  let i = from;
  const even = to - ((to - from) & 1);
  for (; i < even; i += 2) sum += (d[i] << 8) | d[i + 1];
  if (i < to) sum += d[i] << 8;
  // keep the accumulator well inside the exact-integer range
  if (sum > 0x3fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The Internet checksum of `d[from..to)` (0 when a stored checksum inside it is correct). */
export function internetChecksum(d: Uint8Array, from = 0, to: number = d.length): number {
  return foldChecksum(sumWords(d, from, to));
}
