/**
 * Number formatting shared by the terminal view and its tests (the web page has its own copy
 * in its inline script).
 *
 * @module
 */

const SI = ["", "k", "M", "G", "T", "P"];

/** Three significant digits with an SI prefix: `999`, `1.23 k`, `45.6 M`. */
function si(n: number, unit: string): string {
  if (!Number.isFinite(n) || n <= 0) return `0 ${unit}`;
  let i = 0;
  while (n >= 999.5 && i < SI.length - 1) {
    n /= 1000;
    i++;
  }
  const text = i === 0 ? String(Math.round(n)) : n.toFixed(n < 9.995 ? 2 : n < 99.95 ? 1 : 0);
  return `${text} ${SI[i]}${unit}`;
}

/** Bits per second: `0 bit/s`, `960 bit/s`, `1.23 kbit/s`, `800 kbit/s`, `1.00 Mbit/s`. */
export function formatBits(bitsPerSecond: number): string {
  return si(bitsPerSecond, "bit/s");
}

/** Bytes: `0 B`, `512 B`, `1.50 kB`, `12.3 MB` (SI: 1 kB = 1000 B). */
export function formatBytes(bytes: number): string {
  return si(bytes, "B");
}

/** A count with thousands separators: `1,234,567`. */
export function formatCount(n: number): string {
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Packets per second: one decimal below 100 (`12.5`), else a rounded count (`1,234`). */
export function formatPps(pps: number): string {
  if (!Number.isFinite(pps) || pps <= 0) return "0.0";
  return pps < 99.95 ? pps.toFixed(1) : formatCount(pps);
}

/** Seconds as `HH:MM:SS`, with days in front past 24 hours (`2d 03:04:05`). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const p = (n: number): string => String(n).padStart(2, "0");
  const hms = `${p(Math.floor((s % 86400) / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
  return d > 0 ? `${d}d ${hms}` : hms;
}

/** An endpoint: `10.0.0.1:80`, `[2001:db8::1]:53`, or the bare address when `port` is 0. */
export function formatEndpoint(address: string, port: number): string {
  if (port === 0) return address;
  return (address.includes(":") ? `[${address}]` : address) + ":" + port;
}

/** A share in percent with one decimal: `45.0%`. */
export function formatShare(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "0.0%";
}
