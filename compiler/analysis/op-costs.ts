// Per-op work under a scenario: FLOPs (from the op registry), bytes by kind
// (weights, activations, KV cache) at device storage precision, and the
// arithmetic intensity that decides where an op belongs.

import { bytesPerElement, isFloat } from '../../ir/dtype.js';
import type { Graph, Op, Value } from '../../ir/graph.js';
import { Attrs, defOf, type CostTensor } from '../../ir/registry.js';
import { sizeOf } from '../../ir/tensor.js';
import { kindOf, type OpKind } from './kinds.js';
import { concreteShape, type Binding } from './scenario.js';

/** Devices store floats in FP16 (HARDWARE.md 2, 3): bytes of one element on a device. */
export const FLOAT_STORAGE_BYTES = 2;

export interface ByteSplit {
  weights: number;
  activations: number;
  kv: number;
}

export interface OpWork {
  op: Op;
  kind: OpKind;
  flops: number;
  bytes: ByteSplit;
  /** FLOPs per byte moved (0 for ops that move nothing). */
  intensity: number;
  inputs: (number[] | undefined)[];
  outputs: number[][];
  /** Batch factor the shapes above still need (static models; else 1). */
  scale: number;
}

export const totalBytes = (b: ByteSplit): number => b.weights + b.activations + b.kv;

function elementBytes(v: Value): number {
  const d = v.type!.dtype;
  return isFloat(d) ? FLOAT_STORAGE_BYTES : bytesPerElement(d);
}

/** Bytes of a value of this shape on a device. */
export function valueBytes(v: Value, shape: readonly number[] | undefined): number {
  return shape ? sizeOf(shape) * elementBytes(v) : 0;
}

/** Values that are the KV cache: past inputs, their appends and what only reshapes them. */
export function kvValues(g: Graph): Set<Value> {
  const kv = new Set<Value>(g.inputs.filter((v) => /past/i.test(v.name)));
  const users = g.users();
  for (const v of g.inputs) if ((users.get(v) ?? []).some((o) => o.type === 'KvAppend')) kv.add(v);
  for (const op of g.ops) {
    const first = op.inputs[0];
    const carries = op.type === 'KvAppend' || op.type === 'Concat' || kindOf(op) === 'view' || op.type === 'Expand' || op.type === 'Transpose';
    if (first && kv.has(first) && carries) op.outputs.forEach((o) => kv.add(o));
  }
  return kv;
}

export function analyzeOps(g: Graph, b: Binding): OpWork[] {
  const kv = kvValues(g);
  const bytesOf = (v: Value | null, shape: number[] | undefined) => (v ? valueBytes(v, shape) : 0);
  return g.ops.map((op) => {
    const kind = kindOf(op);
    const inputs = op.inputs.map((v) => (v ? concreteShape(v, b) : undefined));
    const outputs = op.outputs.map((v) => concreteShape(v, b));
    const def = defOf(op);
    const costIn: (CostTensor | undefined)[] = op.inputs.map((v, i) => (v ? { dtype: v.type!.dtype, shape: inputs[i]! } : undefined));
    const costOut: CostTensor[] = op.outputs.map((v, i) => ({ dtype: v.type!.dtype, shape: outputs[i]! }));
    let flops = kind === 'view' ? 0 : def.cost({ op, attrs: new Attrs(op, def.attrs), inputs: costIn, outputs: costOut }).flops;
    const bytes: ByteSplit = { weights: 0, activations: 0, kv: 0 };
    const add = (v: Value | null, shape: number[] | undefined, role?: keyof ByteSplit) => {
      if (!v) return;
      const r = role ?? (v.constant ? 'weights' : kv.has(v) ? 'kv' : 'activations');
      bytes[r] += bytesOf(v, shape);
    };
    if (kind === 'view') {
      // nothing moves
    } else if (kind === 'kv-append') {
      // the new token's keys or values are written into the cache in place
      add(op.inputs[1]!, inputs[1], 'activations');
      add(op.inputs[1]!, inputs[1], 'kv');
    } else if (kind === 'embedding') {
      // only the looked-up rows of the table are read
      add(op.inputs[1]!, inputs[1]);
      add(op.outputs[0]!, outputs[0], 'weights');
      add(op.outputs[0]!, outputs[0], 'activations');
    } else {
      op.inputs.forEach((v, i) => add(v, inputs[i]));
      op.outputs.forEach((v, i) => add(v, outputs[i], kv.has(v) ? 'kv' : 'activations'));
    }
    if (b.batchScale !== 1) {
      flops *= b.batchScale;
      bytes.activations *= b.batchScale;
      bytes.kv *= b.batchScale;
      if (kind === 'embedding') bytes.weights *= b.batchScale;
    }
    const total = totalBytes(bytes);
    return { op, kind, flops, bytes, intensity: total ? flops / total : 0, inputs, outputs, scale: b.batchScale };
  });
}
