/**
 * Lists every capture device with its description, flags and addresses:
 * the first program of the WinPcap course (`pcap_findalldevs`).
 *
 *   deno run --allow-ffi examples/list_devices.ts
 *   bun examples/list_devices.ts
 */
import { parseArgs } from "node:util";
import { libraryInfo, listDevices } from "../mod.ts";

const { values } = parseArgs({
  options: {
    help: { type: "boolean", short: "h" },
    json: { type: "boolean" },
  },
});

if (values.help) {
  console.log(`Usage: list_devices.ts [--json]

Lists every device libpcap can capture on, with its addresses.
  --json   print the list as JSON
  --help   this text`);
} else {
  const devices = listDevices();
  if (values.json) {
    console.log(JSON.stringify(devices, (_k, v) => v instanceof Uint8Array ? [...v] : v, 2));
  } else {
    const info = libraryInfo();
    console.log(`${info.version} (${info.path}, ${info.runtime})\n`);
    devices.forEach((d, i) => {
      const f = d.flags;
      const flags = [
        f.loopback && "LOOPBACK",
        f.up && "UP",
        f.running && "RUNNING",
        f.wireless && "WIRELESS",
        f.connectionStatus !== "unknown" && f.connectionStatus.toUpperCase(),
      ].filter(Boolean).join(",");
      console.log(`${i + 1}. ${d.name}${d.description ? ` (${d.description})` : ""}`);
      console.log(`   flags: ${flags || "none"}`);
      for (const a of d.addresses) {
        const parts = [`${a.family.padEnd(4)} ${a.address}`];
        if (a.scopeId) parts[0] += `%${a.scopeId}`;
        if (a.prefixLength !== null) parts.push(`/${a.prefixLength}`);
        if (a.netmask && a.family === "ipv4") parts.push(`netmask ${a.netmask}`);
        if (a.broadcast) parts.push(`broadcast ${a.broadcast}`);
        if (a.destination) parts.push(`destination ${a.destination}`);
        console.log(`   ${parts.join(" ")}`);
      }
    });
  }
}
