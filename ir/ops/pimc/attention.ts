// pimc.Attention: scaled dot-product attention over whole heads, made by
// fuse-attention from the exporter's MatMul/Div/Where|Add/Softmax/MatMul chain
// (and from opset-23 Attention).
//
//   q [b, hq, sq, d]   k [b, hkv, skv, d] (not transposed)   v [b, hkv, skv, dv]
//   (rank 3 drops b: BERT-style exports fold the batch away)
//   query head i reads kv head floor(i / (hq / hkv))  (grouped-query; hkv = hq is plain MHA)
//   mask broadcasts to [b, hq, sq, skv]; b of k/v may be 1 (shared cache)
//
// Per (batch, head), in float64, rounding to the dtype where the exporter's
// ops would (so fused and unfused graphs agree to an ulp):
// 1. S = q @ k^T, then S *= scale
// 2. mask_mode 'bool': S = mask ? S : mask_fill      (torch.where(mask, scores, min))
//    mask_mode 'add':  S = S + mask                   (additive mask)
// 3. causal = 1: key t is hidden (-inf) from query i when t > i + skv - sq
//    (end-aligned, so a decode step sees its whole cache)
// 4. P = softmax(S) over the keys, Y = P @ v

import { normalizeInPlace } from '../../dtype.js';
import { registerOp, type InferContext, type RunContext } from '../../registry.js';
import { Tensor, sizeOf } from '../../tensor.js';
import type { Dim, TensorType } from '../../types.js';
import { matmulInto } from '../matmul.js';
import { softmaxInto } from '../softmax.js';
import { broadcastStrides, inputType, ioBytes, need } from '../support.js';

export const MASK_MODES = ['none', 'bool', 'add'] as const;
export type MaskMode = (typeof MASK_MODES)[number];

const ATTRS = {
  scale: { kind: 'float', required: true },
  mask_mode: { kind: 'string', default: 'none' },
  mask_fill: { kind: 'float', default: -Infinity },
  causal: { kind: 'int', default: 0 },
} as const;

interface Dims<D> { b: D; hq: D; hkv: D; sq: D; skv: D; d: D; dv: D; kb: D }

/** Two dims that must agree; only numbers can be proven to differ. */
function agree(a: Dim, b: Dim, what: string, err: (m: string) => never): void {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) err(`${what} differ (${a} and ${b})`);
}

function dimsOf(q: readonly Dim[], k: readonly Dim[], v: readonly Dim[], err: (m: string) => never): Dims<Dim> {
  const r = q.length;
  if (r !== 3 && r !== 4) err(`q must be 3-D or 4-D, got rank ${r}`);
  if (k.length !== r || v.length !== r) err('q, k and v must have the same rank');
  const [b, kb] = r === 4 ? [q[0]!, k[0]!] : [1, 1];
  const d = { b, kb, hq: q[r - 3]!, sq: q[r - 2]!, d: q[r - 1]!, hkv: k[r - 3]!, skv: k[r - 2]!, dv: v[r - 1]! };
  agree(d.d, k[r - 1]!, 'q and k head sizes', err);
  agree(d.hkv, v[r - 3]!, 'k and v head counts', err);
  agree(d.skv, v[r - 2]!, 'k and v lengths', err);
  if (r === 4) agree(kb, v[0]!, 'k and v batch sizes', err);
  if (kb !== 1) agree(b, kb, 'q and k batch sizes', err);
  if (typeof d.hq === 'number' && typeof d.hkv === 'number' && d.hq % d.hkv !== 0) err(`q heads (${d.hq}) must be a multiple of kv heads (${d.hkv})`);
  return d;
}

function maskMode(ctx: InferContext | RunContext): MaskMode {
  const m = ctx.attrs.string('mask_mode', 'none');
  if (!(MASK_MODES as readonly string[]).includes(m)) ctx.error(`mask_mode ${JSON.stringify(m)} is not one of ${MASK_MODES.join(', ')}`);
  return m as MaskMode;
}

function infer(ctx: InferContext): TensorType[] {
  const q = inputType(ctx, 0), k = inputType(ctx, 1), v = inputType(ctx, 2), mask = ctx.inputs[3];
  const err = (m: string) => ctx.error(m);
  if (k.dtype !== q.dtype || v.dtype !== q.dtype) err(`q, k, v are ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  const d = dimsOf(q.shape, k.shape, v.shape, err);
  const mode = maskMode(ctx);
  if ((mode === 'none') !== !mask) err(mode === 'none' ? 'a mask is given but mask_mode is none' : `mask_mode ${mode} needs a mask`);
  if (mask) {
    if (mode === 'bool' && mask.dtype !== 'bool') err(`a bool mask must be bool, got ${mask.dtype}`);
    if (mode === 'add' && mask.dtype !== q.dtype) err(`an additive mask must be ${q.dtype}, got ${mask.dtype}`);
    const target = q.shape.length === 4 ? [d.b, d.hq, d.sq, d.skv] : [d.hq, d.sq, d.skv];
    const off = target.length - mask.shape.length;
    if (off < 0) err(`the mask has rank ${mask.shape.length}, more than the scores' ${target.length}`);
    mask.shape.forEach((m, i) => {
      if (m !== 1) agree(m, target[i + off]!, `mask [${mask.shape.join(', ')}] and scores [${target.join(', ')}] dims`, err);
    });
  }
  return [{ dtype: q.dtype, shape: [...q.shape.slice(0, -1), d.dv] }];
}

function run(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor[] {
  const q = need(ctx, inputs, 0), k = need(ctx, inputs, 1), v = need(ctx, inputs, 2), mask = inputs[3] ?? null;
  const err = (m: string) => ctx.error(m);
  const n = dimsOf(q.shape, k.shape, v.shape, err) as Dims<number>;
  const { b: B, hq: Hq, hkv: Hkv, sq: S, skv: T, d: D, dv: Dv } = n;
  if (q.rank === 4 && n.kb !== B && n.kb !== 1) err(`k batch ${n.kb} is neither ${B} nor 1`);
  const mode = maskMode(ctx);
  if ((mode === 'none') !== !mask) err(`mask_mode ${mode} with${mask ? '' : 'out'} a mask`);
  const scale = ctx.attrs.float('scale');
  const fill = ctx.attrs.float('mask_fill', -Infinity);
  const causal = ctx.attrs.int('causal', 0) !== 0;
  const round = q.dtype === 'f32' ? Math.fround : (x: number) => x;

  const scoreShape = [B, Hq, S, T];
  let ms: number[] = [];
  if (mask) {
    const m4 = [...new Array<number>(4 - mask.rank).fill(1), ...mask.shape];
    if (m4.length !== 4 || m4.some((d, i) => d !== 1 && d !== scoreShape[i])) err(`mask [${mask.shape.join(', ')}] does not broadcast to [${scoreShape.join(', ')}]`);
    ms = broadcastStrides(m4, scoreShape);
  }
  const y = new Tensor(q.dtype, [...q.shape.slice(0, -1), Dv]);
  const scores = new Float64Array(S * T), probs = new Float64Array(S * T), out = new Float64Array(S * Dv);
  const group = Hq / Hkv;
  for (let b = 0; b < B; b++) {
    const kbi = n.kb === 1 ? 0 : b;
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const kOff = (kbi * Hkv + kvh) * T * D, vOff = (kbi * Hkv + kvh) * T * Dv;
      scores.fill(0);
      // k^T as a strided view of k: element (d, t) is k[t, d].
      matmulInto(scores, { data: q.data, off: (b * Hq + h) * S * D, rs: D, cs: 1 }, { data: k.data, off: kOff, rs: 1, cs: D }, S, D, T);
      for (let i = 0; i < S; i++) {
        const mrow = mask ? b * ms[0]! + h * ms[1]! + i * ms[2]! : 0;
        for (let t = 0; t < T; t++) {
          let s = round(round(scores[i * T + t]!) * scale);
          if (mask) {
            const m = mask.data[mrow + t * ms[3]!]!;
            s = mode === 'bool' ? (m ? s : fill) : round(s + m);
          }
          if (causal && t > i + T - S) s = -Infinity;
          scores[i * T + t] = s;
        }
      }
      softmaxInto(probs, scores, S, T, 1, false);
      for (let i = 0; i < probs.length; i++) probs[i] = round(probs[i]!);
      out.fill(0);
      matmulInto(out, { data: probs, off: 0, rs: T, cs: 1 }, { data: v.data, off: vOff, rs: Dv, cs: 1 }, S, T, Dv);
      y.data.set(out, (b * Hq + h) * S * Dv);
    }
  }
  normalizeInPlace(y.dtype, y.data);
  return [y];
}

registerOp({
  type: 'Attention',
  domain: 'pimc',
  summary: 'softmax(scale * q @ k^T, masked) @ v with grouped-query heads and an optional causal mask',
  opsets: [1, 1],
  inputs: [3, 4],
  outputs: [1, 1],
  attrs: ATTRS,
  infer,
  run,
  cost: (ctx) => {
    // Two matmuls (2*d and 2*dv per score), then scale, mask and softmax (about 7 per score).
    const q = ctx.inputs[0]!.shape, k = ctx.inputs[1]!.shape, v = ctx.inputs[2]!.shape;
    const scores = sizeOf(q.slice(0, -1)) * k[k.length - 2]!;
    return { flops: scores * (2 * q[q.length - 1]! + 2 * v[v.length - 1]! + 7), bytes: ioBytes(ctx) };
  },
  example: '%y : f32[1, 4, 1, 64] = pimc.Attention(%q, %k, %v, %mask) {mask_mode = "add", scale = 0.125}',
});
