// Op type -> its PNM error bound. Each family registers beside its derivation
// (elementwise.ts, gemm.ts, ...); index.ts imports them all and documents the
// API. The shape of backends/npu/bounds/registry.ts, plus the default
// domain's opset (Softmax's rows changed at 13, and the PNM lowering follows
// the graph's opset: lower/types.ts PnmLowerContext.opset).

import type { Op } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { BoundRegistry, type BaseBoundContext, type ElementBound } from '../../common/bound-registry.js';

export type { ElementBound } from '../../common/bound-registry.js';

/** What a bound is computed from (see index.ts). */
export interface BoundContext extends BaseBoundContext {
  /** The default domain's opset of the op's graph (23 when not given), as the lowering and the reference read it. */
  opset: number;
}

/** Builds one op's element bound; may precompute per-element data (float64). */
export type BoundRule = (c: BoundContext) => ElementBound;

const BOUNDS = new BoundRegistry<BoundContext>('PNM');

export function registerPnmBound(domain: string, type: string, rule: BoundRule): void {
  BOUNDS.register(domain, type, rule);
}

export function hasPnmBound(domain: string, type: string): boolean {
  return BOUNDS.has(domain, type);
}

/** Every op type with a bound ('domain::Type', or 'Type' for the default domain), sorted. */
export function pnmBoundedOpTypes(): string[] {
  return BOUNDS.types();
}

/**
 * The error bound of `op` run on the CXL-PNM against the reference: see
 * index.ts. Throws an internal Error naming the op type when it has no bound.
 */
export function pnmBound(op: Op, inputs: readonly (Tensor | null)[], want: readonly Tensor[], opset = 23): ElementBound {
  return BOUNDS.bound(op, inputs, want, { opset });
}
