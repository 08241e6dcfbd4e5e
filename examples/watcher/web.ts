/**
 * The Traffic Watcher's web side, independent of the runtime: a fetch-style handler serving the
 * page, `/events` (server-sent events: one JSON snapshot per refresh, an `end` event when the
 * watcher stops) and `/snapshot.json` (the latest snapshot).
 *
 * @module
 */
import type { WatcherSnapshot } from "./aggregate.ts";
import { watcherPage } from "./page.ts";

/** Options of {@link WatcherWeb}. */
export interface WebOptions {
  /** Device name, for the page title. */
  readonly device: string;
  /** Seconds of history the charts span. */
  readonly windowSeconds: number;
  /**
   * Host names accepted in the `Host` header (a guard against DNS rebinding when bound to a
   * loopback address), or null to accept any.
   */
  readonly allowedHosts?: readonly string[] | null;
}

/** Host names that mean this machine's loopback interface. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const PAGE_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";

/** Most queued events per client before a client too slow to read is dropped. */
const MAX_QUEUED = 32;

/** Serves the page and pushes snapshots to every connected page. */
export class WatcherWeb {
  readonly #page: string;
  readonly #allowed: ReadonlySet<string> | null;
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #encoder = new TextEncoder();
  #last: string | null = null;
  #closed = false;

  /** Prepares the page. */
  constructor(options: WebOptions) {
    this.#page = watcherPage({ device: options.device, windowSeconds: options.windowSeconds });
    this.#allowed = options.allowedHosts ? new Set(options.allowedHosts) : null;
  }

  /** Pages connected to `/events`. */
  get clients(): number {
    return this.#clients.size;
  }

  /** The request handler (pass it to `serveHttp`). */
  handle = (request: Request, longLived: () => void = () => {}): Response => {
    const url = new URL(request.url);
    if (this.#allowed !== null) {
      const host = request.headers.get("host");
      let name = "";
      try {
        name = host === null ? "" : new URL(`http://${host}`).hostname;
      } catch { /* a malformed Host header is refused below */ }
      if (!this.#allowed.has(name)) return text(403, "forbidden host\n");
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "method not allowed\n", { allow: "GET, HEAD" });
    }
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return new Response(this.#page, {
          headers: {
            ...SECURITY_HEADERS,
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": PAGE_POLICY,
          },
        });
      case "/snapshot.json":
        return this.#last === null ? text(503, "no snapshot yet\n") : new Response(this.#last, {
          headers: { ...SECURITY_HEADERS, "content-type": "application/json" },
        });
      case "/events":
        longLived();
        return this.#events();
      default:
        return text(404, "not found\n");
    }
  };

  #events(): Response {
    let self: ReadableStreamDefaultController<Uint8Array> | null = null;
    const body = new ReadableStream<Uint8Array>({
      start: (controller): void => {
        self = controller;
        // Reconnect after 2 s; then the latest snapshot at once, so a new page draws at once.
        controller.enqueue(this.#encoder.encode("retry: 2000\n\n"));
        if (this.#last !== null) {
          controller.enqueue(this.#encoder.encode(`data: ${this.#last}\n\n`));
        }
        if (this.#closed) {
          controller.enqueue(this.#encoder.encode("event: end\ndata: {}\n\n"));
          controller.close();
        } else this.#clients.add(controller);
      },
      cancel: (): void => {
        if (self) this.#clients.delete(self);
      },
    });
    return new Response(body, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
      },
    });
  }

  /** Sends a snapshot to every connected page. */
  publish(snapshot: WatcherSnapshot): void {
    this.#last = JSON.stringify(snapshot);
    this.#send(`data: ${this.#last}\n\n`);
  }

  #send(event: string): void {
    const chunk = this.#encoder.encode(event);
    for (const c of this.#clients) {
      try {
        if ((c.desiredSize ?? 0) < -MAX_QUEUED) throw new Error("client too slow");
        c.enqueue(chunk);
      } catch {
        this.#clients.delete(c);
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
  }

  /** Tells every page the watcher stopped (an `end` event) and ends their streams. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send("event: end\ndata: {}\n\n");
    for (const c of this.#clients) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#clients.clear();
  }
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, ...headers, "content-type": "text/plain; charset=utf-8" },
  });
}
