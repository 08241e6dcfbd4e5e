/**
 * Chooses the back end for the running runtime, once.
 *
 * @module
 */

import type { Backend } from "./types.ts";
import { denoBackend } from "./deno.ts";
import { bunBackend } from "./bun.ts";

let current: Backend | null = null;

/** The runtime this process runs on, or `null` when it is neither Deno nor Bun. */
export function detectRuntime(): "deno" | "bun" | null {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return null;
}

/** The back end of the running runtime; throws an `Error` on any other runtime. */
export function backend(): Backend {
  if (current) return current;
  const rt = detectRuntime();
  if (rt === "bun") current = bunBackend();
  else if (rt === "deno") current = denoBackend();
  else throw new Error("@netcap/pcap needs Deno (with --allow-ffi) or Bun");
  return current;
}
