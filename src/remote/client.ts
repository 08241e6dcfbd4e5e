/**
 * An rpcap client in TypeScript (no libpcap needed, except to compile filter
 * expressions): connect to an rpcap server (libpcap's `rpcapd`, WinPcap,
 * Npcap, or {@link serveRemote}), authenticate (null or user name and
 * password), list its devices, open one, and capture over a TCP or UDP data
 * channel, with filter updates and statistics.
 *
 * Sockets come from `node:net`, `node:dgram` and `node:tls`, so one code
 * path serves Deno and Bun.
 *
 * @module
 */

import { connect as netConnect, createServer as createNetServer, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from "node:tls";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { ErrorCode, PcapError } from "../errors.ts";
import { Packet } from "../packet.ts";
import type { BatchOptions, CaptureStats, IterateOptions } from "../capture.ts";
import type { Device, DeviceAddress } from "../devices.ts";
import { formatIPv4, formatIPv6, prefixLength } from "../address.ts";
import { BpfProgram, compileFilter } from "../filter.ts";
import {
  ACCEPT_ALL,
  AF_INET,
  AF_INET6,
  authPayload,
  BYTE_ORDER_MAGIC,
  BYTE_ORDER_MAGIC_SWAPPED,
  DEFAULT_PORT,
  encodeMessage,
  filterPayload,
  Framer,
  HEADER_SIZE,
  type Message,
  messageName,
  Msg,
  PKTHDR_SIZE,
  PROTOCOL_VERSION,
  SOCKADDR_SIZE,
  StartFlag,
  text,
  utf8,
  type WireInstruction,
} from "./protocol.ts";
import { createSource } from "./source.ts";
import { flatten, streamOf } from "../streams.ts";

/** An error reported by the rpcap peer (`RPCAP_MSG_ERROR`) or a protocol violation. */
export class RemoteError extends PcapError {
  /** The peer's `PCAP_ERR_*` code (0 for a local protocol error). */
  readonly remoteCode: number;

  /** Creates an error with a remote code. */
  constructor(message: string, remoteCode = 0, options: { cause?: unknown } = {}) {
    super(ErrorCode.REMOTE, message, options);
    this.name = "RemoteError";
    this.remoteCode = remoteCode;
  }
}

/** User name and password (`RPCAP_RMTAUTH_PWD`). */
export interface RemoteAuth {
  /** User name (an account of the server's host for rpcapd). */
  readonly username: string;
  /** Password. */
  readonly password: string;
}

/** Options of {@link connectRemote}. */
export interface ConnectOptions {
  /** Server host name or address. */
  readonly host: string;
  /** Server port (default 2002). */
  readonly port?: number | string;
  /** User name and password; omitted or null: null authentication. */
  readonly auth?: RemoteAuth | null;
  /** rpcap over TLS (`rpcaps://`): true, or `node:tls` options (e.g. `ca`, `servername`). */
  readonly tls?: boolean | TlsOptions;
  /** Milliseconds to wait for the connection and for each reply (default 20000). */
  readonly timeout?: number;
  /** Largest control message accepted from the server (default 16 MiB). */
  readonly maxMessageSize?: number;
}

/** A device of the remote host. `name` is what {@link RemoteClient.open} takes. */
export interface RemoteDevice extends Device {
  /** The device as an rpcap source string (`rpcap://host:port/name`). */
  readonly source: string;
}

/** Options of {@link RemoteClient.open}. */
export interface RemoteOpenOptions {
  /** Bytes to keep of each packet (default 65535). */
  readonly snaplen?: number;
  /** Promiscuous mode (default false). */
  readonly promiscuous?: boolean;
  /** The server's read timeout in milliseconds (default 100). */
  readonly timeout?: number;
  /** `tcp` (default) or `udp` data channel. */
  readonly transport?: "tcp" | "udp";
  /** Capture only `in` or `out` packets (servers may ignore it in promiscuous mode). */
  readonly direction?: "inout" | "in" | "out";
  /** A filter for the start: an expression (compiled locally), a program, or instructions. */
  readonly filter?: string | BpfProgram | readonly WireInstruction[];
  /** Start the capture at once (default true); else call `start()`. */
  readonly start?: boolean;
  /** Packets queued before the data channel is paused (default 20000). */
  readonly highWaterMark?: number;
}

interface Pending {
  readonly request: number;
  resolve(m: Message): void;
  reject(e: Error): void;
}

/** The control connection: one request at a time, replies in order. */
class Control {
  readonly socket: Socket;
  readonly framer: Framer;
  readonly timeoutMs: number;
  version = PROTOCOL_VERSION;
  #pending: Pending | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed: Error | null = null;
  onUnsolicited: (m: Message) => void = () => {};

  constructor(socket: Socket, maxPayload: number, timeoutMs: number) {
    this.socket = socket;
    this.framer = new Framer(maxPayload);
    this.timeoutMs = timeoutMs;
    socket.on("data", (chunk: Uint8Array) => this.#data(chunk));
    socket.on(
      "error",
      (e: Error) => this.#fail(new RemoteError(`rpcap connection: ${e.message}`, 0, { cause: e })),
    );
    socket.on("close", () => this.#fail(new RemoteError("The server closed the connection")));
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  #data(chunk: Uint8Array): void {
    this.framer.push(chunk);
    for (;;) {
      let m: Message | null;
      try {
        m = this.framer.take();
      } catch (e) {
        this.#fail(new RemoteError(`Server sent a bad message: ${(e as Error).message}`));
        this.socket.destroy();
        return;
      }
      if (!m) return;
      const p = this.#pending;
      if (p) {
        this.#pending = null;
        p.resolve(m);
      } else {
        this.onUnsolicited(m);
      }
    }
  }

  #fail(e: Error): void {
    if (!this.#closed) this.#closed = e;
    const p = this.#pending;
    this.#pending = null;
    p?.reject(e);
  }

  /** Sends a request and waits for its reply; errors become {@link RemoteError}s. */
  request(type: number, value: number, payload?: Uint8Array, expectReply = true): Promise<Message> {
    const run = async (): Promise<Message> => {
      if (this.#closed) throw this.#closed;
      const msg = encodeMessage(type, value, payload, this.version);
      if (!expectReply) {
        this.socket.write(msg);
        return { version: this.version, type: 0, value: 0, payload: new Uint8Array(0) };
      }
      const reply = await new Promise<Message>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#pending = null;
          reject(new RemoteError(`No reply to ${messageName(type)} within ${this.timeoutMs} ms`));
          this.socket.destroy();
        }, this.timeoutMs);
        this.#pending = {
          request: type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        this.socket.write(msg);
      });
      checkReply(reply, type, this.version);
      return reply;
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => {});
    return p;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function checkReply(m: Message, request: number, version: number): void {
  if (m.type === Msg.ERROR) throw new RemoteError(text(m.payload), m.value);
  if (m.version !== version) {
    throw new RemoteError(
      `Server sent us a message with version ${m.version} when we were expecting ${version}`,
    );
  }
  if (m.type !== (request | Msg.IS_REPLY)) {
    throw new RemoteError(
      `${messageName(m.type)} message received in response to a ${messageName(request)} message`,
    );
  }
}

function connectSocket(
  host: string,
  port: number,
  tls: boolean | TlsOptions | undefined,
  timeoutMs: number,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const options = { host, port };
    const s: Socket = tls
      ? tlsConnect({
        ...options,
        servername: isIp(host) ? undefined : host,
        ...(typeof tls === "object" ? tls : {}),
      })
      : netConnect(options);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new RemoteError(`Cannot connect to ${host}:${port}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once(tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      s.setNoDelay(true);
      resolve(s);
    });
    s.once("error", (e: Error) => {
      clearTimeout(timer);
      reject(new RemoteError(`Cannot connect to ${host}:${port}: ${e.message}`, 0, { cause: e }));
    });
  });
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(":");
}

function portNumber(port: number | string | undefined): number {
  if (port === undefined || port === "") return DEFAULT_PORT;
  const n = typeof port === "number" ? port : Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RangeError(`Invalid port ${port}`);
  return n;
}

/**
 * Connects to an rpcap server in passive mode and authenticates. Errors
 * (refused connection, wrong password, protocol trouble) are
 * {@link RemoteError}s; the server's own text is the message.
 */
export async function connectRemote(options: ConnectOptions): Promise<RemoteClient> {
  if (!options || typeof options.host !== "string" || options.host === "") {
    throw new TypeError("host must be a non-empty string");
  }
  const port = portNumber(options.port);
  const timeoutMs = options.timeout ?? 20_000;
  checkAuth(options.auth);
  const socket = await connectSocket(options.host, port, options.tls, timeoutMs);
  return await authenticate(socket, options.host, port, options, false);
}

function checkAuth(auth: RemoteAuth | null | undefined): void {
  if (auth && (typeof auth.username !== "string" || typeof auth.password !== "string")) {
    throw new TypeError("auth must have a string username and password");
  }
}

/** Authenticates on a connected control socket (passive or active mode). */
async function authenticate(
  socket: Socket,
  host: string,
  port: number,
  options: Omit<ConnectOptions, "host" | "port">,
  active: boolean,
): Promise<RemoteClient> {
  const timeoutMs = options.timeout ?? 20_000;
  const auth = options.auth ?? null;
  const control = new Control(socket, options.maxMessageSize ?? 16 << 20, timeoutMs);
  try {
    const reply = await control.request(
      Msg.AUTH_REQ,
      0,
      auth ? authPayload(auth.username, auth.password) : authPayload(),
    );
    let minVersion = 0;
    let maxVersion = 0;
    let magic = BYTE_ORDER_MAGIC;
    const p = reply.payload;
    if (p.length > 0) {
      if (p.length < 2) throw new RemoteError("Authentication reply from server is too short");
      minVersion = p[0];
      maxVersion = p[1];
      if (p.length >= 8) magic = new DataView(p.buffer, p.byteOffset).getUint32(4, true);
      if (minVersion > maxVersion) {
        throw new RemoteError(
          "The server's minimum supported protocol version is greater than its maximum supported protocol version",
        );
      }
    }
    // We speak version 0 only: usable if the server's range includes it.
    if (minVersion > PROTOCOL_VERSION) {
      throw new RemoteError("The server doesn't support any protocol version that we support");
    }
    // The magic is in the server's byte order; compare in this machine's (little-endian reads).
    const hostLittle = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    const mine = hostLittle ? BYTE_ORDER_MAGIC : BYTE_ORDER_MAGIC_SWAPPED;
    const swapped = magic === mine
      ? false
      : magic === (hostLittle ? BYTE_ORDER_MAGIC_SWAPPED : BYTE_ORDER_MAGIC)
      ? true
      : null;
    if (swapped === null) {
      throw new RemoteError("The server did not send us a valid byte order value");
    }
    const client = new RemoteClient(
      control,
      host,
      port,
      !!options.tls,
      swapped,
      maxVersion,
      active,
    );
    client.tlsOptions = typeof options.tls === "object"
      ? options.tls
      : options.tls
      ? {}
      : undefined;
    return client;
  } catch (e) {
    control.destroy();
    throw e;
  }
}

/** Options of {@link listenRemote} (active mode). */
export interface ListenOptions extends Omit<ConnectOptions, "host" | "port" | "tls"> {
  /** Address to listen on (default "127.0.0.1"). */
  readonly hostname?: string;
  /** Port (default 2003, rpcap's active-mode port; 0 picks one). */
  readonly port?: number;
  /** Accept servers from these addresses only (default: any that reaches the port). */
  readonly allow?: readonly string[] | ((address: string) => boolean);
  /** rpcap over TLS: the client is then the TLS client on each incoming connection. */
  readonly tls?: TlsOptions | boolean;
}

/** Servers connecting to us in active mode (`rpcapd -a host,port`). */
export interface ActiveListener extends AsyncIterable<RemoteClient> {
  /** Bound port. */
  readonly port: number;
  /** The next server that connected and accepted our authentication. */
  accept(options?: { signal?: AbortSignal }): Promise<RemoteClient>;
  /** Stops listening (connected clients stay open). */
  close(): Promise<void>;
}

/**
 * Active mode (`pcap_remoteact_accept`): listens for rpcap servers that
 * connect to us, authenticates to each, and hands them out as
 * {@link RemoteClient}s. Their data connections are opened by the server
 * toward us as well.
 */
export async function listenRemote(options: ListenOptions = {}): Promise<ActiveListener> {
  checkAuth(options.auth);
  const hostname = options.hostname ?? "127.0.0.1";
  const allow = options.allow;
  const allowed = (a: string): boolean =>
    allow === undefined ? true : typeof allow === "function" ? allow(a) : allow.includes(a);
  const ready: RemoteClient[] = [];
  const waiting: { resolve(c: RemoteClient): void; reject(e: Error): void }[] = [];
  let closed = false;
  const server = createNetServer((raw: Socket) => {
    raw.on("error", () => {});
    const peer = raw.remoteAddress ?? "";
    if (closed || !allowed(peer)) return void raw.destroy();
    const start = async (): Promise<Socket> => {
      if (!options.tls) return raw;
      const t = typeof options.tls === "object" ? options.tls : {};
      const secure = tlsConnect({ socket: raw, host: peer, servername: undefined, ...t });
      await new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", () => resolve());
        secure.once("error", reject);
      });
      return secure;
    };
    start()
      .then((s) => authenticate(s, peer, raw.remotePort ?? 0, options, true))
      .then((client) => {
        const w = waiting.shift();
        if (w) w.resolve(client);
        else ready.push(client);
      })
      .catch(() => raw.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 2003, hostname, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  const accept = (o: { signal?: AbortSignal } = {}): Promise<RemoteClient> => {
    const c = ready.shift();
    if (c) return Promise.resolve(c);
    if (closed) return Promise.reject(new PcapError(ErrorCode.CLOSED, "The listener is closed"));
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      waiting.push(entry);
      o.signal?.addEventListener("abort", () => {
        const i = waiting.indexOf(entry);
        if (i >= 0) waiting.splice(i, 1);
        reject(o.signal!.reason);
      }, { once: true });
    });
  };
  return {
    port: (server.address() as { port: number }).port,
    accept,
    async close(): Promise<void> {
      closed = true;
      for (const w of waiting.splice(0)) {
        w.reject(new PcapError(ErrorCode.CLOSED, "The listener is closed"));
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<RemoteClient, void, undefined> {
      while (!closed) {
        try {
          yield await accept();
        } catch (e) {
          if (closed) return;
          throw e;
        }
      }
    },
  };
}

function readSockaddr(
  v: DataView,
  o: number,
): {
  family: "ipv4" | "ipv6";
  familyNumber: number;
  address: string;
  bytes: Uint8Array;
  scopeId: number;
} | null {
  const fam = v.getUint16(o);
  if (fam === AF_INET) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset + o + 4, 4).slice();
    return { family: "ipv4", familyNumber: fam, address: formatIPv4(bytes), bytes, scopeId: 0 };
  }
  if (fam === AF_INET6) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset + o + 8, 16).slice();
    return {
      family: "ipv6",
      familyNumber: fam,
      address: formatIPv6(bytes),
      bytes,
      scopeId: v.getUint32(o + 24),
    };
  }
  return null;
}

const connectionStates = ["unknown", "connected", "disconnected", "not-applicable"] as const;

/** Decodes a `RPCAP_MSG_FINDALLIF_REPLY` payload. @internal */
export function decodeDeviceList(
  count: number,
  payload: Uint8Array,
  sourceOf: (name: string) => string,
): RemoteDevice[] {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: RemoteDevice[] = [];
  let o = 0;
  const need = (n: number): void => {
    if (o + n > payload.length) throw new RemoteError("Message payload is too short");
  };
  for (let i = 0; i < count; i++) {
    need(12);
    const namelen = v.getUint16(o);
    const desclen = v.getUint16(o + 2);
    const flags = v.getUint32(o + 4);
    const naddr = v.getUint16(o + 8);
    o += 12;
    need(namelen + desclen);
    const name = text(payload.subarray(o, o + namelen));
    o += namelen;
    const description = desclen ? text(payload.subarray(o, o + desclen)) : null;
    o += desclen;
    const addresses: DeviceAddress[] = [];
    for (let j = 0; j < naddr; j++) {
      need(4 * SOCKADDR_SIZE);
      const addr = readSockaddr(v, o);
      const mask = readSockaddr(v, o + SOCKADDR_SIZE);
      const bcast = readSockaddr(v, o + 2 * SOCKADDR_SIZE);
      const dst = readSockaddr(v, o + 3 * SOCKADDR_SIZE);
      o += 4 * SOCKADDR_SIZE;
      if (!addr) continue;
      const maskOk = mask !== null && mask.family === addr.family;
      addresses.push({
        ...addr,
        netmask: maskOk ? mask!.address : null,
        prefixLength: maskOk ? prefixLength(mask!.bytes) : null,
        broadcast: bcast ? bcast.address : null,
        destination: dst ? dst.address : null,
      });
    }
    out.push({
      name,
      description,
      flags: {
        loopback: (flags & 1) !== 0,
        up: (flags & 2) !== 0,
        running: (flags & 4) !== 0,
        wireless: (flags & 8) !== 0,
        connectionStatus: connectionStates[(flags & 0x30) >> 4],
      },
      rawFlags: flags,
      addresses,
      source: sourceOf(name),
    });
  }
  return out;
}

/** A connection to an rpcap server (after authentication). */
export class RemoteClient {
  /** Server host as given. */
  readonly host: string;
  /** Server port. */
  readonly port: number;
  /** True over TLS. */
  readonly tls: boolean;
  /** True when the server's byte order differs from this machine's. */
  readonly byteSwapped: boolean;
  /** The highest protocol version the server offered (this client speaks 0). */
  readonly serverMaxVersion: number;
  /** Active mode: the server connected to us, and opens the data connections too. */
  readonly active: boolean;
  /** @internal TLS options for the data connection (as for the control one). */
  tlsOptions: TlsOptions | undefined = undefined;
  #control: Control;
  #capture: RemoteCapture | null = null;
  #closed = false;

  /** @internal Use {@link connectRemote}. */
  constructor(
    control: Control,
    host: string,
    port: number,
    tls: boolean,
    swapped: boolean,
    maxVersion: number,
    active = false,
  ) {
    this.#control = control;
    this.active = active;
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.byteSwapped = swapped;
    this.serverMaxVersion = maxVersion;
    control.onUnsolicited = (m) => {
      if (m.type === Msg.ERROR) {
        this.#capture?.remoteFailed(new RemoteError(text(m.payload), m.value));
      }
    };
  }

  /** @internal */
  get control(): Control {
    if (this.#closed) throw new PcapError(ErrorCode.CLOSED, "The rpcap connection is closed");
    return this.#control;
  }

  /** True once closed (by `close()` or because the server went away). */
  get closed(): boolean {
    return this.#closed || this.#control.closed;
  }

  /** The remote host's devices (`RPCAP_MSG_FINDALLIF_REQ`). */
  async listDevices(): Promise<RemoteDevice[]> {
    const reply = await this.control.request(Msg.FINDALLIF_REQ, 0);
    const host = this.host.includes(":") ? this.host : this.host;
    return decodeDeviceList(
      reply.value,
      reply.payload,
      (name) =>
        createSource({ type: "remote", host, port: String(this.port), name, tls: this.tls }),
    );
  }

  /**
   * Opens a remote device (`RPCAP_MSG_OPEN_REQ`) and, unless `start: false`,
   * starts capturing. One capture per connection.
   */
  async open(
    device: string | { readonly name: string },
    options: RemoteOpenOptions = {},
  ): Promise<RemoteCapture> {
    const name = typeof device === "string" ? device : device?.name;
    if (typeof name !== "string") throw new TypeError("device must be a string or a device");
    if (this.#capture && !this.#capture.closed) {
      throw new PcapError(ErrorCode.ERROR, "This connection already has an open capture");
    }
    const snaplen = options.snaplen ?? 65535;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
      throw new RangeError("snaplen must be a positive integer");
    }
    const reply = await this.control.request(Msg.OPEN_REQ, 0, utf8(name));
    if (reply.payload.length < 8) throw new RemoteError("Message payload is too short");
    const linkType = new DataView(reply.payload.buffer, reply.payload.byteOffset).getInt32(0);
    const cap = new RemoteCapture(this, name, linkType, snaplen, options);
    this.#capture = cap;
    if (options.start ?? true) await cap.start();
    return cap;
  }

  /** Ends the session (`RPCAP_MSG_CLOSE`) and closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#capture?.detach();
    this.#closed = true;
    if (!this.#control.closed) {
      try {
        await this.#control.request(Msg.CLOSE, 0, undefined, false);
      } catch { /* going away anyway */ }
    }
    await new Promise<void>((resolve) => {
      const s = this.#control.socket;
      if (s.destroyed) return resolve();
      s.once("close", () => resolve());
      s.end();
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000);
    });
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A capture on a remote device, read like a local `Capture`. */
export class RemoteCapture {
  /** The remote device's name. */
  readonly device: string;
  /** The link type the server reported. */
  readonly linkType: number;
  /** Snapshot length asked for. */
  readonly snaplen: number;
  #client: RemoteClient;
  #options: RemoteOpenOptions;
  #filter: readonly WireInstruction[] | null = null;
  #data: Socket | null = null;
  #udp: UdpSocket | null = null;
  /** Largest packet message accepted on the data channel (payload bytes). */
  #maxMessage = 0;
  /** Bytes of an incomplete message, kept until `#need` bytes are here. */
  #rest: Uint8Array[] = [];
  #restBytes = 0;
  #need = 0;
  #queue: Packet[] = [];
  #wake: (() => void) | null = null;
  #running = false;
  #closed = false;
  #error: Error | null = null;
  #paused = false;
  #received = 0;
  #lastNpkt = 0;
  #netDrops = 0;
  #highWater: number;

  /** @internal Use {@link RemoteClient.open}. */
  constructor(
    client: RemoteClient,
    device: string,
    linkType: number,
    snaplen: number,
    options: RemoteOpenOptions,
  ) {
    this.#client = client;
    this.device = device;
    this.linkType = linkType;
    this.snaplen = snaplen;
    this.#options = options;
    this.#highWater = options.highWaterMark ?? 20000;
    if (options.filter !== undefined) this.#filter = this.#instructions(options.filter);
  }

  /** Which client runs it: always `typescript` (a `LibraryRemoteCapture` says `library`). */
  get via(): "typescript" {
    return "typescript";
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while a capture runs (between `start()` and `endCapture()`). */
  get running(): boolean {
    return this.#running;
  }

  /** Packets received on the data channel so far. */
  get received(): number {
    return this.#received;
  }

  #instructions(
    filter: string | BpfProgram | readonly WireInstruction[],
  ): readonly WireInstruction[] {
    if (typeof filter === "string") {
      const program = compileFilter(filter, { linkType: this.linkType, snaplen: this.snaplen });
      try {
        return program.instructions;
      } finally {
        program.dispose();
      }
    }
    if (filter instanceof BpfProgram) return filter.instructions;
    if (Array.isArray(filter)) return filter;
    throw new TypeError("filter must be an expression, a BpfProgram or an instruction array");
  }

  /** Starts capturing (`RPCAP_MSG_STARTCAP_REQ`) and opens the data channel. */
  async start(): Promise<void> {
    if (this.#closed) throw new PcapError(ErrorCode.CLOSED, "The remote capture is closed");
    if (this.#running) return;
    const control = this.#client.control;
    const udp = this.#options.transport === "udp";
    if (udp && this.#client.tls) {
      throw new PcapError(ErrorCode.ERROR, "TLS not supported with UDP forward of remote packets");
    }
    let flags = 0;
    if (this.#options.promiscuous) flags |= StartFlag.PROMISC;
    if (this.#options.direction === "in") flags |= StartFlag.INBOUND;
    if (this.#options.direction === "out") flags |= StartFlag.OUTBOUND;
    let portdata = 0;
    this.#maxMessage = PKTHDR_SIZE + Math.max(this.snaplen, 65535) + 65536;
    this.#rest = [];
    this.#restBytes = 0;
    this.#need = 0;
    this.#error = null;
    if (udp) {
      flags |= StartFlag.DGRAM;
      const local = control.socket.localAddress ?? "127.0.0.1";
      const family = local.includes(":") ? "udp6" : "udp4";
      const sock = createSocket({ type: family, recvBufferSize: 4 << 20 });
      await new Promise<void>((resolve, reject) => {
        sock.once("error", reject);
        sock.bind(0, local, () => {
          sock.removeListener("error", reject);
          resolve();
        });
      });
      sock.on("message", (msg: Uint8Array) => this.#datagram(msg));
      sock.on(
        "error",
        (e: Error) => this.remoteFailed(new RemoteError(`rpcap data channel: ${e.message}`)),
      );
      this.#udp = sock;
      portdata = sock.address().port;
    }
    let incoming: Promise<Socket> | null = null;
    let listener: import("node:net").Server | null = null;
    if (!udp && this.#client.active) {
      // Active mode: the server opens the data connection toward us.
      flags |= StartFlag.SERVEROPEN;
      const local = control.socket.localAddress ?? "127.0.0.1";
      const peer = control.socket.remoteAddress;
      const l = createNetServer();
      listener = l;
      await new Promise<void>((resolve, reject) => {
        l.once("error", reject);
        l.listen(0, local, () => {
          l.removeListener("error", reject);
          resolve();
        });
      });
      portdata = (l.address() as { port: number }).port;
      incoming = new Promise<Socket>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new RemoteError("The server did not open the data connection")),
          control.timeoutMs,
        );
        l.on("connection", (s: Socket) => {
          if (s.remoteAddress !== peer) return void s.destroy();
          clearTimeout(t);
          l.close();
          resolve(s);
        });
      });
      incoming.catch(() => {});
    }
    const payload = new Uint8Array(12);
    const v = new DataView(payload.buffer);
    v.setUint32(0, this.snaplen);
    v.setUint32(4, this.#options.timeout ?? 100);
    v.setUint16(8, flags);
    v.setUint16(10, portdata);
    const filter = filterPayload(this.#filter ?? ACCEPT_ALL);
    const body = new Uint8Array(payload.length + filter.length);
    body.set(payload);
    body.set(filter, payload.length);
    let reply: Message;
    try {
      reply = await control.request(Msg.STARTCAP_REQ, 0, body);
    } catch (e) {
      this.#udp?.close();
      this.#udp = null;
      listener?.close();
      throw e;
    }
    if (reply.payload.length < 8) throw new RemoteError("Message payload is too short");
    const rv = new DataView(reply.payload.buffer, reply.payload.byteOffset);
    const serverPort = rv.getUint16(4);
    if (!udp) {
      const host = control.socket.remoteAddress ?? this.#client.host;
      const tls = this.#client.tlsOptions
        ? {
          servername: isIp(this.#client.host) ? undefined : this.#client.host,
          ...this.#client.tlsOptions,
        }
        : undefined;
      let sock: Socket;
      if (incoming) {
        try {
          sock = await incoming;
        } finally {
          listener?.close();
        }
        if (tls) {
          // Also in active mode, the client side starts TLS on the data connection.
          const raw = sock;
          sock = tlsConnect({ socket: raw, host: this.#client.host, ...tls });
          await new Promise<void>((resolve, reject) => {
            sock.once("secureConnect", () => resolve());
            sock.once("error", reject);
          });
        }
      } else {
        sock = await connectSocket(host, serverPort, tls, control.timeoutMs);
      }
      sock.on("data", (chunk: Uint8Array) => this.#stream(chunk));
      sock.on(
        "error",
        (e: Error) => this.remoteFailed(new RemoteError(`rpcap data channel: ${e.message}`)),
      );
      sock.on("close", () => {
        if (this.#running && this.#data === sock) {
          this.remoteFailed(new RemoteError("The server terminated the connection."));
        }
      });
      this.#data = sock;
    }
    this.#lastNpkt = 0;
    this.#running = true;
  }

  /**
   * The TCP data stream: parses every whole message of a chunk in one pass (one DataView
   * per chunk, one Packet and one copy of the captured bytes per packet); an incomplete
   * message waits, without copying, until enough bytes came.
   */
  #stream(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.#restBytes > 0) {
      this.#rest.push(chunk);
      this.#restBytes += chunk.length;
      if (this.#restBytes < this.#need) return;
      buf = new Uint8Array(this.#restBytes);
      let at = 0;
      for (const c of this.#rest) {
        buf.set(c, at);
        at += c.length;
      }
      this.#rest = [];
      this.#restBytes = 0;
    }
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const n = buf.length;
    const version = this.#client.control.version;
    const linkType = this.linkType;
    const queue = this.#queue;
    const before = queue.length;
    let o = 0;
    while (n - o >= HEADER_SIZE) {
      const plen = v.getUint32(o + 4);
      if (plen > this.#maxMessage) {
        this.remoteFailed(
          new RemoteError(
            `Server sent a bad packet message: message of ${plen} bytes exceeds the limit of ${this.#maxMessage}`,
          ),
        );
        return;
      }
      if (n - o - HEADER_SIZE < plen) break;
      if (buf[o + 1] === Msg.PACKET && buf[o] === version && plen >= PKTHDR_SIZE) {
        const p = o + HEADER_SIZE;
        const caplen = v.getUint32(p + 8);
        if (caplen > plen - PKTHDR_SIZE) {
          this.remoteFailed(
            new RemoteError(
              "Packet's captured data goes past the end of the received packet message.",
            ),
          );
          return;
        }
        this.#received++;
        queue.push(
          new Packet(
            v.getUint32(p),
            v.getUint32(p + 4) * 1000,
            caplen,
            v.getUint32(p + 12),
            buf.slice(p + PKTHDR_SIZE, p + PKTHDR_SIZE + caplen),
            linkType,
          ),
        );
      }
      o += HEADER_SIZE + plen;
    }
    if (o < n) {
      // Keep the tail (a copy: the chunk's memory is not ours to hold).
      this.#rest = [buf.slice(o)];
      this.#restBytes = n - o;
      this.#need = n - o >= HEADER_SIZE ? HEADER_SIZE + v.getUint32(o + 4) : HEADER_SIZE;
    }
    if (queue.length > before) {
      const w = this.#wake;
      this.#wake = null;
      w?.();
    }
    if (queue.length >= this.#highWater && this.#data && !this.#paused) {
      this.#paused = true;
      this.#data.pause();
    }
  }

  #datagram(msg: Uint8Array): void {
    if (msg.length < HEADER_SIZE) return;
    const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const plen = v.getUint32(4);
    if (msg.length < HEADER_SIZE + plen) return;
    this.#message({
      version: msg[0],
      type: msg[1],
      value: v.getUint16(2),
      payload: msg.subarray(HEADER_SIZE, HEADER_SIZE + plen),
    });
  }

  #message(m: Message): void {
    if (m.type !== Msg.PACKET || m.version !== this.#client.control.version) return;
    const p = m.payload;
    if (p.length < PKTHDR_SIZE) return;
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const caplen = v.getUint32(8);
    if (caplen > p.length - PKTHDR_SIZE) {
      this.remoteFailed(
        new RemoteError("Packet's captured data goes past the end of the received packet message."),
      );
      return;
    }
    const npkt = v.getUint32(16);
    this.#received++;
    if (this.#udp) {
      if (npkt > this.#lastNpkt + 1) this.#netDrops += npkt - this.#lastNpkt - 1;
      if (npkt > this.#lastNpkt) this.#lastNpkt = npkt;
    }
    this.#queue.push(
      new Packet(
        v.getUint32(0),
        v.getUint32(4) * 1000,
        caplen,
        v.getUint32(12),
        p.slice(PKTHDR_SIZE, PKTHDR_SIZE + caplen),
        this.linkType,
      ),
    );
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** @internal The server reported an error or the data channel broke: end iteration with it. */
  remoteFailed(e: Error): void {
    if (!this.#error) this.#error = e;
    this.#stopData();
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** @internal The client closed. */
  detach(): void {
    this.#closed = true;
    this.#stopData();
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #stopData(): void {
    this.#running = false;
    this.#data?.destroy();
    this.#data = null;
    try {
      this.#udp?.close();
    } catch { /* closed */ }
    this.#udp = null;
  }

  /**
   * Replaces the filter (`RPCAP_MSG_UPDATEFILTER_REQ`): an expression
   * (compiled here with the local libpcap, for the remote link type), a
   * program, or instructions. Before `start()`, it is kept for the start.
   */
  async setFilter(filter: string | BpfProgram | readonly WireInstruction[]): Promise<void> {
    if (this.#closed) throw new PcapError(ErrorCode.CLOSED, "The remote capture is closed");
    const insns = this.#instructions(filter);
    if (!this.#running) {
      this.#filter = insns;
      return;
    }
    await this.#client.control.request(Msg.UPDATEFILTER_REQ, 0, filterPayload(insns));
    this.#filter = insns;
  }

  /**
   * Statistics (`RPCAP_MSG_STATS_REQ`): `received`, `dropped`,
   * `interfaceDropped` from the server's libpcap; `sent` is what the server
   * sent, `captured` what arrived here, `networkDropped` what UDP lost.
   */
  async stats(): Promise<CaptureStats> {
    if (this.#closed) throw new PcapError(ErrorCode.CLOSED, "The remote capture is closed");
    const reply = await this.#client.control.request(Msg.STATS_REQ, 0);
    if (reply.payload.length < 16) throw new RemoteError("Message payload is too short");
    const v = new DataView(reply.payload.buffer, reply.payload.byteOffset);
    return {
      received: v.getUint32(0),
      interfaceDropped: v.getUint32(4),
      dropped: v.getUint32(8),
      sent: v.getUint32(12),
      captured: this.#received,
      networkDropped: this.#netDrops,
    };
  }

  /**
   * Stops the capture (`RPCAP_MSG_ENDCAP_REQ`), keeping the device open;
   * iteration ends after the packets already received. `start()` again to
   * resume.
   */
  async endCapture(): Promise<void> {
    if (this.#closed || !this.#running) return;
    this.#running = false;
    try {
      await this.#client.control.request(Msg.ENDCAP_REQ, 0);
    } finally {
      this.#stopData();
      const w = this.#wake;
      this.#wake = null;
      w?.();
    }
  }

  /** Ends the capture and the client's session (`close()` of the client). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  /**
   * Batches of packets, as they arrive: an async iterable of arrays. Ends
   * (after the packets received) on `endCapture()` or `close()`; throws the
   * signal's reason when it aborts, and a {@link RemoteError} when the
   * server reports an error or the data channel breaks.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<Packet[], void, undefined> {
    const { signal } = options;
    const max = options.maxPackets ?? -1;
    if (!Number.isInteger(max) || max === 0 || max < -1) {
      throw new RangeError("maxPackets must be a positive integer or -1");
    }
    signal?.throwIfAborted();
    const onAbort = (): void => {
      const w = this.#wake;
      this.#wake = null;
      w?.();
    };
    signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (this.#queue.length > 0) {
          const batch = max < 0 ? this.#queue.splice(0) : this.#queue.splice(0, max);
          if (this.#paused && this.#queue.length < this.#highWater / 2) {
            this.#paused = false;
            this.#data?.resume();
          }
          yield batch;
          continue;
        }
        if (this.#error) throw this.#error;
        if (this.#closed || !this.#running) return;
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Packets one by one (same ending rules as `batches()`). */
  packets(options: IterateOptions = {}): AsyncGenerator<Packet, void, undefined> {
    return flatten(this.batches(options));
  }

  /** `for await (const packet of capture)`. */
  [Symbol.asyncIterator](): AsyncGenerator<Packet, void, undefined> {
    return this.packets();
  }

  /** The packets as a `ReadableStream`. */
  get readable(): ReadableStream<Packet> {
    return streamOf(this.packets());
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
