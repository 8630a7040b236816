// Pattern matching over the IR for the fusion passes: small, explicit helpers
// rather than a pattern language, so each fusion reads as the exporter code
// it recognizes.

import { Op as OpClass, type AttrValue, type Graph, type Op, type Value } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';

/** The domain of the compiler's own transformer ops. */
export const PIMC_DOMAIN = 'pimc';

/** Who reads what, and which values the graph returns; rebuilt per pass run. */
export class Uses {
  private readonly users: Map<Value, Op[]>;
  private readonly outputs: Set<Value>;

  constructor(g: Graph) {
    this.users = g.users();
    this.outputs = new Set(g.outputs);
  }

  of(v: Value): Op[] {
    return this.users.get(v) ?? [];
  }

  /** True when only `op` reads v and the graph does not return it. */
  onlyBy(v: Value, op: Op): boolean {
    const u = this.of(v);
    return !this.outputs.has(v) && u.length === 1 && u[0] === op;
  }

  isGraphOutput(v: Value): boolean {
    return this.outputs.has(v);
  }
}

/** The op producing v if it has the given type (ONNX domain unless given). */
export function producer(v: Value | null | undefined, type: string, domain = ''): Op | undefined {
  const p = v?.producer;
  return p && p.type === type && p.domain === domain ? p : undefined;
}

/** The value of a constant with one element (any shape of size 1), else undefined. */
export function scalarConst(v: Value | null | undefined): number | undefined {
  const c = v?.constant;
  if (!c || !c.available || c.shape.reduce((a, b) => a * b, 1) !== 1) return undefined;
  return c.get().at(0);
}

export function constTensor(v: Value | null | undefined): Tensor | undefined {
  const c = v?.constant;
  return c && c.available ? c.get() : undefined;
}

/** For a commutative binary op, the input that is not `known` (or undefined). */
export function otherInput(op: Op, known: Value): Value | undefined {
  const [a, b] = op.inputs;
  if (a === known && b) return b;
  if (b === known && a) return a;
  return undefined;
}

/** Int attribute with a default. */
export function intAttr(op: Op, name: string, fallback: number): number {
  const a = op.attrs.get(name);
  return a && a.kind === 'int' ? a.value : fallback;
}

export function attrs(entries: Record<string, AttrValue>): Map<string, AttrValue> {
  return new Map(Object.entries(entries));
}

/**
 * Replaces the matched ops by one fused op. The fused op takes the name of
 * `anchor` (so it keeps an exporter node name), produces `outputs` (values of
 * the matched ops, so every user stays connected), and sits where the last
 * matched op was — its inputs are all defined before that point, so the
 * order stays topological. Callers check that no other op reads an
 * intermediate value of the match.
 */
export function fuse(
  g: Graph,
  matched: readonly Op[],
  init: { type: string; anchor: Op; inputs: (Value | null)[]; outputs: Value[]; attrs?: Map<string, AttrValue>; domain?: string },
): Op {
  const where = matched.map((m) => g.ops.indexOf(m)).sort((a, b) => a - b);
  const last = where[where.length - 1]!;
  const fused = new OpClass({
    name: init.anchor.name,
    type: init.type,
    domain: init.domain ?? PIMC_DOMAIN,
    inputs: init.inputs,
    outputs: init.outputs,
    attrs: init.attrs ?? new Map(),
    device: init.anchor.device,
  });
  // In place: the fused op takes the last slot, the others leave (from the
  // back, so earlier indices stay valid). No copy of the op list per fusion.
  g.ops[last] = fused;
  for (let k = where.length - 2; k >= 0; k--) g.ops.splice(where[k]!, 1);
  if (!g.opsets.has(fused.domain)) g.opsets.set(fused.domain, 1);
  return fused;
}

/** A match: the ops it replaces, and how to replace them (run after all matches are found). */
export interface Rewrite {
  ops: Op[];
  apply(): void;
}

/**
 * Asks `match` at every op with one view of the uses, then applies what it
 * found. Matching never sees a half-rewritten graph, and the uses are built
 * once per pass (rebuilding them per rewrite is quadratic on deep models). A
 * match that shares an op with an earlier one is dropped. Returns the count.
 */
export function rewriteAll(g: Graph, match: (op: Op, uses: Uses) => Rewrite | undefined): number {
  const uses = new Uses(g);
  const claimed = new Set<Op>();
  const found: Rewrite[] = [];
  for (const op of g.ops) {
    if (claimed.has(op)) continue;
    const r = match(op, uses);
    if (!r || r.ops.some((o) => claimed.has(o))) continue;
    for (const o of r.ops) claimed.add(o);
    found.push(r);
  }
  for (const r of found) r.apply();
  return found.length;
}

/** The op that alone reads v (v not a graph output), if it has the given type. */
export function soleUser(uses: Uses, v: Value, type: string): Op | undefined {
  const u = uses.of(v);
  return u.length === 1 && !uses.isGraphOutput(v) && u[0]!.type === type && u[0]!.domain === '' ? u[0] : undefined;
}
