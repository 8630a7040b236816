// Einsum: explicit and implicit outputs, ellipsis, repeated indices
// (diagonals) and summation. A plain reference: it walks the output index
// space and, for each output element, the space of summed indices.

import { normalizeInPlace } from '../dtype.js';
import { registerOp } from '../registry.js';
import { Tensor, sizeOf, stridesOf } from '../tensor.js';
import type { Dim } from '../types.js';
import { broadcastShapes, ioBytes, op } from './support.js';

/**
 * An equation resolved against input ranks. Labels are letters plus one
 * pseudo-label per ellipsis dim ('0', '1', ... counted from the left of the
 * broadcast ellipsis block, right-aligned like numpy).
 */
interface Plan {
  /** Labels of each input dim, per input. */
  inputs: string[][];
  outputs: string[];
  summed: string[];
  /** Ellipsis dims per input, for broadcasting them. */
  ellipsis: number[][];
  ellRank: number;
}

function parseTerm(term: string, err: (m: string) => never): { letters: string[]; ellipsisAt: number } {
  const letters: string[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const ch = term[i]!;
    if (term.startsWith('...', i)) {
      if (ellipsisAt >= 0) err(`term ${JSON.stringify(term)} has two ellipses`);
      ellipsisAt = letters.length;
      i += 2;
    } else if (/[A-Za-z]/.test(ch)) letters.push(ch);
    else err(`equation has an invalid character ${JSON.stringify(ch)}`);
  }
  return { letters, ellipsisAt };
}

function withEllipsis(letters: string[], at: number, n: number, ellRank: number): string[] {
  if (at < 0) return letters;
  const ell = Array.from({ length: n }, (_, e) => String(ellRank - n + e));
  return [...letters.slice(0, at), ...ell, ...letters.slice(at)];
}

function plan(equation: string, ranks: readonly number[], err: (m: string) => never): Plan {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') as [string, string] : [eq, undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) err(`equation has ${terms.length} input terms for ${ranks.length} inputs`);
  const parsed = terms.map((t) => parseTerm(t, err));
  const nEll = parsed.map((p, i) => {
    const n = ranks[i]! - p.letters.length;
    if (n < 0 || (n > 0 && p.ellipsisAt < 0)) err(`term ${JSON.stringify(terms[i])} does not match an input of rank ${ranks[i]}`);
    return p.ellipsisAt < 0 ? 0 : n;
  });
  const ellRank = Math.max(0, ...nEll);
  const inputs = parsed.map((p, i) => withEllipsis(p.letters, p.ellipsisAt, nEll[i]!, ellRank));
  const ellLabels = Array.from({ length: ellRank }, (_, e) => String(e));
  let outputs: string[];
  if (rhs !== undefined) {
    const o = parseTerm(rhs, err);
    outputs = withEllipsis(o.letters, o.ellipsisAt, ellRank, ellRank);
    for (const l of o.letters) if (!inputs.some((ls) => ls.includes(l))) err(`output label ${l} is not in any input`);
    if (new Set(outputs).size !== outputs.length) err('output has a repeated label');
  } else {
    // Implicit output: ellipsis dims, then the letters seen exactly once, sorted.
    const count = new Map<string, number>();
    for (const p of parsed) for (const l of p.letters) count.set(l, (count.get(l) ?? 0) + 1);
    outputs = [...ellLabels, ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  const all = new Set(inputs.flat());
  const summed = [...all].filter((l) => !outputs.includes(l)).sort();
  const ellipsis = inputs.map((ls) => ls.map((l, d) => (/\d/.test(l) ? d : -1)).filter((d) => d >= 0));
  return { inputs, outputs, summed, ellipsis, ellRank };
}

/** The size of every label; size-1 dims broadcast. */
function labelSizes(p: Plan, shapes: readonly (readonly Dim[])[], err: (m: string) => never, ctx?: { unknownDim(): string; error(m: string): never }): Map<string, Dim> {
  const sizes = new Map<string, Dim>();
  p.inputs.forEach((ls, i) => ls.forEach((l, d) => {
    const dim = shapes[i]![d]!;
    const prev = sizes.get(l);
    if (prev === undefined || prev === 1) sizes.set(l, dim);
    else if (dim !== 1 && dim !== prev) {
      if (typeof dim === 'number' && typeof prev === 'number') err(`label ${/\d/.test(l) ? '...' : l} has sizes ${prev} and ${dim}`);
      sizes.set(l, broadcastShapes([prev], [dim], ctx)[0]!);
    }
  }));
  return sizes;
}

function einsumRun(equation: string, xs: readonly Tensor[], err: (m: string) => never): Tensor {
  const p = plan(equation, xs.map((x) => x.rank), err);
  const sizes = labelSizes(p, xs.map((x) => x.shape), err) as Map<string, number>;
  const outShape = p.outputs.map((l) => sizes.get(l)!);
  const out = new Tensor(xs[0]!.dtype, outShape);
  // Per input, the stride each label steps by: summed over repeated labels (a
  // diagonal), zero where the input's dim is 1 (broadcast) or the label is absent.
  const strideOf = (labels: readonly string[]) => xs.map((x, i) => {
    const st = stridesOf(x.shape);
    return labels.map((l) => p.inputs[i]!.reduce((s, li, d) => (li === l && x.shape[d] !== 1 ? s + st[d]! : s), 0));
  });
  const oStride = strideOf(p.outputs);
  const sStride = strideOf(p.summed);
  const sShape = p.summed.map((l) => sizes.get(l)!);
  const nSum = sizeOf(sShape);
  const nIn = xs.length;
  const datas = xs.map((x) => x.data);
  const base = new Array<number>(nIn).fill(0);
  const offs = new Array<number>(nIn).fill(0);
  const oIdx = new Array<number>(outShape.length).fill(0);
  const sIdx = new Array<number>(sShape.length).fill(0);
  const od = out.data;
  for (let o = 0; o < od.length; o++) {
    for (let i = 0; i < nIn; i++) offs[i] = base[i]!;
    sIdx.fill(0);
    let acc = 0;
    for (let s = 0; s < nSum; s++) {
      let prod = 1;
      for (let i = 0; i < nIn; i++) prod *= datas[i]![offs[i]!]!;
      acc += prod;
      step(sIdx, sShape, sStride, offs);
    }
    od[o] = acc;
    step(oIdx, outShape, oStride, base);
  }
  normalizeInPlace(out.dtype, od);
  return out;
}

/** Advances an odometer over `shape`, moving each input's offset by its strides. */
function step(idx: number[], shape: readonly number[], strides: readonly (readonly number[])[], offs: number[]): void {
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d]!++;
    for (let i = 0; i < offs.length; i++) offs[i]! += strides[i]![d]!;
    if (idx[d]! < shape[d]!) return;
    for (let i = 0; i < offs.length; i++) offs[i]! -= strides[i]![d]! * shape[d]!;
    idx[d] = 0;
  }
}

registerOp(op({
  type: 'Einsum',
  summary: 'Einstein summation (explicit or implicit output, ellipsis, diagonals)',
  opsets: [12, 23],
  inputs: [1, Infinity],
  outputs: [1, 1],
  attrs: { equation: { kind: 'string', required: true } },
  infer: (ctx) => {
    const ts = ctx.inputs.map((t, i) => t ?? ctx.error(`input ${i} is required`));
    for (const t of ts) if (t.dtype !== ts[0]!.dtype) ctx.error(`inputs have different element types (${ts[0]!.dtype} and ${t.dtype})`);
    const err = (m: string) => ctx.error(m);
    const p = plan(ctx.attrs.string('equation'), ts.map((t) => t.shape.length), err);
    const sizes = labelSizes(p, ts.map((t) => t.shape), err, ctx);
    return [{ dtype: ts[0]!.dtype, shape: p.outputs.map((l) => sizes.get(l)!) }];
  },
  run: (ctx, inputs) => {
    const xs = inputs.map((t, i) => t ?? ctx.error(`input ${i} is required`));
    return [einsumRun(ctx.attrs.string('equation'), xs, (m) => ctx.error(m))];
  },
  cost: (ctx) => {
    // One multiply per extra operand and one add, at every point of the full index space.
    const err = (m: string): never => { throw new Error(m); };
    const shapes = ctx.inputs.map((t) => t!.shape);
    const p = plan(ctx.attrs.string('equation'), shapes.map((s) => s.length), err);
    const sizes = labelSizes(p, shapes, err) as Map<string, number>;
    const points = [...sizes.values()].reduce((a, b) => a * b, 1);
    return { flops: points * Math.max(1, shapes.length), bytes: ioBytes(ctx) };
  },
  example: '%y : f32[2, 12, 16, 16] = Einsum(%q, %k) {equation = "bhqd,bhkd->bhqk"}',
}));
