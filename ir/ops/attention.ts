// Attention (opset 23): scaled dot-product attention with an optional mask,
// causal masking, a KV cache (present = concat(past, new) along the sequence
// axis) and grouped-query heads (q head h reads kv head floor(h / (Hq / Hkv))).
//
// Per (batch, q head), in float64:
// 1. S = scale * Q @ K^T over the present keys            (qk_matmul_output_mode 0)
// 2. S = softcap * tanh(S / softcap) when softcap > 0      (mode 1)
// 3. S += mask (bool: false -> -inf; a short last dim is padded with -inf),
//    and with is_causal, key t is hidden from query i when t > i + past_len
//    (bottom-right aligned, so a decode step sees its whole cache)    (mode 2)
// 4. P = softmax(S) along the keys                         (mode 3)
// 5. Y = P @ V
// The softcap-before-mask order and the mode numbering follow the corrected
// spec (onnx/onnx#7867, #7913; onnxruntime does the same): a mask applied
// before tanh would turn -inf into -softcap and leak weight to masked keys.
// softmax_precision is accepted and needs nothing: everything is float64 here.

import { dimAdd, dimDivExact, dimMul } from '../dimexpr.js';
import { normalizeInPlace, type DType } from '../dtype.js';
import { registerOp, type InferContext, type RunContext } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { Dim, TensorType } from '../types.js';
import { matmulInto } from './matmul.js';
import { softmaxInto } from './softmax.js';
import { broadcastStrides, inputType, ioBytes, need, op } from './support.js';

const ATTRS = {
  is_causal: { kind: 'int', default: 0 },
  kv_num_heads: { kind: 'int' },
  q_num_heads: { kind: 'int' },
  qk_matmul_output_mode: { kind: 'int', default: 0 },
  scale: { kind: 'float' },
  softcap: { kind: 'float', default: 0 },
  softmax_precision: { kind: 'int' },
} as const;

interface Dims<D> {
  batch: D; qHeads: D; kvHeads: D; qSeq: D; kvSeq: D; past: D; head: D; vHead: D;
}

/** Reads the attention sizes from Q, K, V (3-D or 4-D) and the past cache. */
function attentionDims(
  ctx: InferContext | RunContext,
  q: readonly Dim[], k: readonly Dim[], v: readonly Dim[], pastK: readonly Dim[] | undefined,
): Dims<Dim> {
  const err: (m: string) => never = (m) => ctx.error(m);
  if (q.length !== k.length || q.length !== v.length) err('Q, K and V must have the same rank');
  let d: Dims<Dim>;
  if (q.length === 4) {
    d = { batch: q[0]!, qHeads: q[1]!, kvHeads: k[1]!, qSeq: q[2]!, kvSeq: k[2]!, past: 0, head: q[3]!, vHead: v[3]! };
  } else if (q.length === 3) {
    const qh = ctx.attrs.optInt('q_num_heads'), kvh = ctx.attrs.optInt('kv_num_heads');
    if (!qh || !kvh) err('q_num_heads and kv_num_heads are required for 3-D inputs');
    const head = dimDivExact(q[2]!, qh), vHead = dimDivExact(v[2]!, kvh), kHead = dimDivExact(k[2]!, kvh);
    if (head === undefined || vHead === undefined || kHead === undefined) err('hidden sizes must be multiples of the head counts');
    d = { batch: q[0]!, qHeads: qh, kvHeads: kvh, qSeq: q[1]!, kvSeq: k[1]!, past: 0, head, vHead };
    if (typeof kHead === 'number' && typeof head === 'number' && kHead !== head) err(`Q and K head sizes differ (${head} and ${kHead})`);
  } else {
    return err(`Q must be 3-D or 4-D, got rank ${q.length}`);
  }
  if (q.length === 4 && typeof k[3] === 'number' && typeof q[3] === 'number' && k[3] !== q[3]) err(`Q and K head sizes differ (${q[3]} and ${k[3]})`);
  if (typeof d.qHeads === 'number' && typeof d.kvHeads === 'number' && d.qHeads % d.kvHeads !== 0) {
    err(`q heads (${d.qHeads}) must be a multiple of kv heads (${d.kvHeads})`);
  }
  if (pastK) {
    if (pastK.length !== 4) err('past_key must be 4-D');
    d.past = pastK[2]!;
  }
  return d;
}

function inferAttention(ctx: InferContext): TensorType[] {
  const q = inputType(ctx, 0), k = inputType(ctx, 1), v = inputType(ctx, 2);
  const pk = ctx.inputs[4], pv = ctx.inputs[5];
  if (!pk !== !pv) ctx.error('past_key and past_value must be given together');
  if (k.dtype !== q.dtype) ctx.error(`K is ${k.dtype}, Q is ${q.dtype}`);
  const d = attentionDims(ctx, q.shape, k.shape, v.shape, pk?.shape);
  const total = dimAdd(d.past, d.kvSeq);
  const y: Dim[] = q.shape.length === 4 ? [d.batch, d.qHeads, d.qSeq, d.vHead] : [d.batch, d.qSeq, dimMul(d.qHeads, d.vHead)];
  return [
    { dtype: q.dtype, shape: y },
    { dtype: k.dtype, shape: [d.batch, d.kvHeads, total, d.head] },
    { dtype: v.dtype, shape: [d.batch, d.kvHeads, total, d.vHead] },
    { dtype: q.dtype, shape: [d.batch, d.qHeads, d.qSeq, total] },
  ];
}

/**
 * The cache after this step, [B, Hkv, past + S, D]: past rows then the new
 * ones, which come from a 4-D K or from a 3-D [B, S, Hkv*D] one.
 */
function present(x: Tensor, past: Tensor | null, n: Dims<number>, head: number, dtype: DType): Tensor {
  const T = n.past + n.kvSeq;
  const out = new Tensor(dtype, [n.batch, n.kvHeads, T, head]);
  const od = out.data, xd = x.data;
  for (let b = 0; b < n.batch; b++) {
    for (let h = 0; h < n.kvHeads; h++) {
      const dst = (b * n.kvHeads + h) * T * head;
      if (past) od.set(past.data.subarray((b * n.kvHeads + h) * n.past * head, (b * n.kvHeads + h + 1) * n.past * head), dst);
      for (let s = 0; s < n.kvSeq; s++) {
        const src = x.rank === 4 ? ((b * n.kvHeads + h) * n.kvSeq + s) * head : (b * n.kvSeq + s) * n.kvHeads * head + h * head;
        od.set(xd.subarray(src, src + head), dst + (n.past + s) * head);
      }
    }
  }
  return out;
}

function runAttention(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor[] {
  const q = need(ctx, inputs, 0), k = need(ctx, inputs, 1), v = need(ctx, inputs, 2);
  const mask = inputs[3] ?? null, pastK = inputs[4] ?? null, pastV = inputs[5] ?? null;
  if (!pastK !== !pastV) ctx.error('past_key and past_value must be given together');
  const n = attentionDims(ctx, q.shape, k.shape, v.shape, pastK?.shape) as Dims<number>;
  const { batch: B, qHeads: Hq, kvHeads: Hkv, qSeq: S, head: D, vHead: Dv } = n;
  const T = n.past + n.kvSeq;
  for (const [name, t, h] of [['past_key', pastK, D], ['past_value', pastV, Dv]] as const) {
    if (t && (t.shape[0] !== B || t.shape[1] !== Hkv || t.shape[2] !== n.past || t.shape[3] !== h)) {
      ctx.error(`${name} must be [${B}, ${Hkv}, ${n.past}, ${h}], got [${t.shape.join(', ')}]`);
    }
  }
  const pk = present(k, pastK, n, D, k.dtype);
  const pv = present(v, pastV, n, Dv, v.dtype);

  const scale = ctx.attrs.optFloat('scale') ?? 1 / Math.sqrt(D);
  const softcap = ctx.attrs.float('softcap', 0);
  const causal = ctx.attrs.int('is_causal', 0) !== 0;
  const mode = ctx.attrs.int('qk_matmul_output_mode', 0);
  const wantQk = ctx.op.outputs.length >= 4;
  if (wantQk && (mode < 0 || mode > 3)) ctx.error(`qk_matmul_output_mode ${mode} is not 0..3`);

  // The mask broadcast over [B, Hq, S, Tm]; keys past Tm are masked.
  let maskStrides: number[] = [];
  const Tm = mask ? mask.shape[mask.rank - 1]! : T;
  if (mask) {
    const target = [B, Hq, S, Tm];
    const off = 4 - mask.rank;
    if (mask.rank < 1 || off < 0 || mask.shape.some((d, i) => d !== 1 && d !== target[i + off])) {
      ctx.error(`attn_mask of shape [${mask.shape.join(', ')}] does not broadcast to [${B}, ${Hq}, ${S}, ${T}]`);
    }
    if (Tm > T) ctx.error(`attn_mask has ${Tm} keys, more than the ${T} in the cache`);
    maskStrides = broadcastStrides(mask.shape, target);
  }
  const boolMask = mask?.dtype === 'bool';

  const y = new Tensor(q.dtype, q.rank === 4 ? [B, Hq, S, Dv] : [B, S, Hq * Dv]);
  const qk = wantQk ? new Tensor(q.dtype, [B, Hq, S, T]) : null;
  const scores = new Float64Array(S * T);
  const probs = new Float64Array(S * T);
  const ctxv = new Float64Array(S * Dv);
  const group = Hq / Hkv;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      // Q rows of this head, from [B, Hq, S, D] or [B, S, Hq*D].
      const qv = q.rank === 4
        ? { data: q.data, off: ((b * Hq + h) * S) * D, rs: D, cs: 1 }
        : { data: q.data, off: b * S * Hq * D + h * D, rs: Hq * D, cs: 1 };
      const kOff = (b * Hkv + kvh) * T * D;
      scores.fill(0);
      // K^T as a strided view: element (d, t) is present_key[t, d].
      matmulInto(scores, qv, { data: pk.data, off: kOff, rs: 1, cs: D }, S, D, T);
      const qkOff = ((b * Hq + h) * S) * T;
      for (let i = 0; i < S * T; i++) scores[i] *= scale;
      if (qk && mode === 0) qk.data.set(scores, qkOff);
      if (softcap > 0) for (let i = 0; i < S * T; i++) scores[i] = softcap * Math.tanh(scores[i]! / softcap);
      if (qk && mode === 1) qk.data.set(scores, qkOff);
      if (mask || causal) {
        for (let i = 0; i < S; i++) {
          const mrow = mask ? b * maskStrides[0]! + h * maskStrides[1]! + i * maskStrides[2]! : 0;
          for (let t = 0; t < T; t++) {
            let add = 0;
            if (mask) {
              if (t >= Tm) add = -Infinity;
              else {
                const m = mask.data[mrow + t * maskStrides[3]!]!;
                add = boolMask ? (m ? 0 : -Infinity) : m;
              }
            }
            if (causal && t > i + n.past) add = -Infinity;
            scores[i * T + t] += add;
          }
        }
      }
      if (qk && mode === 2) qk.data.set(scores, qkOff);
      softmaxInto(probs, scores, S, T, 1, false);
      if (qk && mode === 3) qk.data.set(probs, qkOff);
      ctxv.fill(0);
      matmulInto(ctxv, { data: probs, off: 0, rs: T, cs: 1 }, { data: pv.data, off: (b * Hkv + kvh) * T * Dv, rs: Dv, cs: 1 }, S, T, Dv);
      for (let i = 0; i < S; i++) {
        const dst = q.rank === 4 ? ((b * Hq + h) * S + i) * Dv : (b * S + i) * Hq * Dv + h * Dv;
        y.data.set(ctxv.subarray(i * Dv, (i + 1) * Dv), dst);
      }
    }
  }
  normalizeInPlace(y.dtype, y.data);
  const outs = [y, pk, pv];
  if (qk) {
    normalizeInPlace(qk.dtype, qk.data);
    outs.push(qk);
  }
  return outs;
}

registerOp(op({
  type: 'Attention',
  summary: 'softmax(scale * Q @ K^T + mask) @ V with causal masking, KV cache and grouped-query heads',
  opsets: [23, 23],
  inputs: [3, 6],
  outputs: [1, 4],
  attrs: ATTRS,
  infer: inferAttention,
  run: runAttention,
  cost: (ctx) => {
    // Two matmuls (2*D and 2*Dv per score) plus softmax, scale and mask (about 7 per score).
    const q = ctx.inputs[0]!;
    const v = ctx.inputs[2]!;
    const pk = ctx.inputs[4];
    const rank = q.shape.length;
    const qHeads = rank === 4 ? q.shape[1]! : ctx.attrs.int('q_num_heads', 1);
    const kvHeads = rank === 4 ? v.shape[1]! : ctx.attrs.int('kv_num_heads', 1);
    const head = rank === 4 ? q.shape[3]! : q.shape[2]! / qHeads;
    const vHead = rank === 4 ? v.shape[3]! : v.shape[2]! / kvHeads;
    const qSeq = rank === 4 ? q.shape[2]! : q.shape[1]!;
    const total = (pk ? pk.shape[2]! : 0) + (rank === 4 ? v.shape[2]! : v.shape[1]!);
    const scores = q.shape[0]! * qHeads * qSeq * total;
    return { flops: scores * (2 * head + 2 * vHead + 7), bytes: ioBytes(ctx) };
  },
  example: '%y : f32[1, 32, 16, 128], %pk : f32[1, 8, 23, 128], %pv : f32[1, 8, 23, 128] = Attention(%q, %k, %v, none, %past_k, %past_v) {is_causal = 1}',
}));
