/**
 * A C struct layout engine: declare a struct once, as data, and get its size,
 * alignment and field offsets exactly as a C compiler lays it out for a given
 * platform ABI, including `#pragma pack(n)`. Fields are then read from a
 * `DataView` through accessors compiled once per field, with no allocation
 * per field read.
 *
 * ```ts
 * import { defineStruct } from "@netcap/pcap/layout";
 *
 * const s = [["i", "i32"], ["j", "i16"], ["k", "f64"]] as const;
 * defineStruct(s).size;                       // 16: offsets 0, 4, 8
 * defineStruct(s, { pack: 2 }).size;          // 14: offsets 0, 4, 6
 * defineStruct(s, { pack: 2 }).offsetOf("k"); // 6
 * ```
 *
 * Scalar types with a fixed width (`i8` … `u64`, `f32`, `f64`) are the same
 * everywhere; `long`, `ulong`, `ptr`, `size_t`, `ssize_t` and `time_t` take
 * their width from the {@link Abi}. Their alignment inside a struct also comes
 * from the ABI: on 32-bit Linux (i386 System V) `i64`, `u64` and `f64` are
 * 4-aligned in structs, on 32-bit Windows they are 8-aligned.
 *
 * @module
 */

/** Names of the scalar C types the engine knows. */
export type ScalarType =
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "f32"
  | "f64"
  | "long"
  | "ulong"
  | "ptr"
  | "size_t"
  | "ssize_t"
  | "time_t";

/** An array field type: `count` elements of `of`. */
export interface ArrayType {
  /** Element type. */
  readonly of: ScalarType | StructLayout;
  /** Number of elements (0 gives a flexible array member of size 0). */
  readonly count: number;
}

/** The type of one field: a scalar name, another struct, or an array. */
export type FieldType = ScalarType | StructLayout | ArrayType;

/** One field declaration: `[name, type]`. */
export type FieldDecl = readonly [name: string, type: FieldType];

/** A platform ABI: type widths, in-struct alignments and byte order. */
export interface Abi {
  /** Identifier, e.g. `"linux-x64"`. */
  readonly name: AbiName;
  /** Size of a data pointer in bytes (4 or 8). */
  readonly pointerSize: 4 | 8;
  /** Size of C `long` in bytes (LP64: 8; LLP64 and ILP32: 4). */
  readonly longSize: 4 | 8;
  /** Size of `time_t` in bytes. */
  readonly timeSize: 4 | 8;
  /** Alignment of 8-byte scalars (`long long`, `double`) as struct members. */
  readonly align8: 4 | 8;
  /** True when the platform is little-endian. */
  readonly littleEndian: boolean;
  /** True when `struct sockaddr` starts with a `sa_len` byte (BSD, macOS). */
  readonly sockaddrHasLen: boolean;
  /** The size of `tv_usec` in `struct timeval`, in bytes. */
  readonly usecSize: 4 | 8;
  /** Address family numbers of this platform. */
  readonly af: {
    readonly inet: number;
    readonly inet6: number;
    /** `AF_PACKET` (Linux) or `AF_LINK` (BSD, macOS); `null` where there is none. */
    readonly link: number | null;
  };
  /** Operating system family. */
  readonly os: "linux" | "darwin" | "windows";
}

/** Names of the ABIs the engine knows. */
export type AbiName =
  | "linux-x64"
  | "linux-arm64"
  | "linux-ia32"
  | "darwin-x64"
  | "darwin-arm64"
  | "windows-x64"
  | "windows-ia32";

const linux64 = {
  pointerSize: 8,
  longSize: 8,
  timeSize: 8,
  align8: 8,
  littleEndian: true,
  sockaddrHasLen: false,
  usecSize: 8,
  af: { inet: 2, inet6: 10, link: 17 },
  os: "linux",
} as const;

const darwin64 = {
  pointerSize: 8,
  longSize: 8,
  timeSize: 8,
  align8: 8,
  littleEndian: true,
  sockaddrHasLen: true,
  usecSize: 4,
  af: { inet: 2, inet6: 30, link: 18 },
  os: "darwin",
} as const;

/** The ABIs the engine knows, by name. */
export const Abis: { readonly [K in AbiName]: Abi } = {
  "linux-x64": { name: "linux-x64", ...linux64 },
  "linux-arm64": { name: "linux-arm64", ...linux64 },
  "linux-ia32": {
    ...linux64,
    name: "linux-ia32",
    pointerSize: 4,
    longSize: 4,
    timeSize: 4,
    align8: 4,
    usecSize: 4,
  },
  "darwin-x64": { name: "darwin-x64", ...darwin64 },
  "darwin-arm64": { name: "darwin-arm64", ...darwin64 },
  "windows-x64": {
    name: "windows-x64",
    pointerSize: 8,
    longSize: 4,
    timeSize: 8,
    align8: 8,
    littleEndian: true,
    sockaddrHasLen: false,
    usecSize: 4,
    af: { inet: 2, inet6: 23, link: null },
    os: "windows",
  },
  "windows-ia32": {
    name: "windows-ia32",
    pointerSize: 4,
    longSize: 4,
    timeSize: 4,
    align8: 8,
    littleEndian: true,
    sockaddrHasLen: false,
    usecSize: 4,
    af: { inet: 2, inet6: 23, link: null },
    os: "windows",
  },
};

function detectHostAbi(): Abi {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  let os: string | undefined;
  let arch: string | undefined;
  if (g.Deno?.build) {
    os = g.Deno.build.os;
    arch = g.Deno.build.arch;
  } else if (g.process?.platform) {
    os = g.process.platform === "win32" ? "windows" : g.process.platform;
    arch = g.process.arch === "x64" ? "x86_64" : g.process.arch === "arm64" ? "aarch64" : "";
  }
  const a = arch === "aarch64" ? "arm64" : arch === "x86_64" ? "x64" : "x64";
  if (os === "windows") return Abis["windows-x64"];
  if (os === "darwin") return a === "arm64" ? Abis["darwin-arm64"] : Abis["darwin-x64"];
  return a === "arm64" ? Abis["linux-arm64"] : Abis["linux-x64"];
}

/** The ABI of the running process. */
export const hostAbi: Abi = detectHostAbi();

/** Resolves an ABI name or object (default: the host's). */
export function resolveAbi(abi?: Abi | AbiName): Abi {
  if (abi === undefined) return hostAbi;
  if (typeof abi === "string") {
    const found = (Abis as Record<string, Abi | undefined>)[abi];
    if (!found) {
      throw new RangeError(
        `Unknown ABI "${abi}": expected one of ${Object.keys(Abis).join(", ")}`,
      );
    }
    return found;
  }
  return abi;
}

/** Size and in-struct alignment of a scalar type on an ABI. */
export function scalarInfo(type: ScalarType, abi: Abi): { size: number; align: number } {
  switch (type) {
    case "i8":
    case "u8":
      return { size: 1, align: 1 };
    case "i16":
    case "u16":
      return { size: 2, align: 2 };
    case "i32":
    case "u32":
    case "f32":
      return { size: 4, align: 4 };
    case "i64":
    case "u64":
    case "f64":
      return { size: 8, align: abi.align8 };
    case "long":
    case "ulong":
      return abi.longSize === 8 ? { size: 8, align: abi.align8 } : { size: 4, align: 4 };
    case "ptr":
    case "size_t":
    case "ssize_t":
      return abi.pointerSize === 8 ? { size: 8, align: abi.align8 } : { size: 4, align: 4 };
    case "time_t":
      return abi.timeSize === 8 ? { size: 8, align: abi.align8 } : { size: 4, align: 4 };
  }
  throw new TypeError(`Unknown scalar type "${String(type)}"`);
}

/** Reads one field from a DataView at a struct's base offset. */
export type FieldReader<T = unknown> = (view: DataView, base: number) => T;

/** A laid-out field. */
export interface FieldInfo {
  /** Field name. */
  readonly name: string;
  /** Declared type. */
  readonly type: FieldType;
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** Alignment used for this field (after packing). */
  readonly align: number;
}

/** Options of {@link defineStruct}. */
export interface StructOptions {
  /** `#pragma pack(n)`: caps every member's alignment at `n`. */
  readonly pack?: 1 | 2 | 4 | 8 | 16;
  /** The platform ABI (default: the host's). */
  readonly abi?: Abi | AbiName;
  /** A name, used in messages and in generated C. */
  readonly name?: string;
}

/** Value a scalar read produces: numbers, except 64-bit fixed types as bigint. */
export type ScalarValue<T> = T extends "i64" | "u64" ? bigint : number;

/** The plain object {@link StructLayout.read} returns for a declaration. */
export type StructValue<F extends readonly FieldDecl[]> = {
  -readonly [D in F[number] as D[0]]: D[1] extends ScalarType ? ScalarValue<D[1]>
    : D[1] extends StructLayout<infer G> ? StructValue<G>
    : D[1] extends ArrayType ? unknown[]
    : unknown;
};

/** A struct laid out for one ABI. */
export interface StructLayout<F extends readonly FieldDecl[] = readonly FieldDecl[]> {
  /** Struct name (for messages and generated C). */
  readonly name: string;
  /** `sizeof`. */
  readonly size: number;
  /** `_Alignof`. */
  readonly align: number;
  /** The `pack` value used, if any. */
  readonly pack: number | undefined;
  /** The ABI this layout is for. */
  readonly abi: Abi;
  /** Fields in declaration order, with offsets. */
  readonly fields: readonly FieldInfo[];
  /** The declarations it was built from. */
  readonly declaration: F;
  /** Offset of a field; throws `RangeError` for an unknown name. */
  offsetOf(name: F[number][0]): number;
  /** A compiled reader for one field (no allocation per call for scalars). */
  reader<N extends F[number][0]>(name: N): FieldReader;
  /** Reads every field into a plain object. */
  read(view: DataView, base?: number): StructValue<F>;
  /** Writes the scalar fields present in `value`. */
  write(view: DataView, value: Partial<Record<F[number][0], number | bigint>>, base?: number): void;
}

function isArrayType(t: FieldType): t is ArrayType {
  return typeof t === "object" && t !== null && "of" in t && "count" in t;
}

function isStruct(t: FieldType): t is StructLayout {
  return typeof t === "object" && t !== null && "fields" in t && "size" in t;
}

function typeInfo(t: FieldType, abi: Abi): { size: number; align: number } {
  if (typeof t === "string") return scalarInfo(t, abi);
  if (isArrayType(t)) {
    if (!Number.isInteger(t.count) || t.count < 0) {
      throw new RangeError(`Array count must be a non-negative integer, got ${t.count}`);
    }
    const e = typeInfo(t.of, abi);
    return { size: e.size * t.count, align: e.align };
  }
  if (isStruct(t)) {
    if (t.abi.name !== abi.name) {
      throw new TypeError(
        `Nested struct "${t.name}" is laid out for ${t.abi.name}, not ${abi.name}`,
      );
    }
    return { size: t.size, align: t.align };
  }
  throw new TypeError(`Unknown field type ${String(t)}`);
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function scalarReader(type: ScalarType, abi: Abi, offset: number): FieldReader {
  const le = abi.littleEndian;
  const { size } = scalarInfo(type, abi);
  const signed = type === "i8" || type === "i16" || type === "i32" || type === "i64" ||
    type === "long" || type === "ssize_t" || type === "time_t";
  switch (type) {
    case "i8":
      return (v, b) => v.getInt8(b + offset);
    case "u8":
      return (v, b) => v.getUint8(b + offset);
    case "i16":
      return (v, b) => v.getInt16(b + offset, le);
    case "u16":
      return (v, b) => v.getUint16(b + offset, le);
    case "i32":
      return (v, b) => v.getInt32(b + offset, le);
    case "u32":
      return (v, b) => v.getUint32(b + offset, le);
    case "f32":
      return (v, b) => v.getFloat32(b + offset, le);
    case "f64":
      return (v, b) => v.getFloat64(b + offset, le);
    case "i64":
      return (v, b) => v.getBigInt64(b + offset, le);
    case "u64":
      return (v, b) => v.getBigUint64(b + offset, le);
  }
  // ABI-width integers are read as numbers (exact below 2^53).
  if (size === 4) {
    return signed ? (v, b) => v.getInt32(b + offset, le) : (v, b) => v.getUint32(b + offset, le);
  }
  const loOff = le ? 0 : 4;
  const hiOff = le ? 4 : 0;
  return signed
    ? (v, b) =>
      v.getInt32(b + offset + hiOff, le) * 4294967296 + v.getUint32(b + offset + loOff, le)
    : (v, b) =>
      v.getUint32(b + offset + hiOff, le) * 4294967296 + v.getUint32(b + offset + loOff, le);
}

function scalarWriter(
  type: ScalarType,
  abi: Abi,
  offset: number,
): (v: DataView, b: number, x: number | bigint) => void {
  const le = abi.littleEndian;
  const { size } = scalarInfo(type, abi);
  switch (type) {
    case "i8":
    case "u8":
      return (v, b, x) => v.setUint8(b + offset, Number(x) & 0xff);
    case "i16":
    case "u16":
      return (v, b, x) => v.setUint16(b + offset, Number(x) & 0xffff, le);
    case "f32":
      return (v, b, x) => v.setFloat32(b + offset, Number(x), le);
    case "f64":
      return (v, b, x) => v.setFloat64(b + offset, Number(x), le);
    case "i64":
    case "u64":
      return (v, b, x) => v.setBigUint64(b + offset, BigInt.asUintN(64, BigInt(x)), le);
  }
  if (size === 4) return (v, b, x) => v.setUint32(b + offset, Number(x) >>> 0, le);
  return (v, b, x) => v.setBigUint64(b + offset, BigInt.asUintN(64, BigInt(x)), le);
}

function compileReader(t: FieldType, abi: Abi, offset: number): FieldReader {
  if (typeof t === "string") return scalarReader(t, abi, offset);
  if (isStruct(t)) return (v, b) => t.read(v, b + offset);
  const arr = t as ArrayType;
  const elem = typeInfo(arr.of, abi);
  const readers: FieldReader[] = [];
  for (let i = 0; i < arr.count; i++) {
    readers.push(compileReader(arr.of, abi, offset + i * elem.size));
  }
  return (v, b) => readers.map((r) => r(v, b));
}

/**
 * Lays out a C struct. Fields are `[name, type]` pairs in declaration order.
 * Follows the C rules: each member at the next multiple of its alignment,
 * the struct's alignment is its largest member alignment, its size a multiple
 * of that; `pack: n` caps each member's alignment at `n`, like
 * `#pragma pack(n)` in GCC, Clang and MSVC.
 */
export function defineStruct<const F extends readonly FieldDecl[]>(
  fields: F,
  options: StructOptions = {},
): StructLayout<F> {
  const abi = resolveAbi(options.abi);
  const pack = options.pack;
  if (pack !== undefined && ![1, 2, 4, 8, 16].includes(pack)) {
    throw new RangeError(`pack must be 1, 2, 4, 8 or 16, got ${pack}`);
  }
  const name = options.name ?? "anonymous";
  const infos: FieldInfo[] = [];
  const seen = new Set<string>();
  let offset = 0;
  let structAlign = 1;
  for (const decl of fields) {
    if (!Array.isArray(decl) || decl.length !== 2 || typeof decl[0] !== "string") {
      throw new TypeError(`A field must be a [name, type] pair, got ${JSON.stringify(decl)}`);
    }
    const [fieldName, type] = decl;
    if (seen.has(fieldName)) {
      throw new TypeError(`Duplicate field "${fieldName}" in struct ${name}`);
    }
    seen.add(fieldName);
    const t = typeInfo(type, abi);
    const align = pack === undefined ? t.align : Math.min(t.align, pack);
    offset = alignUp(offset, align);
    infos.push({ name: fieldName, type, offset, size: t.size, align });
    offset += t.size;
    structAlign = Math.max(structAlign, align);
  }
  const size = alignUp(offset, structAlign);
  const byName = new Map<string, FieldInfo>(infos.map((f) => [f.name, f]));
  const readers = new Map<string, FieldReader>();
  const all: [string, FieldReader][] = infos.map((f) => {
    const r = compileReader(f.type, abi, f.offset);
    readers.set(f.name, r);
    return [f.name, r];
  });
  const writers = new Map<string, (v: DataView, b: number, x: number | bigint) => void>();
  for (const f of infos) {
    if (typeof f.type === "string") writers.set(f.name, scalarWriter(f.type, abi, f.offset));
  }
  const field = (n: string): FieldInfo => {
    const f = byName.get(n);
    if (!f) throw new RangeError(`Struct ${name} has no field "${n}"`);
    return f;
  };
  const layout: StructLayout<F> = {
    name,
    size,
    align: structAlign,
    pack,
    abi,
    fields: infos,
    declaration: fields,
    offsetOf(n: string): number {
      return field(n).offset;
    },
    reader(n: string): FieldReader {
      field(n);
      return readers.get(n)!;
    },
    read(view: DataView, base = 0): StructValue<F> {
      const out: Record<string, unknown> = {};
      for (const [n, r] of all) out[n] = r(view, base);
      return out as StructValue<F>;
    },
    write(view: DataView, value: Partial<Record<string, number | bigint>>, base = 0): void {
      for (const key of Object.keys(value)) {
        const x = value[key];
        if (x === undefined) continue;
        const w = writers.get(key);
        if (!w) {
          field(key);
          throw new TypeError(`Field "${key}" of struct ${name} is not a scalar`);
        }
        w(view, base, x);
      }
    },
  };
  return layout;
}

/** The C spelling of a scalar type (for generated C). */
export function cTypeName(type: ScalarType): string {
  const names: Record<ScalarType, string> = {
    i8: "signed char",
    u8: "unsigned char",
    i16: "short",
    u16: "unsigned short",
    i32: "int",
    u32: "unsigned int",
    i64: "long long",
    u64: "unsigned long long",
    f32: "float",
    f64: "double",
    long: "long",
    ulong: "unsigned long",
    ptr: "void *",
    size_t: "size_t",
    ssize_t: "ptrdiff_t",
    time_t: "time_t",
  };
  return names[type];
}

/**
 * C source declaring `layout` as `struct <name>`, wrapped in
 * `#pragma pack(push, n)` when it is packed; `prefix` goes before every
 * struct name. Nested structs are not emitted: declare them first.
 */
export function toCDeclaration(layout: StructLayout, prefix = ""): string {
  const lines: string[] = [];
  if (layout.pack !== undefined) lines.push(`#pragma pack(push, ${layout.pack})`);
  lines.push(`struct ${prefix}${layout.name} {`);
  for (const f of layout.fields) {
    let t: FieldType = f.type;
    let suffix = "";
    if (isArrayType(t)) {
      suffix = `[${t.count}]`;
      t = t.of;
    }
    const spelled = typeof t === "string"
      ? cTypeName(t)
      : `struct ${prefix}${(t as StructLayout).name}`;
    lines.push(`  ${spelled} ${f.name}${suffix};`);
  }
  lines.push("};");
  if (layout.pack !== undefined) lines.push("#pragma pack(pop)");
  return lines.join("\n");
}
