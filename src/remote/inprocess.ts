/**
 * Internal: the TCP ports that rpcap servers of this process ({@link serveRemote})
 * listen on. libpcap's remote functions block the JS thread while they talk to
 * the server, so `open()` and `findAllDevices()` must not call them on a server
 * that this same thread has to answer: they would wait for each other forever.
 *
 * @module
 */

const ports = new Map<number, number>();

/** Notes that a server of this process listens on `port`; returns how to forget it. */
export function registerServingPort(port: number): () => void {
  ports.set(port, (ports.get(port) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (ports.get(port) ?? 1) - 1;
    if (left > 0) ports.set(port, left);
    else ports.delete(port);
  };
}

/** True when a server of this process listens on `port`. */
export function servedInProcess(port: number): boolean {
  return ports.has(port);
}
