/**
 * A simplified TCP connection state, tracked from the packets of both directions.
 *
 * @module
 */

/** TCP connection states of a {@link Flow}. */
export const TcpState = {
  /** Not TCP, or nothing seen yet. */
  None: "none",
  /** SYN seen from the client. */
  SynSent: "syn-sent",
  /** SYN+ACK seen from the server. */
  SynReceived: "syn-received",
  /** Handshake completed, or data seen on a connection picked up mid-stream. */
  Established: "established",
  /** One side has sent FIN. */
  FinWait: "fin-wait",
  /** Both sides have sent FIN. */
  Closed: "closed",
  /** A RST was seen. */
  Reset: "reset",
} as const;

/** A value of {@link TcpState}. */
export type TcpStateValue = typeof TcpState[keyof typeof TcpState];

/**
 * Next state after a segment with `flags` travelling in `direction` (0 = client to server).
 * `finMask` records which directions have sent FIN (bit 0: client, bit 1: server).
 */
export function nextTcpState(
  state: TcpStateValue,
  flags: number,
  direction: 0 | 1,
  finMask: number,
): TcpStateValue {
  const syn = (flags & 2) !== 0, ack = (flags & 16) !== 0, fin = (flags & 1) !== 0;
  if ((flags & 4) !== 0) return TcpState.Reset;
  if (state === TcpState.Reset) return syn && !ack ? TcpState.SynSent : state;
  if (fin) return finMask === 3 ? TcpState.Closed : TcpState.FinWait;
  if (state === TcpState.Closed) return syn && !ack ? TcpState.SynSent : state;
  if (syn) {
    if (!ack) return direction === 0 ? TcpState.SynSent : state;
    return TcpState.SynReceived;
  }
  if (state === TcpState.SynReceived && ack && direction === 0) return TcpState.Established;
  if (state === TcpState.None) return TcpState.Established;
  return state;
}
