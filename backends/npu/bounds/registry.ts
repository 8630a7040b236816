// Op type -> its NPU error bound. Each family registers beside its derivation
// (matmul.ts, attention.ts, ...); index.ts imports them all and documents the
// API. The registry itself is shared with the PNM (backends/common/bound-registry.ts).

import type { Op } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { BoundRegistry, type BaseBoundContext, type ElementBound } from '../../common/bound-registry.js';

export type { ElementBound } from '../../common/bound-registry.js';

/** What a bound is computed from (see index.ts). */
export type BoundContext = BaseBoundContext;

/** Builds one op's element bound; may precompute per-element data (float64). */
export type BoundRule = (c: BoundContext) => ElementBound;

const BOUNDS = new BoundRegistry<BoundContext>('NPU');

export function registerBound(domain: string, type: string, rule: BoundRule): void {
  BOUNDS.register(domain, type, rule);
}

export function hasNpuBound(domain: string, type: string): boolean {
  return BOUNDS.has(domain, type);
}

/** Every op type with a bound ('domain::Type', or 'Type' for the default domain), sorted. */
export function boundedOpTypes(): string[] {
  return BOUNDS.types();
}

/**
 * The error bound of `op` run on the NPU against the reference: see index.ts.
 * Throws an internal Error naming the op type when it has no bound.
 */
export function npuBound(op: Op, inputs: readonly (Tensor | null)[], want: readonly Tensor[]): ElementBound {
  return BOUNDS.bound(op, inputs, want, {});
}
