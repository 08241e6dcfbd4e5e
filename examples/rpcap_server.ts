/**
 * An rpcap server: serves this machine's devices to any rpcap client
 * (Wireshark's remote interfaces, `pcap_open("rpcap://host:port/dev")`,
 * WinPcap/Npcap tools, or `connectRemote` of this package).
 *
 *   RPCAP_PASSWORD=secret deno run --allow-ffi --allow-net --allow-env examples/rpcap_server.ts --user alice
 *   bun examples/rpcap_server.ts --null-auth --device lo      # loopback only, anyone local
 *
 * Capturing needs root or CAP_NET_RAW + CAP_NET_ADMIN.
 */
import { readFileSync } from "node:fs";
import { args } from "./_common.ts";
import { serveRemote } from "../src/remote/mod.ts";

const usage = `
Usage: rpcap_server.ts [options]

Serves local capture devices over rpcap (default 127.0.0.1:2002).
  --host ADDR          address to bind (default 127.0.0.1; 0.0.0.0 or :: for every address)
  --port N             port (default 2002)
  --user NAME          accept this user; the password comes from $RPCAP_PASSWORD
                       or --password-file (repeat --user for more users sharing it)
  --password-file F    file holding the password (first line)
  --null-auth          accept clients without credentials (anyone who can connect)
  --device NAME        offer only this device (repeatable; default: all)
  --max-clients N      clients at once (default 16)
  --tls-key F --tls-cert F   rpcap over TLS (rpcaps://)
  --help               this text`;

const { values } = args(usage, {
  host: { type: "string" },
  port: { type: "string" },
  user: { type: "string", multiple: true },
  "password-file": { type: "string" },
  "null-auth": { type: "boolean" },
  device: { type: "string", multiple: true },
  "max-clients": { type: "string" },
  "tls-key": { type: "string" },
  "tls-cert": { type: "string" },
});
const v = values as Record<string, string | string[] | boolean | undefined>;

const users = (v.user as string[] | undefined) ?? [];
let auth: Record<string, string> | undefined;
if (users.length > 0) {
  const password = v["password-file"]
    ? readFileSync(v["password-file"] as string, "utf8").split("\n")[0]
    : process.env.RPCAP_PASSWORD;
  if (!password) {
    console.error("rpcap_server: give the password in $RPCAP_PASSWORD or --password-file");
    process.exit(2);
  }
  auth = Object.fromEntries(users.map((u) => [u, password]));
}
if (!auth && !v["null-auth"]) {
  console.error("rpcap_server: give --user (with a password) or, explicitly, --null-auth");
  process.exit(2);
}

const tls = v["tls-key"] && v["tls-cert"]
  ? { key: readFileSync(v["tls-key"] as string), cert: readFileSync(v["tls-cert"] as string) }
  : undefined;

const server = await serveRemote({
  hostname: (v.host as string | undefined) ?? "127.0.0.1",
  port: v.port ? Number(v.port) : 2002,
  auth,
  nullAuth: v["null-auth"] === true,
  devices: v.device as string[] | undefined,
  maxClients: v["max-clients"] ? Number(v["max-clients"]) : undefined,
  tls,
  onError: (e) => console.error(`rpcap_server: ${e.message}`),
});
console.log(
  `rpcap${tls ? "s" : ""} server listening on ${server.hostname}:${server.port}` +
    (auth ? ` (users: ${Object.keys(auth).join(", ")})` : " (null authentication)"),
);

const stop = async (): Promise<void> => {
  await server.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
