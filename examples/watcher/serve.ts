/**
 * The one runtime difference of the Traffic Watcher: an HTTP server with `Deno.serve` on Deno
 * and `Bun.serve` on Bun. Both take a fetch-style handler (`Request` in, `Response` out), so
 * everything else is shared.
 *
 * @module
 */

/** A fetch-style handler; `longLived()` marks the request as a stream that may stay quiet. */
export type Handler = (request: Request, longLived: () => void) => Response | Promise<Response>;

/** A running server. */
export interface HttpServer {
  /** The port it listens on (the chosen one when asked for port 0). */
  readonly port: number;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/** Options of {@link serveHttp}. */
export interface ServeOptions {
  /** Address to bind. */
  readonly hostname: string;
  /** Port to bind (0: any free port). */
  readonly port: number;
  /** The request handler. */
  readonly handler: Handler;
}

interface DenoServe {
  serve(
    options: { hostname: string; port: number; onListen: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

interface BunServer {
  port: number;
  timeout(request: Request, seconds: number): void;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request, server: BunServer) => Response | Promise<Response>;
  }): BunServer;
}

/** Starts an HTTP server on Deno or Bun. */
export function serveHttp(options: ServeOptions): HttpServer {
  const { hostname, port, handler } = options;
  const g = globalThis as { Deno?: DenoServe; Bun?: BunServe };
  if (g.Bun) {
    const server = g.Bun.serve({
      hostname,
      port,
      fetch: (request, srv) => handler(request, () => srv.timeout(request, 0)),
    });
    return {
      port: server.port,
      close: async (): Promise<void> => {
        // Gracefully first, so that streams just ended send their last bytes; then by force.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          server.stop(false),
          new Promise<void>((resolve) => timer = setTimeout(resolve, 1000)),
        ]);
        clearTimeout(timer);
        await server.stop(true);
      },
    };
  }
  if (g.Deno) {
    const server = g.Deno.serve(
      { hostname, port, onListen: () => {} },
      (request) => handler(request, () => {}),
    );
    return { port: server.addr.port, close: () => server.shutdown() };
  }
  throw new Error("the web view needs Deno or Bun");
}
