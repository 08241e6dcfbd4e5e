/**
 * An rpcap server in TypeScript: serves this machine's devices (captured
 * through `openLive`) to any rpcap client — libpcap's `pcap_open("rpcap://…")`,
 * Wireshark, WinPcap/Npcap tools, or {@link connectRemote}.
 *
 * Safe defaults: binds 127.0.0.1, requires user name and password unless
 * null authentication is asked for explicitly, compares credentials in
 * constant time, limits clients, message sizes and filter lengths, and
 * answers a malformed message with an rpcap error and a closed connection.
 *
 * @module
 */

import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import {
  createSecureContext,
  createServer as createTlsServer,
  type TlsOptions,
  TLSSocket,
} from "node:tls";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createHash, timingSafeEqual } from "node:crypto";
import { openLive } from "../open.ts";
import { listDevices } from "../devices.ts";
import type { Device } from "../devices.ts";
import type { LiveCapture } from "../capture.ts";
import type { Packet } from "../packet.ts";
import { registerServingPort } from "./inprocess.ts";
import {
  addressBytes,
  AF_INET,
  AF_INET6,
  AuthType,
  BYTE_ORDER_MAGIC,
  decodeFilter,
  DEFAULT_PORT,
  encodeMessage,
  errorMessage,
  Framer,
  type FramingError,
  HEADER_SIZE,
  MAX_FILTER_INSTRUCTIONS,
  type Message,
  messageName,
  Msg,
  PKTHDR_SIZE,
  PROTOCOL_VERSION,
  RemoteErrorCode as E,
  SOCKADDR_SIZE,
  StartFlag,
  text,
  utf8,
  type WireInstruction,
} from "./protocol.ts";
import { programFromInstructions } from "./bpf.ts";

/** Checks a user name and password; may be async. */
export type Authenticator = (username: string, password: string) => boolean | Promise<boolean>;

/**
 * Active mode (`rpcapd -a host,port`): the server connects to a listening client.
 *
 * ```ts
 * import { serveRemote } from "@netcap/pcap/remote";
 *
 * const server = await serveRemote({
 *   auth: { alice: "secret" },
 *   active: { host: "collector.example", port: 2003 },
 * });
 * ```
 */
export interface ActiveServeOptions {
  /** The client's host name or address. */
  readonly host: string;
  /** The client's port (default 2003, rpcap's active-mode port). */
  readonly port?: number;
  /** Milliseconds between a refused or ended connection and the next attempt (default 1000). */
  readonly retryMs?: number;
  /** Milliseconds to wait for the connection (and the TLS handshake) to be made (default 10000). */
  readonly connectTimeout?: number;
}

/** Options of {@link serveRemote}. */
export interface ServeOptions {
  /**
   * Active mode, like `rpcapd -a host,port`: instead of listening, connect to a client
   * waiting in active mode (`listenRemote`, `pcap_remoteact_accept`), serve it as usual
   * (its data connections are opened by this server too), and connect again
   * `retryMs` after the connection ends or is refused, until closed. `hostname` and
   * `port` are then unused.
   */
  readonly active?: ActiveServeOptions;
  /** Address to bind (default "127.0.0.1": only this machine can connect). */
  readonly hostname?: string;
  /** Port (default 2002; 0 picks a free one). */
  readonly port?: number;
  /**
   * Accepted credentials: a map of user name to password (compared in
   * constant time), or a function. Required unless `nullAuth` is true.
   */
  readonly auth?: Readonly<Record<string, string>> | Authenticator;
  /** Accept null authentication (anyone who can connect may capture). Default false. */
  readonly nullAuth?: boolean;
  /** Devices offered (default: all of `listDevices()`): names, or a predicate. */
  readonly devices?: readonly string[] | ((name: string) => boolean);
  /** Clients served at once (default 16); more are refused with an error. */
  readonly maxClients?: number;
  /** Largest control message accepted, payload bytes (default 131072). */
  readonly maxMessageSize?: number;
  /** Largest filter, in instructions (default 8192, rpcapd's limit). */
  readonly maxFilterInstructions?: number;
  /** Largest snapshot length granted (default 262144). */
  readonly maxSnaplen?: number;
  /** Live captures running at once, all clients together (default 8). */
  readonly maxCaptures?: number;
  /** Milliseconds a client has to authenticate (default 30000). */
  readonly authTimeout?: number;
  /** Milliseconds a client may stay silent with no capture running (default 180000). */
  readonly idleTimeout?: number;
  /** Milliseconds the client has to open the data connection (default 10000). */
  readonly dataTimeout?: number;
  /** Pause after a failed authentication, milliseconds (default 1000). */
  readonly authFailureDelay?: number;
  /** Failed authentications before the connection is closed (default 3). */
  readonly maxAuthAttempts?: number;
  /**
   * Data channels the server opens toward the client (only ever to the
   * control connection's peer address): UDP (`PCAP_OPENFLAG_DATATX_UDP`) and
   * active TCP (`RPCAP_STARTCAPREQ_FLAG_SERVEROPEN`). Both allowed by default.
   */
  readonly serverOpenedData?: { readonly udp?: boolean; readonly tcp?: boolean };
  /** rpcap over TLS (`rpcaps://`): `node:tls` server options (`key`, `cert`, …). */
  readonly tls?: TlsOptions;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
  /** Receives errors of single connections (default: ignored). */
  readonly onError?: (error: Error) => void;
}

/** A running server. */
export interface RemoteServer {
  /** Bound address (active mode: the client's host). */
  readonly hostname: string;
  /** Bound port (active mode: the client's port). */
  readonly port: number;
  /** True in active mode (the server connects to the client). */
  readonly active: boolean;
  /** Clients connected now. */
  readonly clients: number;
  /** Captures running now. */
  readonly captures: number;
  /** Stops accepting, ends every session, resolves once closed. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

class Malformed extends Error {
  code: number;
  constructor(message: string, code: number = E.WRONGMSG) {
    super(message);
    this.code = code;
  }
}

function digest(s: string): Uint8Array {
  return createHash("sha256").update(s, "utf8").digest();
}

/** Constant-time check against a table: every entry is compared, whatever matches. */
function tableAuthenticator(table: Readonly<Record<string, string>>): Authenticator {
  const entries = Object.entries(table).map(([u, p]) => [digest(u), digest(p)] as const);
  return (username, password) => {
    const u = digest(username);
    const p = digest(password);
    let ok = 0;
    for (const [eu, ep] of entries) {
      const both = (timingSafeEqual(u, eu) ? 1 : 0) & (timingSafeEqual(p, ep) ? 1 : 0);
      ok |= both;
    }
    return ok === 1;
  };
}

function sockaddr(
  out: Uint8Array,
  at: number,
  family: "ipv4" | "ipv6",
  text: string | null,
  scopeId = 0,
): void {
  if (!text) return;
  const bytes = addressBytes(text);
  if (!bytes) return;
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (family === "ipv4" && bytes.length === 4) {
    v.setUint16(at, AF_INET);
    out.set(bytes, at + 4);
  } else if (family === "ipv6" && bytes.length === 16) {
    v.setUint16(at, AF_INET6);
    out.set(bytes, at + 8);
    v.setUint32(at + 24, scopeId >>> 0);
  }
}

/** Encodes a `RPCAP_MSG_FINDALLIF_REPLY` payload. @internal */
export function encodeDeviceList(devices: readonly Device[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const d of devices) {
    const name = utf8(d.name).subarray(0, 65535);
    const desc = utf8(d.description ?? "").subarray(0, 65535);
    const addrs = d.addresses.filter((a) => a.family === "ipv4" || a.family === "ipv6").slice(
      0,
      65535,
    );
    const head = new Uint8Array(12);
    const hv = new DataView(head.buffer);
    hv.setUint16(0, name.length);
    hv.setUint16(2, desc.length);
    hv.setUint32(4, d.rawFlags >>> 0);
    hv.setUint16(8, addrs.length);
    parts.push(head, name, desc);
    for (const a of addrs) {
      const block = new Uint8Array(4 * SOCKADDR_SIZE);
      const fam = a.family as "ipv4" | "ipv6";
      sockaddr(block, 0, fam, a.address, a.scopeId);
      sockaddr(block, SOCKADDR_SIZE, fam, a.netmask);
      sockaddr(block, 2 * SOCKADDR_SIZE, fam, a.broadcast);
      sockaddr(block, 3 * SOCKADDR_SIZE, fam, a.destination);
      parts.push(block);
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface Limits {
  maxMessageSize: number;
  maxFilter: number;
  maxSnaplen: number;
  maxCaptures: number;
  authTimeout: number;
  idleTimeout: number;
  dataTimeout: number;
  authFailureDelay: number;
  maxAuthAttempts: number;
  udpData: boolean;
  activeData: boolean;
}

interface Shared {
  captures: number;
  limits: Limits;
  authenticate: Authenticator | null;
  nullAuth: boolean;
  offered: (name: string) => boolean;
  onError: (e: Error) => void;
  tls: (() => Server) | null;
  /** TLS server side on a connection this server opened (active mode, server-opened data). */
  secure: ((raw: Socket) => Promise<Socket>) | null;
  linkTypes: Map<string, { linkType: number; at: number }>;
}

/** One live capture streaming to one client. */
class Session {
  capture: LiveCapture;
  data: Socket | UdpSocket | null = null;
  listener: Server | null = null;
  sent = 0;
  stopped = false;
  #shared: Shared;
  #done: Promise<void> | null = null;

  constructor(capture: LiveCapture, shared: Shared) {
    this.capture = capture;
    this.#shared = shared;
    shared.captures++;
  }

  /** Streams packets to the data channel until stopped. */
  run(): void {
    this.#done = this.#pump().catch((e) => this.#shared.onError(e as Error)).finally(() =>
      this.stop()
    );
  }

  async #pump(): Promise<void> {
    const data = this.data!;
    const udp = !("write" in data);
    for await (const batch of this.capture.batches()) {
      if (this.stopped) return;
      if (udp) {
        for (const p of batch) (data as UdpSocket).send(this.#encode(p));
      } else {
        const s = data as Socket;
        if (s.destroyed) return;
        const buf = this.#encodeBatch(batch);
        if (!s.write(buf)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              s.off("drain", done);
              s.off("close", done);
              resolve();
            };
            s.on("drain", done);
            s.on("close", done);
          });
        }
      }
    }
  }

  /** The packet messages of a batch, back to back in one buffer (one write). */
  #encodeBatch(batch: readonly Packet[]): Uint8Array {
    const head = HEADER_SIZE + PKTHDR_SIZE;
    let total = 0;
    for (let i = 0; i < batch.length; i++) total += head + batch[i].caplen;
    const out = new Uint8Array(total);
    const v = new DataView(out.buffer);
    let o = 0;
    let sent = this.sent;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const caplen = p.caplen;
      // version 0, type PACKET, value 0, length; then struct rpcap_pkthdr.
      v.setUint32(o, Msg.PACKET << 16);
      v.setUint32(o + 4, PKTHDR_SIZE + caplen);
      v.setUint32(o + 8, p.seconds >>> 0);
      v.setUint32(o + 12, (p.nanoseconds / 1000) >>> 0);
      v.setUint32(o + 16, caplen);
      v.setUint32(o + 20, p.length);
      v.setUint32(o + 24, ++sent);
      out.set(p.data, o + head);
      o += head + caplen;
    }
    this.sent = sent;
    return out;
  }

  #encode(p: Packet): Uint8Array {
    const out = new Uint8Array(HEADER_SIZE + PKTHDR_SIZE + p.caplen);
    const v = new DataView(out.buffer);
    v.setUint8(1, Msg.PACKET);
    v.setUint32(4, PKTHDR_SIZE + p.caplen);
    v.setUint32(8, p.seconds >>> 0);
    v.setUint32(12, Math.floor(p.nanoseconds / 1000));
    v.setUint32(16, p.caplen);
    v.setUint32(20, p.length);
    v.setUint32(24, ++this.sent);
    out.set(p.data, HEADER_SIZE + PKTHDR_SIZE);
    return out;
  }

  #final: Uint8Array | null = null;
  /** Called once the session stopped (for whatever reason). */
  onStop: () => void = () => {};

  stats(): Uint8Array {
    if (this.#final) return this.#final;
    const st = this.capture.closed
      ? { received: 0, dropped: 0, interfaceDropped: 0 }
      : this.capture.stats();
    const out = new Uint8Array(16);
    const v = new DataView(out.buffer);
    v.setUint32(0, st.received >>> 0);
    v.setUint32(4, st.interfaceDropped >>> 0);
    v.setUint32(8, st.dropped >>> 0);
    v.setUint32(12, this.sent >>> 0);
    return out;
  }

  stop(): void {
    if (this.stopped) return;
    try {
      this.#final = this.stats(); // what ENDCAP and later STATS report
    } catch { /* no statistics */ }
    this.stopped = true;
    this.#shared.captures--;
    try {
      this.capture.close();
    } catch { /* closed */ }
    queueMicrotask(() => this.onStop());
    this.listener?.close();
    this.listener = null;
    const d = this.data;
    this.data = null;
    if (d) {
      if ("destroy" in d) d.destroy();
      else {
        try {
          d.close();
        } catch { /* closed */ }
      }
    }
  }

  async finished(): Promise<void> {
    await this.#done;
  }
}

/** One control connection. */
class Connection {
  readonly socket: Socket;
  readonly #shared: Shared;
  readonly #framer: Framer;
  #authenticated = false;
  #authFailures = 0;
  #device: string | null = null;
  #session: Session | null = null;
  #lastStats: Uint8Array = new Uint8Array(16);
  #busy = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly closedPromise: Promise<void>;

  constructor(socket: Socket, shared: Shared) {
    this.socket = socket;
    this.#shared = shared;
    this.#framer = new Framer(shared.limits.maxMessageSize);
    let resolveClosed!: () => void;
    this.closedPromise = new Promise((r) => resolveClosed = r);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      this.#framer.push(chunk);
      this.#pump();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#closed = true;
      this.#clearTimer();
      this.#session?.stop();
      this.#session = null;
      resolveClosed();
    });
    this.#arm(shared.limits.authTimeout, E.INITTIMEOUT, "The RPCAP initial timeout has expired");
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number, code: number, message: string): void {
    this.#clearTimer();
    if (ms <= 0 || !Number.isFinite(ms)) return;
    this.#timer = setTimeout(() => this.#fatal(code, message), ms);
  }

  #send(bytes: Uint8Array): void {
    if (!this.#closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  #reply(request: number, payload?: Uint8Array, value = 0): void {
    this.#send(encodeMessage(request | Msg.IS_REPLY, value, payload));
  }

  #error(code: number, message: string): void {
    this.#send(errorMessage(code, message));
  }

  /** An error reply, then the connection closed. */
  #fatal(code: number, message: string): void {
    if (this.#closed) return;
    this.#error(code, message);
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#session?.stop();
    this.#session = null;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref?.();
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.socket.pause();
    try {
      while (!this.#closed) {
        let m: Message | null;
        try {
          m = this.#framer.take();
        } catch (e) {
          const h = (e as FramingError).header;
          this.#fatal(
            E.WRONGMSG,
            `${
              messageName(h?.type ?? 0)
            } of ${h?.length} bytes is larger than the limit of ${this.#shared.limits.maxMessageSize}`,
          );
          return;
        }
        if (!m) break;
        try {
          await this.#handle(m);
        } catch (e) {
          if (e instanceof Malformed) this.#fatal(e.code, e.message);
          else {
            this.#shared.onError(e as Error);
            this.#fatal(E.NETW, `Server error: ${(e as Error).message}`);
          }
          return;
        }
      }
    } finally {
      this.#busy = false;
      if (!this.#closed) this.socket.resume();
    }
  }

  async #handle(m: Message): Promise<void> {
    if (m.version !== PROTOCOL_VERSION) {
      throw new Malformed("RPCAP version in message isn't supported by the server", E.WRONGVER);
    }
    if (!this.#authenticated) {
      if (m.type === Msg.AUTH_REQ) return await this.#auth(m);
      if (m.type === Msg.CLOSE) return this.close();
      if (m.type === Msg.ERROR) return this.close();
      throw new Malformed(
        m.type >= 2 && m.type <= 11
          ? `${messageName(m.type)} request sent before authentication was completed`
          : `Unknown message type ${m.type}`,
      );
    }
    const idle = this.#shared.limits.idleTimeout;
    if (!this.#session || this.#session.stopped) {
      this.#arm(idle, E.RUNTIMETIMEOUT, "The RPCAP run-time timeout has expired");
    }
    switch (m.type) {
      case Msg.FINDALLIF_REQ:
        return this.#findAll();
      case Msg.OPEN_REQ:
        return this.#open(m);
      case Msg.STARTCAP_REQ:
        return await this.#startCapture(m);
      case Msg.UPDATEFILTER_REQ:
        return this.#updateFilter(m);
      case Msg.STATS_REQ:
        this.#reply(Msg.STATS_REQ, this.#session ? this.#session.stats() : this.#lastStats);
        return;
      case Msg.ENDCAP_REQ:
        if (!this.#session) {
          return this.#error(E.ENDCAPTURE, "Device not opened. Cannot close the capture");
        }
        this.#lastStats = this.#session.stats();
        this.#session.stop();
        this.#session = null;
        this.#reply(Msg.ENDCAP_REQ);
        this.#arm(idle, E.RUNTIMETIMEOUT, "The RPCAP run-time timeout has expired");
        return;
      case Msg.SETSAMPLING_REQ:
        if (m.payload.length < 8) throw new Malformed("Message payload is too short");
        if (m.payload[0] !== 0) {
          return this.#error(E.SETSAMPLING, "Sampling is not supported by this server");
        }
        this.#reply(Msg.SETSAMPLING_REQ);
        return;
      case Msg.CLOSE:
        return this.close();
      case Msg.ERROR:
        return; // the client reports an error: nothing to answer
      case Msg.AUTH_REQ:
        throw new Malformed("RPCAP_MSG_AUTH_REQ request sent after authentication was completed");
      default:
        throw new Malformed(
          m.type & Msg.IS_REPLY || m.type === Msg.PACKET
            ? `Server-to-client message ${messageName(m.type)} received from client`
            : `Unknown message type ${m.type}`,
        );
    }
  }

  async #auth(m: Message): Promise<void> {
    const p = m.payload;
    if (p.length < 8) throw new Malformed("Message payload is too short", E.AUTH);
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const type = v.getUint16(0);
    let ok = false;
    if (type === AuthType.NULL) {
      if (!this.#shared.nullAuth) {
        return this.#authFailed("Authentication failed; NULL authentication not permitted.");
      }
      ok = true;
    } else if (type === AuthType.PASSWORD) {
      const l1 = v.getUint16(4);
      const l2 = v.getUint16(6);
      if (8 + l1 + l2 > p.length) throw new Malformed("Message payload is too short", E.AUTH);
      const user = text(p.subarray(8, 8 + l1));
      const pass = text(p.subarray(8 + l1, 8 + l1 + l2));
      const check = this.#shared.authenticate;
      ok = check !== null && (await check(user, pass)) === true;
      if (!ok) return this.#authFailed("Authentication failed: wrong user name or password");
    } else {
      throw new Malformed("Authentication type not recognized.", E.AUTH_TYPE_NOTSUP);
    }
    this.#authenticated = true;
    const reply = new Uint8Array(8);
    reply[0] = PROTOCOL_VERSION; // minvers
    reply[1] = PROTOCOL_VERSION; // maxvers
    // The byte-order magic in this host's byte order (as rpcapd writes it): a client on a
    // host of the other order knows that host-endian link-layer headers need swapping.
    const hostLittle = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    new DataView(reply.buffer).setUint32(4, BYTE_ORDER_MAGIC, hostLittle);
    this.#reply(Msg.AUTH_REQ, reply);
    this.#arm(
      this.#shared.limits.idleTimeout,
      E.RUNTIMETIMEOUT,
      "The RPCAP run-time timeout has expired",
    );
  }

  async #authFailed(message: string): Promise<void> {
    this.#authFailures++;
    const delay = this.#shared.limits.authFailureDelay;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.#authFailures >= this.#shared.limits.maxAuthAttempts) {
      return this.#fatal(E.AUTH_FAILED, message);
    }
    this.#error(E.AUTH_FAILED, message);
  }

  #served(): Device[] {
    return listDevices().filter((d) => this.#shared.offered(d.name));
  }

  #findAll(): void {
    let devices: Device[];
    try {
      devices = this.#served();
    } catch (e) {
      return this.#error(E.FINDALLIF, (e as Error).message);
    }
    if (devices.length === 0) {
      return this.#error(
        E.NOREMOTEIF,
        "No interfaces found! Make sure libpcap/WinPcap is properly installed and you have the right to access to the remote device.",
      );
    }
    this.#reply(Msg.FINDALLIF_REQ, encodeDeviceList(devices), Math.min(devices.length, 65535));
  }

  #open(m: Message): void {
    if (m.payload.length > 1023) return this.#error(E.OPEN, "Source string too long");
    const name = text(m.payload);
    if (name.includes("\0") || /^[a-z]+:\/\//i.test(name)) {
      return this.#error(E.OPEN, "Source string refers to a remote device");
    }
    if (!this.#shared.offered(name)) {
      return this.#error(E.OPEN, `${name}: this device is not offered by this server`);
    }
    // Opening a device costs tens of milliseconds (ring set-up and tear-down): the link
    // type is remembered for a few seconds, which also blunts floods of open requests.
    let linkType: number;
    const known = this.#shared.linkTypes.get(name);
    if (known && Date.now() - known.at < 5000) linkType = known.linkType;
    else {
      try {
        const cap = openLive(name, { snaplen: 1500, timeout: 1000, onWarning: () => {} });
        linkType = cap.linkType;
        cap.close();
      } catch (e) {
        return this.#error(E.OPEN, (e as Error).message);
      }
      this.#shared.linkTypes.set(name, { linkType, at: Date.now() });
    }
    this.#device = name;
    const out = new Uint8Array(8);
    new DataView(out.buffer).setInt32(0, linkType);
    this.#reply(Msg.OPEN_REQ, out);
  }

  #filterFrom(m: Message, offset: number): readonly WireInstruction[] | string {
    const r = decodeFilter(m.payload, offset, this.#shared.limits.maxFilter);
    if ("error" in r) {
      if (r.error === "Message payload is too short") throw new Malformed(r.error);
      return r.error;
    }
    return r.instructions;
  }

  async #startCapture(m: Message): Promise<void> {
    const p = m.payload;
    if (p.length < 12) throw new Malformed("Message payload is too short");
    if (this.#device === null) {
      return this.#error(E.STARTCAPTURE, "No capture device was specified");
    }
    if (this.#session?.stopped) {
      // The data connection went away: the capture ended on its own.
      this.#lastStats = this.#session.stats();
      this.#session = null;
    }
    if (this.#session) {
      return this.#error(E.STARTCAPTURE, "A capture is already running on this connection");
    }
    const limits = this.#shared.limits;
    if (this.#shared.captures >= limits.maxCaptures) {
      return this.#error(E.STARTCAPTURE, "Too many captures running on this server");
    }
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    let snaplen = v.getUint32(0);
    const timeout = Math.min(v.getUint32(4), 60_000);
    const flags = v.getUint16(8);
    const portdata = v.getUint16(10);
    const filter = this.#filterFrom(m, 12);
    if (typeof filter === "string") return this.#error(E.STARTCAPTURE, filter);
    const udp = (flags & StartFlag.DGRAM) !== 0;
    const serverOpen = udp || (flags & StartFlag.SERVEROPEN) !== 0;
    if (serverOpen && portdata === 0) return this.#error(E.STARTCAPTURE, "No data port given");
    if (udp && !limits.udpData) {
      return this.#error(E.STARTCAPTURE, "UDP data channels are disabled on this server");
    }
    if (serverOpen && !udp && !limits.activeData) {
      return this.#error(
        E.STARTCAPTURE,
        "Server-opened data connections are disabled on this server",
      );
    }
    if (udp && "encrypted" in this.socket) {
      return this.#error(E.STARTCAPTURE, "SSL not supported with UDP forward of remote packets");
    }
    if (snaplen === 0 || snaplen > limits.maxSnaplen) snaplen = limits.maxSnaplen;
    if (udp) snaplen = Math.min(snaplen, 65507 - HEADER_SIZE - PKTHDR_SIZE);
    let capture: LiveCapture;
    try {
      capture = openLive(this.#device, {
        snaplen,
        promiscuous: (flags & StartFlag.PROMISC) !== 0,
        timeout: Math.max(1, timeout),
        onWarning: () => {},
      });
    } catch (e) {
      return this.#error(E.STARTCAPTURE, (e as Error).message);
    }
    const session = new Session(capture, this.#shared);
    session.onStop = () => {
      // Without a running capture, the idle timeout applies again.
      if (this.#session === session && !this.#closed) {
        this.#arm(
          this.#shared.limits.idleTimeout,
          E.RUNTIMETIMEOUT,
          "The RPCAP run-time timeout has expired",
        );
      }
    };
    try {
      if (flags & StartFlag.INBOUND) capture.setDirection("in");
      else if (flags & StartFlag.OUTBOUND) capture.setDirection("out");
      capture.setFilter(programFromInstructions(filter));
    } catch (e) {
      session.stop();
      return this.#error(E.STARTCAPTURE, `RPCAP error: ${(e as Error).message}`);
    }
    const peer = this.socket.remoteAddress ?? "127.0.0.1";
    const local = this.socket.localAddress ?? "127.0.0.1";
    const reply = new Uint8Array(8);
    const rv = new DataView(reply.buffer);
    rv.setInt32(0, 2 << 20);
    try {
      if (udp) {
        const sock = createSocket(peer.includes(":") ? "udp6" : "udp4");
        sock.on("error", () => session.stop());
        await new Promise<void>((resolve, reject) => {
          sock.once("error", reject);
          sock.connect(portdata, peer, () => {
            sock.removeListener("error", reject);
            resolve();
          });
        });
        session.data = sock;
        this.#session = session;
        this.#clearTimer();
        this.#reply(Msg.STARTCAP_REQ, reply);
        session.run();
        return;
      }
      if (serverOpen) {
        const sock = await socketReady(
          netConnect({ host: peer, port: portdata }),
          "connect",
          limits.dataTimeout,
          "timed out",
        );
        const secure = this.#shared.secure;
        if (secure) {
          // The client starts TLS on the data connection too (it is the TLS client), once
          // it has the reply.
          sock.on("error", () => {});
          this.#session = session;
          this.#clearTimer();
          this.#reply(Msg.STARTCAP_REQ, reply);
          secure(sock).then((s) => {
            if (session.stopped) return void s.destroy();
            s.on("error", () => session.stop());
            s.on("close", () => session.stop());
            session.data = s;
            session.run();
          }, () => {
            sock.destroy();
            session.stop();
          });
          return;
        }
        sock.on("error", () => session.stop());
        sock.on("close", () => session.stop());
        session.data = sock;
        this.#session = session;
        this.#clearTimer();
        this.#reply(Msg.STARTCAP_REQ, reply);
        session.run();
        return;
      }
      // Passive: listen on the control connection's local address; accept the peer only.
      const listener = this.#shared.tls ? this.#shared.tls() : createServer();
      session.listener = listener;
      await new Promise<void>((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(0, local, () => {
          listener.removeListener("error", reject);
          resolve();
        });
      });
      const dataPort = (listener.address() as { port: number }).port;
      const accepted = new Promise<Socket | null>((resolve) => {
        const t = setTimeout(() => resolve(null), limits.dataTimeout);
        listener.on(this.#shared.tls ? "secureConnection" : "connection", (s: Socket) => {
          if (s.remoteAddress !== peer || session.data) {
            s.destroy();
            return;
          }
          clearTimeout(t);
          resolve(s);
        });
        listener.on("error", () => {});
      });
      rv.setUint16(4, dataPort);
      this.#session = session;
      this.#clearTimer();
      this.#reply(Msg.STARTCAP_REQ, reply);
      accepted.then((s) => {
        listener.close();
        if (session.listener === listener) session.listener = null;
        if (!s || session.stopped) {
          s?.destroy();
          session.stop();
          if (this.#session === session) {
            this.#session = null;
            this.#error(E.STARTCAPTURE, "The client did not open the data connection in time");
            this.#arm(
              limits.idleTimeout,
              E.RUNTIMETIMEOUT,
              "The RPCAP run-time timeout has expired",
            );
          }
          return;
        }
        s.setNoDelay(true);
        s.on("error", () => {});
        s.on("close", () => session.stop());
        s.on("data", () => {}); // the client sends nothing on it
        session.data = s;
        session.run();
      });
    } catch (e) {
      session.stop();
      if (this.#session === session) this.#session = null;
      return this.#error(E.STARTCAPTURE, (e as Error).message);
    }
  }

  #updateFilter(m: Message): void {
    const filter = this.#filterFrom(m, 0);
    if (!this.#session) {
      return this.#error(E.UPDATEFILTER, "Device not opened. Cannot update filter");
    }
    if (typeof filter === "string") return this.#error(E.UPDATEFILTER, filter);
    try {
      this.#session.capture.setFilter(programFromInstructions(filter));
    } catch (e) {
      return this.#error(E.UPDATEFILTER, `RPCAP error: ${(e as Error).message}`);
    }
    this.#reply(Msg.UPDATEFILTER_REQ);
  }
}

/** Makes the TLS server side on sockets this server connected (`node:tls` options). */
function secureServerSide(
  options: TlsOptions,
  timeoutMs: number,
): (raw: Socket) => Promise<Socket> {
  const context = createSecureContext(options);
  // async: a TLSSocket constructor that throws gives a rejected promise
  return async (raw) => {
    const s = new TLSSocket(raw, { ...options, isServer: true, secureContext: context });
    return await socketReady(s, "secure", timeoutMs, "TLS handshake timed out", {
      destroyOnError: true,
    });
  };
}

/**
 * Waits for `s` to emit `ready` ("connect", "secure"): resolves with it then (its error
 * listeners removed); rejects on its error (destroying it with `destroyOnError`), on its close
 * before that with `rejectOnClose`, or after `timeoutMs` with `timeoutMessage` (destroying it).
 */
function socketReady(
  s: Socket,
  ready: "connect" | "secure",
  timeoutMs: number,
  timeoutMessage: string,
  { destroyOnError = false, rejectOnClose = false } = {},
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(timeoutMessage));
    }, timeoutMs);
    s.once(ready, () => {
      clearTimeout(t);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (e: Error) => {
      clearTimeout(t);
      if (destroyOnError) s.destroy();
      reject(e);
    });
    if (rejectOnClose) {
      s.once("close", () => {
        clearTimeout(t);
        reject(new Error("closed"));
      });
    }
  });
}

/** Active mode: one connection at a time to the client, made again until closed. */
function serveActive(
  active: ActiveServeOptions,
  shared: Shared,
  signal: AbortSignal | undefined,
): RemoteServer {
  if (!active || typeof active.host !== "string" || active.host === "") {
    throw new TypeError("active.host must be a non-empty string");
  }
  const host = active.host;
  const port = active.port ?? 2003;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError("active.port must be 1-65535");
  }
  const retryMs = active.retryMs ?? 1000;
  const connectTimeout = active.connectTimeout ?? 10_000;
  if (!(retryMs >= 0) || !(connectTimeout > 0)) {
    throw new RangeError("active.retryMs and active.connectTimeout must be positive numbers");
  }
  signal?.throwIfAborted();
  let closing = false;
  let current: Connection | null = null;
  let dialing: Socket | null = null;
  let wakeRetry: (() => void) | null = null;
  const dial = (): Promise<Socket> => {
    const s = netConnect({ host, port });
    dialing = s;
    return socketReady(
      s,
      "connect",
      connectTimeout,
      `Cannot connect to ${host}:${port}: timed out`,
      {
        rejectOnClose: true,
      },
    ).finally(() => dialing = null);
  };
  const loop = (async (): Promise<void> => {
    while (!closing) {
      try {
        let socket = await dial();
        socket.on("error", () => {});
        if (shared.secure && !closing) socket = await shared.secure(socket);
        if (closing) {
          socket.destroy();
          break;
        }
        const c = new Connection(socket, shared);
        current = c;
        await c.closedPromise;
        current = null;
      } catch { /* refused, unreachable, or a failed handshake: try again later */ }
      if (closing) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, retryMs);
        wakeRetry = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wakeRetry = null;
    }
  })();
  let stopping: Promise<void> | null = null;
  const close = (): Promise<void> => {
    stopping ??= (async () => {
      closing = true;
      (dialing as Socket | null)?.destroy();
      (wakeRetry as (() => void) | null)?.();
      const c = current as Connection | null;
      if (c) {
        c.close();
        c.socket.destroy();
        await c.closedPromise;
      }
      await loop;
    })();
    return stopping;
  };
  signal?.addEventListener("abort", () => void close(), { once: true });
  return {
    hostname: host,
    port,
    active: true,
    get clients(): number {
      return current ? 1 : 0;
    },
    get captures(): number {
      return shared.captures;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Serves local devices over rpcap. Resolves once listening. Without `auth`,
 * `nullAuth: true` must be given explicitly (then anyone who can reach the
 * port may capture: keep the default 127.0.0.1 binding).
 */
export async function serveRemote(options: ServeOptions = {}): Promise<RemoteServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError("port must be 0-65535");
  }
  const nullAuth = options.nullAuth === true;
  let authenticate: Authenticator | null = null;
  if (typeof options.auth === "function") authenticate = options.auth;
  else if (options.auth && typeof options.auth === "object") {
    authenticate = tableAuthenticator(options.auth);
  } else if (options.auth !== undefined) {
    throw new TypeError("auth must be a user table or a function");
  }
  if (!authenticate && !nullAuth) {
    throw new TypeError(
      "serveRemote needs `auth` (users or a function), or `nullAuth: true` explicitly",
    );
  }
  const list = options.devices;
  const offered = typeof list === "function"
    ? list
    : Array.isArray(list)
    ? (name: string) => list.includes(name)
    : () => true;
  const num = (v: number | undefined, d: number, what: string): number => {
    const x = v ?? d;
    if (typeof x !== "number" || !(x >= 0)) {
      throw new RangeError(`${what} must be a non-negative number`);
    }
    return x;
  };
  const limits: Limits = {
    maxMessageSize: num(options.maxMessageSize, 131072, "maxMessageSize"),
    maxFilter: Math.min(
      num(options.maxFilterInstructions, MAX_FILTER_INSTRUCTIONS, "maxFilterInstructions"),
      0x10000,
    ),
    maxSnaplen: num(options.maxSnaplen, 262144, "maxSnaplen"),
    maxCaptures: num(options.maxCaptures, 8, "maxCaptures"),
    authTimeout: num(options.authTimeout, 30_000, "authTimeout"),
    idleTimeout: num(options.idleTimeout, 180_000, "idleTimeout"),
    dataTimeout: num(options.dataTimeout, 10_000, "dataTimeout"),
    authFailureDelay: num(options.authFailureDelay, 1000, "authFailureDelay"),
    maxAuthAttempts: Math.max(1, num(options.maxAuthAttempts, 3, "maxAuthAttempts")),
    udpData: options.serverOpenedData?.udp ?? true,
    activeData: options.serverOpenedData?.tcp ?? true,
  };
  const maxClients = num(options.maxClients, 16, "maxClients");
  const tlsOptions = options.tls;
  const shared: Shared = {
    captures: 0,
    limits,
    authenticate,
    nullAuth,
    offered,
    onError: options.onError ?? (() => {}),
    tls: tlsOptions ? () => createTlsServer(tlsOptions) : null,
    secure: tlsOptions ? secureServerSide(tlsOptions, limits.dataTimeout) : null,
    linkTypes: new Map(),
  };
  if (options.active) return serveActive(options.active, shared, options.signal);
  const connections = new Set<Connection>();
  const onSocket = (socket: Socket): void => {
    socket.on("error", () => {});
    if (connections.size >= maxClients) {
      socket.end(errorMessage(E.HOSTNOAUTH, "Too many clients connected to this server"));
      setTimeout(() => socket.destroy(), 1000).unref?.();
      return;
    }
    const c = new Connection(socket, shared);
    connections.add(c);
    c.closedPromise.then(() => connections.delete(c));
  };
  const server: Server = tlsOptions
    ? createTlsServer(tlsOptions, onSocket)
    : createServer(onSocket);
  server.on("error", (e: Error) => shared.onError(e));
  if (tlsOptions) server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as { port: number }).port;
  const forgetPort = registerServingPort(bound);
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      forgetPort();
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of connections) c.close();
      await Promise.all([...connections].map((c) => {
        c.socket.destroy();
        return c.closedPromise;
      }));
      await closed;
    })();
    return closing;
  };
  options.signal?.addEventListener("abort", () => void close(), { once: true });
  return {
    hostname,
    port: bound,
    active: false,
    get clients(): number {
      return connections.size;
    },
    get captures(): number {
      return shared.captures;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
