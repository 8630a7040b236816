// Op type -> its NPU error bound. Each family registers beside its derivation
// (matmul.ts, attention.ts, ...); index.ts imports them all and documents the
// API.

import type { Op } from '../../../ir/graph.js';
import '../../../ir/ops/index.js';
import { Attrs, defOf } from '../../../ir/registry.js';
import type { Tensor } from '../../../ir/tensor.js';

/** The allowed |got - want| for element `index` (row-major) of output `output`. */
export type ElementBound = (output: number, index: number) => number;

/** What a bound is computed from (see index.ts). */
export interface BoundContext {
  op: Op;
  /** The op's inputs as the NPU stored them (floats already f16 values); null for an optional input left out. */
  inputs: readonly (Tensor | null)[];
  /** The reference's outputs on those inputs. */
  want: readonly Tensor[];
  /** The op's attributes read through its schema (the reference's defaults). */
  attrs: Attrs;
}

/** Builds one op's element bound; may precompute per-element data (float64). */
export type BoundRule = (c: BoundContext) => ElementBound;

const BOUNDS = new Map<string, BoundRule>();

const key = (domain: string, type: string) => {
  const d = domain === 'ai.onnx' ? '' : domain;
  return d ? `${d}::${type}` : type;
};

export function registerBound(domain: string, type: string, rule: BoundRule): void {
  const k = key(domain, type);
  if (BOUNDS.has(k)) throw new Error(`internal: NPU error bound of ${k} registered twice`);
  BOUNDS.set(k, rule);
}

export function hasNpuBound(domain: string, type: string): boolean {
  return BOUNDS.has(key(domain, type));
}

/** Every op type with a bound ('domain::Type', or 'Type' for the default domain), sorted. */
export function boundedOpTypes(): string[] {
  return [...BOUNDS.keys()].sort();
}

/**
 * The error bound of `op` run on the NPU against the reference: see index.ts.
 * Throws an internal Error naming the op type when it has no bound.
 */
export function npuBound(op: Op, inputs: readonly (Tensor | null)[], want: readonly Tensor[]): ElementBound {
  const k = key(op.domain, op.type);
  const rule = BOUNDS.get(k);
  if (!rule) throw new Error(`internal: no NPU error bound for ${k} (op "${op.name}")`);
  if (want.length !== op.outputs.length) throw new Error(`internal: ${k} (op "${op.name}") has ${op.outputs.length} outputs, ${want.length} reference tensors given`);
  const bound = rule({ op, inputs, want, attrs: new Attrs(op, defOf(op).attrs) });
  return (output, index) => {
    if (!(output >= 0 && output < want.length)) throw new Error(`internal: ${k} (op "${op.name}") has no output ${output}`);
    return bound(output, index);
  };
}
