/**
 * Link-layer header types: libpcap's `DLT_` values, as plain data (no native
 * code), shared by the capture API and the decoders.
 *
 * @module
 */

/** Common link-layer header types, as libpcap's `DLT_` values. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  /** Ethernet (10Mb and up). */
  EN10MB: 1,
  /** IEEE 802.5 Token Ring. */
  IEEE802: 6,
  /** ARCNET. */
  ARCNET: 7,
  /** SLIP. */
  SLIP: 8,
  /** PPP, with optional HDLC-like address/control bytes. */
  PPP: 9,
  /** FDDI. */
  FDDI: 10,
  /** Raw IP (the `DLT_RAW` value most platforms use). */
  RAW: 12,
  /** PPP in HDLC-like framing (RFC 1662). */
  PPP_SERIAL: 50,
  /** PPPoE. */
  PPP_ETHER: 51,
  /** `LINKTYPE_RAW`: raw IP as written in capture files. */
  LINKTYPE_RAW: 101,
  /** Cisco HDLC. */
  C_HDLC: 104,
  /** IEEE 802.11 without radio header. */
  IEEE802_11: 105,
  /** Frame Relay. */
  FRELAY: 107,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture, version 1. */
  LINUX_SLL: 113,
  /** IEEE 802.11 with a Prism header. */
  PRISM_HEADER: 119,
  /** IEEE 802.11 with a radiotap header. */
  IEEE802_11_RADIO: 127,
  /** Per-Packet Information header. */
  PPI: 192,
  /** IEEE 802.15.4. */
  IEEE802_15_4: 195,
  /** Linux USB (mmapped). */
  USB_LINUX_MMAPPED: 220,
  /** Raw IPv4. */
  IPV4: 228,
  /** Raw IPv6. */
  IPV6: 229,
  /** Linux netfilter log. */
  NFLOG: 239,
  /** Bluetooth Linux monitor. */
  BLUETOOTH_LINUX_MONITOR: 254,
  /** D-Bus. */
  DBUS: 231,
  /** Linux "cooked" capture, version 2. */
  LINUX_SLL2: 276,
  /** User-defined types 0 to 15 are 147 to 162. */
  USER0: 147,
} as const;

/** A value of {@link LinkType}. */
export type LinkTypeValue = typeof LinkType[keyof typeof LinkType];
