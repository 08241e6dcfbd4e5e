/**
 * Internal: a filter program built from instructions received over the
 * network, in the shape `Capture.setFilter()` takes (a `BpfProgram` whose
 * `programBuffer` is a `struct bpf_program`). libpcap validates it
 * (`bpf_validate`) and copies it in `pcap_setfilter`.
 *
 * @module
 */

import { BpfProgram } from "../filter.ts";
import type { WireInstruction } from "./protocol.ts";

/** @internal A `BpfProgram` over instructions received from a peer. */
export function programFromInstructions(instructions: readonly WireInstruction[]): BpfProgram {
  return BpfProgram.fromInstructions(
    instructions.map((i) => ({
      code: i.code & 0xffff,
      jt: i.jt & 0xff,
      jf: i.jf & 0xff,
      k: i.k >>> 0,
    })),
  );
}
