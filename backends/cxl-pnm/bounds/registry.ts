// Op type -> its PNM error bound. Each family registers beside its derivation
// (elementwise.ts, gemm.ts, ...); index.ts imports them all and documents the
// API. The shape of backends/npu/bounds/registry.ts, plus the default
// domain's opset (Softmax's rows changed at 13, and the PNM lowering follows
// the graph's opset: lower/types.ts PnmLowerContext.opset).

import type { Op } from '../../../ir/graph.js';
import '../../../ir/ops/index.js';
import { Attrs, defOf } from '../../../ir/registry.js';
import type { Tensor } from '../../../ir/tensor.js';

/** The allowed |got - want| for element `index` (row-major) of output `output`. */
export type ElementBound = (output: number, index: number) => number;

/** What a bound is computed from (see index.ts). */
export interface BoundContext {
  op: Op;
  /** The op's inputs as the expander stored them (floats already f16 values); null for an optional input left out. */
  inputs: readonly (Tensor | null)[];
  /** The reference's outputs on those inputs. */
  want: readonly Tensor[];
  /** The op's attributes read through its schema (the reference's defaults). */
  attrs: Attrs;
  /** The default domain's opset of the op's graph (23 when not given), as the lowering and the reference read it. */
  opset: number;
}

/** Builds one op's element bound; may precompute per-element data (float64). */
export type BoundRule = (c: BoundContext) => ElementBound;

const BOUNDS = new Map<string, BoundRule>();

/** The PNM lowering registry's key ('domain::Type', 'Type' for the default domain). */
const key = (domain: string, type: string) => {
  const d = domain === 'ai.onnx' ? '' : domain;
  return d ? `${d}::${type}` : type;
};

export function registerPnmBound(domain: string, type: string, rule: BoundRule): void {
  const k = key(domain, type);
  if (BOUNDS.has(k)) throw new Error(`internal: PNM error bound of ${k} registered twice`);
  BOUNDS.set(k, rule);
}

export function hasPnmBound(domain: string, type: string): boolean {
  return BOUNDS.has(key(domain, type));
}

/** Every op type with a bound ('domain::Type', or 'Type' for the default domain), sorted. */
export function pnmBoundedOpTypes(): string[] {
  return [...BOUNDS.keys()].sort();
}

/**
 * The error bound of `op` run on the CXL-PNM against the reference: see
 * index.ts. Throws an internal Error naming the op type when it has no bound.
 */
export function pnmBound(op: Op, inputs: readonly (Tensor | null)[], want: readonly Tensor[], opset = 23): ElementBound {
  const k = key(op.domain, op.type);
  const rule = BOUNDS.get(k);
  if (!rule) throw new Error(`internal: no PNM error bound for ${k} (op "${op.name}")`);
  if (want.length !== op.outputs.length) throw new Error(`internal: ${k} (op "${op.name}") has ${op.outputs.length} outputs, ${want.length} reference tensors given`);
  const bound = rule({ op, inputs, want, attrs: new Attrs(op, defOf(op).attrs), opset });
  return (output, index) => {
    if (!(output >= 0 && output < want.length)) throw new Error(`internal: ${k} (op "${op.name}") has no output ${output}`);
    return bound(output, index);
  };
}
