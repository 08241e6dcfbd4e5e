// Shared helpers for the test suite (not part of the published package).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** Absolute path of the repository root. */
export const repoRoot: string = fileURLToPath(new URL("..", import.meta.url));

/** Absolute path of `../shared/corpus` (beside the repository), or `SHARED_CORPUS`. */
export const corpusDir: string = process.env.SHARED_CORPUS ??
  join(repoRoot, "..", "shared", "corpus");

/** True when the corpus is present. */
export const haveCorpus: boolean = existsSync(join(corpusDir, "manifest.json"));

/** Reads a JSON file below the corpus folder. */
export function corpusJson<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(join(corpusDir, relative), "utf8")) as T;
}

/** Which runtime runs the tests. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";
