// Remote-capture benchmark helpers (bench/remote.sh), for Deno and Bun:
//   remote_bench.ts server PORT DEVICE
//       serveRemote on 127.0.0.1:PORT (null authentication, DEVICE only); prints "ready",
//       serves until SIGTERM.
//   remote_bench.ts client HOST PORT DEVICE COUNT IDLE_MS
//       connectRemote + open (snaplen 256, read timeout 10 ms, TCP data channel, filter
//       "ether proto 0x88b5"); counts packets from batches() until COUNT or IDLE_MS without
//       one after the first. Prints "ready", then {"received":N,"seconds":S,"pps":P}.
import { connectRemote, serveRemote } from "../src/remote/mod.ts";

const [mode, ...args] = process.argv.slice(2);

if (mode === "server") {
  const [port, device] = args;
  const server = await serveRemote({
    port: Number(port),
    nullAuth: true,
    devices: [device],
  });
  console.log("ready");
  const stop = async (): Promise<void> => {
    await server.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
} else if (mode === "client") {
  const [host, port, device, countText, idleText] = args;
  const count = Number(countText);
  const idleMs = Number(idleText);
  const client = await connectRemote({ host, port: Number(port) });
  const cap = await client.open(device, {
    snaplen: 256,
    timeout: 10,
    filter: "ether proto 0x88b5",
  });
  console.log("ready");
  let got = 0;
  let first = 0;
  let last = 0;
  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const arm = (ms: number): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => ac.abort(), ms);
  };
  arm(30_000);
  try {
    for await (const batch of cap.batches({ signal: ac.signal })) {
      const t = performance.now();
      if (got === 0) first = t;
      last = t;
      got += batch.length;
      if (got >= count) break;
      arm(idleMs);
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  }
  if (timer) clearTimeout(timer);
  const s = (last - first) / 1000;
  console.log(JSON.stringify({ received: got, seconds: s, pps: s > 0 ? Math.round(got / s) : 0 }));
  await client.close();
  process.exit(0);
} else {
  console.error(
    "usage: remote_bench.ts server PORT DEVICE | client HOST PORT DEVICE COUNT IDLE_MS",
  );
  process.exit(64);
}
