// Shared bits of the examples: argument parsing with --help, and formatting.
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Parses argv with node:util's parseArgs; prints `usage` and exits on --help. */
export function args<T extends NonNullable<ParseArgsConfig["options"]>>(
  usage: string,
  options: T,
  minPositionals = 0,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] } =
    parseArgs({
      args: process.argv.slice(2),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  if (parsed.values.help || parsed.positionals.length < minPositionals) {
    console.log(usage.trim());
    process.exit(parsed.values.help ? 0 : 2);
  }
  return parsed;
}

/** HH:MM:SS.uuuuuu of a packet time stamp (local time, like the course's samples). */
export function clock(seconds: number, nanoseconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(Math.floor(nanoseconds / 1000), 6)
  }`;
}
