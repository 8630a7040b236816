// Tensors to and from little-endian raw bytes, the layout of ONNX raw_data
// and external data files.

import { allocate, bf16Bits, bf16FromBits, bytesPerElement, f16Bits, f16FromBits, type DType } from './dtype.js';
import { Tensor, sizeOf } from './tensor.js';

/** True on a little-endian host: typed arrays over raw bytes read them as the files have them. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `bytes` (exactly size * bytesPerElement long; the caller checks) into a tensor.
 *
 * float32 bytes that are a whole buffer of their own (offset 0, the buffer's
 * full length: what a read of a file range into a fresh array gives, as
 * readRange does, once per read) are used in place: the tensor's data is a
 * view of that buffer, not a copy (a weight of a big model is hundreds of
 * megabytes). The caller hands the bytes over and does not change them
 * afterwards. Bytes inside a larger buffer (a TensorProto's raw_data in the
 * model file's bytes, a pooled Buffer) are copied, so a tensor never shares
 * memory with anything else.
 */
export function tensorFromRaw(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const n = sizeOf(shape);
  if (dtype === 'f32' && LITTLE_ENDIAN && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength === 4 * n && bytes.buffer instanceof ArrayBuffer) {
    return new Tensor(dtype, shape, new Float32Array(bytes.buffer, 0, n));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = allocate(dtype, n);
  const aligned = bytes.byteOffset % bytesPerElement(dtype) === 0;
  switch (dtype) {
    case 'f32':
      if (aligned) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'f64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'f16':
      for (let i = 0; i < n; i++) out[i] = f16FromBits(view.getUint16(2 * i, true));
      break;
    case 'bf16':
      for (let i = 0; i < n; i++) out[i] = bf16FromBits(view.getUint16(2 * i, true));
      break;
    case 'i8': for (let i = 0; i < n; i++) out[i] = view.getInt8(i); break;
    case 'u8': case 'bool': for (let i = 0; i < n; i++) out[i] = bytes[i]!; break;
    case 'i16': for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true); break;
    case 'u16': for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true); break;
    case 'i32': for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true); break;
    case 'u32': for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i, true); break;
    case 'i64': for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true)); break;
    case 'u64': for (let i = 0; i < n; i++) out[i] = Number(view.getBigUint64(8 * i, true)); break;
  }
  if (dtype === 'bool') for (let i = 0; i < n; i++) out[i] = out[i] ? 1 : 0;
  return new Tensor(dtype, shape, out);
}

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

/** Encodes a tensor as raw little-endian bytes (64-bit integers saturate). */
export function tensorToRaw(t: Tensor): Uint8Array {
  const n = t.size;
  const bytes = new Uint8Array(n * bytesPerElement(t.dtype));
  const view = new DataView(bytes.buffer);
  const d = t.data;
  switch (t.dtype) {
    case 'f32': for (let i = 0; i < n; i++) view.setFloat32(4 * i, d[i]!, true); break;
    case 'f64': for (let i = 0; i < n; i++) view.setFloat64(8 * i, d[i]!, true); break;
    case 'f16': for (let i = 0; i < n; i++) view.setUint16(2 * i, f16Bits(d[i]!), true); break;
    case 'bf16': for (let i = 0; i < n; i++) view.setUint16(2 * i, bf16Bits(d[i]!), true); break;
    case 'i8': for (let i = 0; i < n; i++) view.setInt8(i, d[i]!); break;
    case 'u8': case 'bool': for (let i = 0; i < n; i++) bytes[i] = d[i]!; break;
    case 'i16': for (let i = 0; i < n; i++) view.setInt16(2 * i, d[i]!, true); break;
    case 'u16': for (let i = 0; i < n; i++) view.setUint16(2 * i, d[i]!, true); break;
    case 'i32': for (let i = 0; i < n; i++) view.setInt32(4 * i, d[i]!, true); break;
    case 'u32': for (let i = 0; i < n; i++) view.setUint32(4 * i, d[i]!, true); break;
    case 'i64':
      for (let i = 0; i < n; i++) view.setBigInt64(8 * i, clampBig(d[i]!, I64_MIN, I64_MAX), true);
      break;
    case 'u64':
      for (let i = 0; i < n; i++) view.setBigUint64(8 * i, clampBig(d[i]!, 0n, U64_MAX), true);
      break;
  }
  return bytes;
}

function clampBig(v: number, lo: bigint, hi: bigint): bigint {
  if (Number.isNaN(v)) return 0n;
  if (v === Infinity) return hi;
  if (v === -Infinity) return lo;
  const b = BigInt(Math.trunc(v));
  return b < lo ? lo : b > hi ? hi : b;
}
