/**
 * Flows: a bidirectional 5-tuple flow table and TCP stream reassembly.
 *
 * ```ts
 * import { decode, LinkType } from "@netcap/pcap/decode";
 * import { FlowTable, TcpReassembler } from "@netcap/pcap/flow";
 *
 * const flows = new FlowTable({ maxFlows: 10_000, idleTimeout: 60 });
 * const tcp = new TcpReassembler({
 *   onData: (conn, dir, bytes) => console.log(conn.toString(), dir ? "<-" : "->", bytes.length),
 * });
 * for (const { data, ts } of packets) {
 *   const p = decode(LinkType.EN10MB, data);
 *   flows.update(p, ts);
 *   tcp.push(p, ts);
 * }
 * tcp.close();
 * ```
 *
 * @module
 */
export { type FlowTuple, flowTuple } from "./key.ts";
export { nextTcpState, TcpState, type TcpStateValue } from "./tcp_state.ts";
export {
  ExpireReason,
  type ExpireReasonValue,
  Flow,
  FlowTable,
  type FlowTableOptions,
  type FlowUpdate,
} from "./table.ts";
export {
  CloseReason,
  type CloseReasonValue,
  TcpConnection,
  TcpReassembler,
  type TcpReassemblerOptions,
} from "./reassembly.ts";
export { ChunkQueue } from "./chunk_queue.ts";
