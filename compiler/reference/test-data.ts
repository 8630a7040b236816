// Test-data folders (input_N.pb / output_N.pb, the layout of the ONNX backend
// tests) and comparison of results against expected tensors.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import { isFloat } from '../../ir/dtype.js';
import type { Tensor } from '../../ir/tensor.js';
import { decodeTensorFile, encodeTensorFile } from '../frontend/tensor-proto.js';

function numbered(dir: string, prefix: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return fail('PIMC0101', `test data folder ${q(dir)} cannot be read`);
  }
  return names
    .map((f) => ({ f, m: new RegExp(`^${prefix}_(\\d+)\\.pb$`).exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => path.join(dir, x.f));
}

/** What readTensors needs of a graph: the names of its inputs and outputs. */
export interface NamedIo {
  inputs: readonly { name: string }[];
  outputs: readonly { name: string }[];
}

/**
 * Reads the tensors of a folder for a graph's inputs (or outputs). A file's
 * tensor name picks the value it feeds; unnamed tensors go by position.
 */
export function readTensors(dir: string, g: NamedIo, which: 'input' | 'output'): Map<string, Tensor> {
  const files = numbered(dir, which);
  const values = which === 'input' ? g.inputs : g.outputs;
  const wanted = new Set(values.map((v) => v.name));
  const out = new Map<string, Tensor>();
  files.forEach((file, i) => {
    const { name, tensor } = decodeTensorFile(fs.readFileSync(file), file);
    const key = name && wanted.has(name) ? name : values[i]?.name;
    if (!key) fail('PIMC0605', `file ${q(file)} holds ${q(name)}, which is not a graph ${which}`);
    out.set(key, tensor);
  });
  if (which === 'input' && files.length === 0 && g.inputs.length > 0) {
    fail('PIMC0605', `folder ${q(dir)} has no input_N.pb files`);
  }
  return out;
}

export function writeTensors(dir: string, tensors: ReadonlyMap<string, Tensor>, which: 'input' | 'output'): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  [...tensors].forEach(([name, t], i) => {
    const f = path.join(dir, `${which}_${i}.pb`);
    fs.writeFileSync(f, encodeTensorFile(name, t));
    files.push(f);
  });
  return files;
}

export interface Mismatch {
  name: string;
  reason: string;
  maxAbsError: number;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** The ONNX backend test harness's defaults. */
export const ONNX_TEST_TOLERANCE: Tolerance = { atol: 1e-7, rtol: 1e-3 };

/** Largest |a - b| over finite elements (Infinity where specials differ). */
export function maxAbsError(actual: Tensor, expected: Tensor): number {
  let m = 0;
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) return Infinity;
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return Infinity;
      continue;
    }
    m = Math.max(m, Math.abs(a - e));
  }
  return m;
}

/**
 * Compares one tensor: same dtype and shape; integers exactly; floats within
 * |a - e| <= atol + rtol * |e| element by element (NaN matches NaN).
 */
export function compareTensor(name: string, actual: Tensor, expected: Tensor, tol: Tolerance): Mismatch | undefined {
  if (actual.dtype !== expected.dtype) return { name, reason: `dtype ${actual.dtype}, expected ${expected.dtype}`, maxAbsError: Infinity };
  if (actual.shape.join() !== expected.shape.join()) {
    return { name, reason: `shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`, maxAbsError: Infinity };
  }
  const exact = !isFloat(expected.dtype);
  let worst = -1;
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (exact || !Number.isFinite(e)) ok = a === e;
    else ok = Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok) { worst = i; break; }
  }
  const err = maxAbsError(actual, expected);
  if (worst < 0) return undefined;
  return {
    name,
    reason: `element ${worst} is ${actual.data[worst]}, expected ${expected.data[worst]} (max abs error ${err.toExponential(3)})`,
    maxAbsError: err,
  };
}
