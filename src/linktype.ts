/**
 * Link-layer header types (libpcap's `DLT_` values) and their names.
 *
 * @module
 */

import { cString, native } from "./native.ts";

export { LinkType, type LinkTypeValue } from "./dlt.ts";

/** libpcap's name for a link type (e.g. `EN10MB`), or null when it has none. */
export function linkTypeName(linkType: number): string | null {
  if (!Number.isInteger(linkType)) throw new TypeError("linkType must be an integer");
  const n = native();
  return n.backend.readCString(n.pcap.symbols.pcap_datalink_val_to_name(linkType));
}

/** libpcap's description of a link type (e.g. `Ethernet`), or null when it has none. */
export function linkTypeDescription(linkType: number): string | null {
  if (!Number.isInteger(linkType)) throw new TypeError("linkType must be an integer");
  const n = native();
  return n.backend.readCString(n.pcap.symbols.pcap_datalink_val_to_description(linkType));
}

/** The link type for a name such as `EN10MB` or `DLT_EN10MB` (any case), or null. */
export function linkTypeFromName(name: string): number | null {
  if (typeof name !== "string") throw new TypeError("name must be a string");
  const n = native();
  const v = n.pcap.symbols.pcap_datalink_name_to_val(cString(name.replace(/^DLT_/i, "")));
  return v < 0 ? null : v;
}
