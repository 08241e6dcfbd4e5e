/**
 * Pure-TypeScript pcap and pcapng savefile reading and writing (no libpcap needed).
 *
 * @example Read a capture
 * ```ts
 * import { readPackets } from "@netcap/pcap/savefile";
 * for await (const pkt of readPackets("capture.pcapng")) {
 *   console.log(pkt.seconds, pkt.nanoseconds, pkt.length, pkt.data.length);
 * }
 * ```
 *
 * @module
 */

export * from "./types.ts";
export { readBatches, readPackets, readPacketsSync, SavefileReader } from "./reader.ts";
export { PcapFormatError } from "../errors.ts";
export { PcapWriter } from "./writer_pcap.ts";
export type { PcapWriterOptions, WritablePacket } from "./writer_pcap.ts";
export { PcapngWriter } from "./writer_pcapng.ts";
export type {
  InterfaceOptions,
  NameResolutionInput,
  PcapngWriterOptions,
  SectionOptions,
  StatisticsInput,
} from "./writer_pcapng.ts";
export type { WriterOptions, WriteTarget } from "./writer_output.ts";
export type { OptionInput } from "./options.ts";
