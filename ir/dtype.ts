// Element types of the IR and how each is stored in memory.
//
// Storage is chosen so that every op can compute in plain JavaScript numbers:
// - float32 in Float32Array, float64 in Float64Array;
// - float16 and bfloat16 in Float32Array holding values already rounded to
//   that format (the reference works in fp32; rounding happens on store);
// - int8..uint32 in their own typed arrays, so stores wrap like the hardware;
// - int64 and uint64 in Float64Array: exact for magnitudes up to 2^53, which
//   covers shapes, indices and token ids. Larger values (INT64_MAX as "to the
//   end" in Slice) are kept as the nearest double and saturated on export.
// - bool in Uint8Array (0 or 1).

export type DType =
  | 'f32' | 'f16' | 'bf16' | 'f64'
  | 'i8' | 'i16' | 'i32' | 'i64'
  | 'u8' | 'u16' | 'u32' | 'u64'
  | 'bool';

export const ALL_DTYPES: readonly DType[] = [
  'f32', 'f16', 'bf16', 'f64', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool',
];

export type TensorData =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array
  | Uint8Array | Uint16Array | Uint32Array;

interface DTypeInfo {
  /** TensorProto.DataType code. */
  onnx: number;
  /** Bytes per element in ONNX raw_data. */
  bytes: number;
  storage: { new (n: number): TensorData };
  float: boolean;
  signed: boolean;
}

const INFO: Record<DType, DTypeInfo> = {
  f32: { onnx: 1, bytes: 4, storage: Float32Array, float: true, signed: true },
  u8: { onnx: 2, bytes: 1, storage: Uint8Array, float: false, signed: false },
  i8: { onnx: 3, bytes: 1, storage: Int8Array, float: false, signed: true },
  u16: { onnx: 4, bytes: 2, storage: Uint16Array, float: false, signed: false },
  i16: { onnx: 5, bytes: 2, storage: Int16Array, float: false, signed: true },
  i32: { onnx: 6, bytes: 4, storage: Int32Array, float: false, signed: true },
  i64: { onnx: 7, bytes: 8, storage: Float64Array, float: false, signed: true },
  bool: { onnx: 9, bytes: 1, storage: Uint8Array, float: false, signed: false },
  f16: { onnx: 10, bytes: 2, storage: Float32Array, float: true, signed: true },
  f64: { onnx: 11, bytes: 8, storage: Float64Array, float: true, signed: true },
  u32: { onnx: 12, bytes: 4, storage: Uint32Array, float: false, signed: false },
  u64: { onnx: 13, bytes: 8, storage: Float64Array, float: false, signed: false },
  bf16: { onnx: 16, bytes: 2, storage: Float32Array, float: true, signed: true },
};

const BY_ONNX = new Map<number, DType>(
  (Object.keys(INFO) as DType[]).map((d) => [INFO[d].onnx, d]),
);

/** ONNX type names for codes we do not support, for error messages. */
const ONNX_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 8: 'STRING', 14: 'COMPLEX64', 15: 'COMPLEX128',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

export function dtypeFromOnnx(code: number): DType | undefined {
  return BY_ONNX.get(code);
}

export function onnxTypeName(code: number): string {
  const d = BY_ONNX.get(code);
  return d ? d : ONNX_NAMES[code] ?? `type ${code}`;
}

export function dtypeToOnnx(d: DType): number {
  return INFO[d].onnx;
}

export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(INFO, s);
}

export const isFloat = (d: DType): boolean => INFO[d].float;
export const isInteger = (d: DType): boolean => !INFO[d].float && d !== 'bool';
export const isSigned = (d: DType): boolean => INFO[d].signed;
export const bytesPerElement = (d: DType): number => INFO[d].bytes;

export function allocate(d: DType, n: number): TensorData {
  return new INFO[d].storage(n);
}

// ---- rounding to the narrow float formats -------------------------------

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** Bits of the IEEE half nearest to x (round to nearest even). */
export function f16Bits(x: number): number {
  f32buf[0] = x;
  const b = u32buf[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (e <= 0) {
    // subnormal half (or zero): shift the full significand into place
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) { m = 0; e++; if (e >= 0x1f) return sign | 0x7c00; }
  }
  return sign | (e << 10) | m;
}

/** The value of IEEE half bits h. */
export function f16FromBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export function roundF16(x: number): number {
  return f16FromBits(f16Bits(x));
}

/** Bits of the bfloat16 nearest to x (round to nearest even). */
export function bf16Bits(x: number): number {
  f32buf[0] = x;
  const b = u32buf[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return ((b >>> 16) | 0x40) & 0xffff;
  const rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

export function bf16FromBits(h: number): number {
  u32buf[0] = (h & 0xffff) << 16;
  return f32buf[0]!;
}

export function roundBf16(x: number): number {
  return bf16FromBits(bf16Bits(x));
}

/**
 * Brings values computed in doubles to what the dtype can hold: rounding for
 * the narrow floats, truncation toward zero for the 64-bit integers kept in
 * Float64Array (the other integer arrays truncate and wrap on store).
 */
export function normalizeInPlace(d: DType, data: TensorData): void {
  if (d === 'f16') {
    for (let i = 0; i < data.length; i++) data[i] = roundF16(data[i]!);
  } else if (d === 'bf16') {
    for (let i = 0; i < data.length; i++) data[i] = roundBf16(data[i]!);
  } else if (d === 'i64' || d === 'u64') {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (!Number.isInteger(v)) data[i] = Number.isFinite(v) ? Math.trunc(v) : 0;
    }
  } else if (d === 'bool') {
    for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
  }
}

/** Converts a double to what an element of dtype d holds (used for scalars). */
export function coerceScalar(d: DType, v: number): number {
  const a = allocate(d, 1);
  a[0] = d === 'bool' ? (v ? 1 : 0) : v;
  normalizeInPlace(d, a);
  return a[0]!;
}
