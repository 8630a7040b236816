// What the NPU's and the CXL-PNM's error-bound registries share: op type ->
// a rule that builds the allowed |got - want| per element from the op, the
// inputs the device stored and the reference's outputs; and the scan for the
// worst element of a result against its bound. Each device keeps its own
// registry (backends/npu/bounds, backends/cxl-pnm/bounds) with its own
// context fields.

import type { Op } from '../../ir/graph.js';
import '../../ir/ops/index.js';
import { Attrs, defOf } from '../../ir/registry.js';
import type { Tensor } from '../../ir/tensor.js';

/** The allowed |got - want| for element `index` (row-major) of output `output`. */
export type ElementBound = (output: number, index: number) => number;

/** What every bound is computed from; devices add fields. */
export interface BaseBoundContext {
  op: Op;
  /** The op's inputs as the device stored them (floats already f16 values); null for an optional input left out. */
  inputs: readonly (Tensor | null)[];
  /** The reference's outputs on those inputs. */
  want: readonly Tensor[];
  /** The op's attributes read through its schema (the reference's defaults). */
  attrs: Attrs;
}

/** 'domain::Type', or 'Type' for the default domain (the lowering registries' keys). */
export const boundKey = (domain: string, type: string): string => {
  const d = domain === 'ai.onnx' ? '' : domain;
  return d ? `${d}::${type}` : type;
};

export class BoundRegistry<C extends BaseBoundContext> {
  private readonly rules = new Map<string, (c: C) => ElementBound>();

  /** `device` names the registry in messages ("NPU", "PNM"). */
  constructor(private readonly device: string) {}

  register(domain: string, type: string, rule: (c: C) => ElementBound): void {
    const k = boundKey(domain, type);
    if (this.rules.has(k)) throw new Error(`internal: ${this.device} error bound of ${k} registered twice`);
    this.rules.set(k, rule);
  }

  has(domain: string, type: string): boolean {
    return this.rules.has(boundKey(domain, type));
  }

  /** Every op type with a bound, sorted. */
  types(): string[] {
    return [...this.rules.keys()].sort();
  }

  /** The op's element bound; `extra` adds the device's context fields. Throws an internal Error naming the op type when it has none. */
  bound(op: Op, inputs: readonly (Tensor | null)[], want: readonly Tensor[], extra: Omit<C, keyof BaseBoundContext>): ElementBound {
    const k = boundKey(op.domain, op.type);
    const rule = this.rules.get(k);
    if (!rule) throw new Error(`internal: no ${this.device} error bound for ${k} (op "${op.name}")`);
    if (want.length !== op.outputs.length) throw new Error(`internal: ${k} (op "${op.name}") has ${op.outputs.length} outputs, ${want.length} reference tensors given`);
    const bound = rule({ ...extra, op, inputs, want, attrs: new Attrs(op, defOf(op).attrs) } as C);
    return (output, index) => {
      if (!(output >= 0 && output < want.length)) throw new Error(`internal: ${k} (op "${op.name}") has no output ${output}`);
      return bound(output, index);
    };
  }
}

export interface BoundCheck {
  output: number;
  /** -1 when every element equals the reference's. */
  index: number;
  /** max |got - want| / bound; <= 1 is within bound. */
  ratio: number;
  got: number;
  want: number;
  bound: number;
}

/**
 * The worst element of every output against its bound. Equal values (NaN
 * with NaN too) are never worse; an infinity or NaN on one side only is an
 * infinite ratio.
 */
export function worstRatio(op: Op, bound: ElementBound, got: readonly Tensor[], want: readonly Tensor[]): BoundCheck {
  if (got.length !== want.length) throw new Error(`internal: ${op.type} (op "${op.name}"): ${got.length} outputs against ${want.length}`);
  let worst: BoundCheck = { output: 0, index: -1, ratio: 0, got: 0, want: 0, bound: 0 };
  got.forEach((gt, o) => {
    const wt = want[o]!;
    if (gt.size !== wt.size) throw new Error(`internal: ${op.type} (op "${op.name}") output ${o}: ${gt.size} elements against ${wt.size}`);
    for (let i = 0; i < gt.size; i++) {
      const g = gt.data[i]!, w = wt.data[i]!;
      if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
      const b = bound(o, i);
      const e = Number.isFinite(g) && Number.isFinite(w) ? Math.abs(g - w) / b : Infinity;
      if (!(e <= worst.ratio)) worst = { output: o, index: i, ratio: Number.isNaN(e) ? Infinity : e, got: g, want: w, bound: b };
    }
  });
  return worst;
}
