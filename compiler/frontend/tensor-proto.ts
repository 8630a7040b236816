// TensorProto <-> Tensor, for initializers, Constant attributes and the
// input_N.pb / output_N.pb files of test-data folders.

import onnxProto from 'onnx-proto';
import { dtypeFromOnnx, dtypeToOnnx, onnxTypeName, bytesPerElement, type DType } from '../../ir/dtype.js';
import { fail, q } from '../../ir/diagnostics.js';
import { tensorFromRaw, tensorToRaw } from '../../ir/raw.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';

export const onnx = onnxProto.onnx;
export type ITensorProto = onnxProto.onnx.ITensorProto;

/** A protobuf int64 (Long or number) as a number. */
export function toNum(v: number | Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

interface Long { toNumber(): number }

export function dimsOf(t: ITensorProto): number[] {
  return (t.dims ?? []).map(toNum);
}

export function dtypeOf(t: ITensorProto, where: string): DType {
  const code = t.dataType ?? 0;
  const d = dtypeFromOnnx(code);
  if (!d) fail('PIMC0205', `${where} has element type ${onnxTypeName(code)}, which pimc does not support`);
  return d;
}

/**
 * Decodes the data of a TensorProto that is not external. `where` names the
 * tensor in errors (initializer "w", attribute of node "n", file "x.pb").
 */
export function tensorFromProto(t: ITensorProto, where: string): Tensor {
  const dtype = dtypeOf(t, where);
  const shape = dimsOf(t);
  if (shape.some((d) => d < 0 || !Number.isSafeInteger(d))) fail('PIMC0204', `${where} has invalid dims [${shape.join(', ')}]`);
  const n = sizeOf(shape);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const want = n * bytesPerElement(dtype);
    if (raw.length !== want) {
      fail('PIMC0204', `${where} has ${raw.length} bytes of data but dims [${shape.join(', ')}] of ${dtype} need ${want}`);
    }
    return tensorFromRaw(dtype, shape, raw);
  }
  const values = typedValues(t, dtype);
  if (values.length !== n) {
    fail('PIMC0204', `${where} has ${values.length} values but dims [${shape.join(', ')}] need ${n}`);
  }
  if (dtype === 'f16' || dtype === 'bf16') {
    // int32_data holds the 16-bit patterns
    const raw16 = new Uint8Array(n * 2);
    const view = new DataView(raw16.buffer);
    for (let i = 0; i < n; i++) view.setUint16(2 * i, values[i]! & 0xffff, true);
    return tensorFromRaw(dtype, shape, raw16);
  }
  return Tensor.from(dtype, shape, values);
}

function typedValues(t: ITensorProto, dtype: DType): number[] {
  switch (dtype) {
    case 'f32': return t.floatData ?? [];
    case 'f64': return t.doubleData ?? [];
    case 'i64': return (t.int64Data ?? []).map(toNum);
    case 'u32': case 'u64': return (t.uint64Data ?? []).map(toNum);
    default: return (t.int32Data ?? []).map(toNum);
  }
}

/** A TensorProto with raw data. */
export function tensorToProto(name: string, t: Tensor): ITensorProto {
  return { name, dims: [...t.shape], dataType: dtypeToOnnx(t.dtype), rawData: tensorToRaw(t) };
}

/** Serialized TensorProto, the format of input_N.pb / output_N.pb. */
export function encodeTensorFile(name: string, t: Tensor): Uint8Array {
  return onnx.TensorProto.encode(onnx.TensorProto.create(tensorToProto(name, t))).finish();
}

/** Reads a serialized TensorProto file's bytes; returns its name and tensor. */
export function decodeTensorFile(bytes: Uint8Array, file: string): { name: string; tensor: Tensor } {
  let t: onnxProto.onnx.TensorProto;
  try {
    t = onnx.TensorProto.decode(bytes);
  } catch (e) {
    return fail('PIMC0103', `file ${q(file)} is not a serialized TensorProto (${(e as Error).message})`);
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    fail('PIMC0103', `file ${q(file)} holds a tensor with external data, which test-data files cannot use`);
  }
  return { name: t.name ?? '', tensor: tensorFromProto(t, `tensor in file ${q(file)}`) };
}
