/**
 * Capture source strings (`rpcap://host:port/device`, `rpcaps://…`,
 * `file://path`, local names), parsed and built by exactly the rules of
 * libpcap's `pcap_parsesrcstr` / `pcap_createsrcstr` (libpcap 1.10), in
 * TypeScript: no native library needed.
 *
 * @module
 */

/** `PCAP_BUF_SIZE`: libpcap's source, host, port and name buffers hold 1023 bytes and a NUL. */
export const SOURCE_BUFFER_SIZE = 1024;

/** The kind of a capture source. */
export type SourceType = "file" | "local" | "remote";

/** libpcap's numbers for {@link SourceType} (`PCAP_SRC_FILE`, `PCAP_SRC_IFLOCAL`, `PCAP_SRC_IFREMOTE`). */
export const SourceTypeNumber: { readonly file: 2; readonly local: 3; readonly remote: 4 } = {
  file: 2,
  local: 3,
  remote: 4,
};

/** What {@link parseSource} returns. */
export interface ParsedSource {
  /** `file`, `local` or `remote`. */
  readonly type: SourceType;
  /** Remote host as libpcap gives it (with `user@` when the URL has user information); else "". */
  readonly host: string;
  /** Remote port text; "" when none was given (the rpcap default is 2002). */
  readonly port: string;
  /** Device name (local or remote) or file path; may be "". */
  readonly name: string;
  /** True for `rpcaps://` (rpcap over TLS). */
  readonly tls: boolean;
}

/** Input of {@link createSource}. */
export interface SourceParts {
  /** `file`, `local` or `remote` (or libpcap's number, 2, 3 or 4). */
  readonly type: SourceType | number;
  /** Remote host (required for `remote`); an IPv6 address is put in brackets. */
  readonly host?: string | null;
  /** Remote port. */
  readonly port?: string | number | null;
  /** Device name or file path. */
  readonly name?: string | null;
  /** `rpcaps://` instead of `rpcap://` (remote only). */
  readonly tls?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** libpcap's strlcpy into a PCAP_BUF_SIZE buffer: at most 1023 bytes (cut on a byte boundary). */
function clip(s: string): string {
  const bytes = encoder.encode(s);
  if (bytes.length < SOURCE_BUFFER_SIZE) return s;
  return decoder.decode(bytes.subarray(0, SOURCE_BUFFER_SIZE - 1));
}

/** C strings end at the first NUL. */
function cText(s: string): string {
  const i = s.indexOf("\0");
  return i < 0 ? s : s.slice(0, i);
}

/**
 * Parses a capture source string by libpcap's rules (`pcap_parsesrcstr`):
 *
 * - no `:` followed by `//`: a local device name (`eth0`, `eth0:1`);
 * - `file://PATH`: a savefile (scheme matched exactly, lower case);
 * - `rpcap://DEV` / `rpcaps://DEV` with no `/` after the `//`: a local device;
 * - `rpcap://[USER@]HOST[:PORT]/DEV`: a remote device; HOST may be a
 *   bracketed IPv6 literal (`[::1]`), and `rpcaps://` means TLS;
 * - any other `scheme://…`: the whole string is a local device name.
 *
 * Throws a `RangeError` with libpcap's own message for the two malformed
 * cases libpcap rejects (an IP literal without `]`, text after `]`).
 */
export function parseSource(source: string): ParsedSource {
  if (typeof source !== "string") throw new TypeError("source must be a string");
  const src = cText(source);
  const local = (name: string): ParsedSource => ({
    type: "local",
    host: "",
    port: "",
    name: clip(name),
    tls: false,
  });
  const colon = src.indexOf(":");
  if (colon < 0 || !src.startsWith("//", colon + 1)) return local(src);
  const scheme = src.slice(0, colon);
  const lower = scheme.toLowerCase();
  const rest = src.slice(colon + 3);
  if (lower === "file") {
    // libpcap takes everything after "file://" as the path, whatever the case
    // of the scheme, but only the exact scheme "file" makes it a file source.
    if (scheme === "file") {
      return { type: "file", host: "", port: "", name: clip(rest), tls: false };
    }
    return local(src);
  }
  if ((lower === "rpcap" || lower === "rpcaps") && !rest.includes("/")) {
    return local(rest);
  }
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  let p = authority;
  let userinfo: string | null = null;
  const at = p.indexOf("@");
  if (at >= 0) {
    userinfo = p.slice(0, at);
    p = p.slice(at + 1);
  }
  let host: string | null = null;
  let port: string | null = null;
  if (p !== "") {
    if (p[0] === "[") {
      const close = p.indexOf("]");
      if (close < 0) throw new RangeError("IP-literal in URL doesn't end with ]");
      if (close + 1 < p.length && p[close + 1] !== ":") {
        throw new RangeError("Extra text after IP-literal in URL");
      }
      host = p.slice(1, close);
      p = p.slice(close + 1);
    } else {
      const c = p.indexOf(":");
      host = c < 0 ? p : p.slice(0, c);
      p = c < 0 ? "" : p.slice(c);
    }
    if (p[0] === ":") port = p.slice(1);
  }
  const isRpcap = scheme === "rpcap" || scheme === "rpcaps";
  if (!isRpcap) return local(src);
  return {
    type: "remote",
    host: host === null ? "" : clip(userinfo !== null ? `${userinfo}@${host}` : host),
    port: port === null ? "" : clip(port),
    name: clip(path),
    tls: scheme === "rpcaps",
  };
}

function typeName(type: SourceType | number): SourceType | null {
  switch (type) {
    case "file":
    case 2:
      return "file";
    case "local":
    case 3:
      return "local";
    case "remote":
    case 4:
      return "remote";
    default:
      return null;
  }
}

/**
 * Builds a capture source string by libpcap's rules (`pcap_createsrcstr`):
 * `file://NAME`; `rpcap://NAME` for a local device; `rpcap://HOST[:PORT]/NAME`
 * (or `rpcaps://` with `tls`) for a remote one, with a host containing `:`
 * put in brackets. The result is cut to 1023 bytes like libpcap's buffer.
 * Throws a `RangeError` with libpcap's message when a file has no name, a
 * remote source no host, or the type is unknown.
 */
export function createSource(parts: SourceParts): string {
  if (parts === null || typeof parts !== "object") throw new TypeError("parts must be an object");
  const str = (v: unknown, what: string): string => {
    if (v === undefined || v === null) return "";
    if (typeof v === "number" && what === "port") return String(v);
    if (typeof v !== "string") throw new TypeError(`${what} must be a string`);
    return cText(v);
  };
  const host = str(parts.host, "host");
  const port = str(parts.port, "port");
  const name = str(parts.name, "name");
  switch (typeName(parts.type)) {
    case "file":
      if (name === "") throw new RangeError("The file name cannot be NULL.");
      return clip("file://" + name);
    case "remote": {
      if (host === "") throw new RangeError("The host name cannot be NULL.");
      let s = parts.tls ? "rpcaps://" : "rpcap://";
      s += host.includes(":") ? `[${host}]` : host;
      if (port !== "") s += ":" + port;
      s += "/";
      return clip(s + name);
    }
    case "local":
      return clip("rpcap://" + name);
    default:
      throw new RangeError("The interface type is not valid.");
  }
}
