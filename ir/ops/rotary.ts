// RotaryEmbedding (opset 23): rotates pairs of elements of each head vector
// by a position-dependent angle given as cos/sin caches. Pairs are (i, i + R/2)
// ("rotate half", the default) or (2i, 2i + 1) when interleaved; only the first
// R = rotary_embedding_dim elements of a head rotate, the rest pass through.
//
//   x [batch, heads, seq, head] or [batch, seq, heads*head] (num_heads given)
//   cos, sin [max_pos, R/2] indexed by position_ids [batch, seq], or [batch, seq, R/2]

import { dimDivExact } from '../dimexpr.js';
import { normalizeInPlace } from '../dtype.js';
import { registerOp, type CostContext } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import { inputType, ioBytes, need, op } from './support.js';

const ATTRS = {
  interleaved: { kind: 'int', default: 0 },
  rotary_embedding_dim: { kind: 'int', default: 0 },
  num_heads: { kind: 'int', default: 0 },
} as const;

function rotaryCost(ctx: CostContext) {
  const x = ctx.inputs[0]!;
  const cosHalf = ctx.inputs[1]!.shape[ctx.inputs[1]!.shape.length - 1]!;
  const head = x.shape.length === 4 ? x.shape[3]! : x.shape[2]! / Math.max(ctx.attrs.int('num_heads', 0), 1);
  // Each rotated element: two multiplies and an add.
  const rotated = sizeOf(x.shape) * Math.min(1, (2 * cosHalf) / head);
  return { flops: 3 * rotated, bytes: ioBytes(ctx) };
}

registerOp(op({
  type: 'RotaryEmbedding',
  summary: 'rotary position embedding of head vectors (rotate-half or interleaved, optionally partial)',
  opsets: [23, 23],
  inputs: [3, 4],
  outputs: [1, 1],
  attrs: ATTRS,
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const cos = inputType(ctx, 1);
    const sin = inputType(ctx, 2);
    const pos = ctx.inputs[3];
    const rank = x.shape.length;
    if (rank !== 3 && rank !== 4) ctx.error(`X must be 3-D or 4-D, got rank ${rank}`);
    const heads = ctx.attrs.int('num_heads', 0);
    if (rank === 3 && heads <= 0) ctx.error('num_heads is required for 3-D X');
    const head = rank === 4 ? x.shape[3]! : dimDivExact(x.shape[2]!, heads);
    if (head === undefined) ctx.error(`hidden size ${x.shape[2]} is not a multiple of num_heads ${heads}`);
    const rdim = ctx.attrs.int('rotary_embedding_dim', 0);
    const want = pos ? 2 : 3;
    for (const [name, t] of [['cos_cache', cos], ['sin_cache', sin]] as const) {
      if (t.dtype !== x.dtype) ctx.error(`${name} is ${t.dtype}, X is ${x.dtype}`);
      if (t.shape.length !== want) ctx.error(`${name} must be ${want}-D ${pos ? 'with' : 'without'} position_ids`);
      const half = t.shape[want - 1]!;
      const full = rdim > 0 ? rdim : head;
      if (typeof half === 'number' && typeof full === 'number' && 2 * half !== full) {
        ctx.error(`${name} has ${half} columns, expected rotary dim / 2 = ${full / 2}`);
      }
    }
    if (typeof head === 'number' && rdim > head) ctx.error(`rotary_embedding_dim ${rdim} exceeds the head size ${head}`);
    return [x];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const cos = need(ctx, inputs, 1);
    const sin = need(ctx, inputs, 2);
    const pos = inputs[3] ?? null;
    const interleaved = ctx.attrs.int('interleaved', 0) !== 0;
    let B: number, H: number, S: number, D: number;
    // Element (b, h, s, d) of X is at b*sb + h*sh + s*ss + d in either layout.
    let sb: number, sh: number, ss: number;
    if (x.rank === 4) {
      [B, H, S, D] = x.shape as [number, number, number, number];
      [sb, sh, ss] = [H * S * D, S * D, D];
    } else if (x.rank === 3) {
      H = ctx.attrs.int('num_heads', 0);
      if (H <= 0) ctx.error('num_heads is required for 3-D X');
      [B, S] = x.shape as [number, number];
      D = x.shape[2]! / H;
      if (!Number.isInteger(D)) ctx.error(`hidden size ${x.shape[2]} is not a multiple of num_heads ${H}`);
      [sb, sh, ss] = [S * H * D, D, H * D];
    } else {
      return ctx.error(`X must be 3-D or 4-D, got rank ${x.rank}`);
    }
    const R = ctx.attrs.int('rotary_embedding_dim', 0) || D;
    const half = R / 2;
    if (R > D || !Number.isInteger(half)) ctx.error(`rotary dim ${R} must be even and at most the head size ${D}`);
    if (cos.shape[cos.rank - 1] !== half || sin.shape[sin.rank - 1] !== half) ctx.error(`cos/sin caches must have ${half} columns`);
    // Row of the caches for (b, s): a position id's row, or (b, s) itself.
    let row: (b: number, s: number) => number;
    if (pos) {
      if (pos.rank !== 2 || pos.shape[0] !== B || pos.shape[1] !== S) ctx.error(`position_ids must be [${B}, ${S}]`);
      const maxPos = cos.shape[0]!;
      row = (b, s) => {
        const p = pos.data[b * S + s]!;
        if (p < 0 || p >= maxPos) ctx.error(`position id ${p} is outside the cache (${maxPos} rows)`);
        return p;
      };
    } else {
      const cb = cos.shape[0]!;
      if (cos.rank !== 3 || (cb !== B && cb !== 1) || cos.shape[1] !== S) ctx.error(`cos/sin caches must be [${B}, ${S}, ${half}] without position_ids`);
      row = (b, s) => (cb === 1 ? 0 : b) * S + s;
    }
    const out = new Tensor(x.dtype, x.shape);
    const xd = x.data, od = out.data, cd = cos.data, sd = sin.data;
    od.set(xd); // the part past R passes through
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const c0 = row(b, s) * half;
        for (let h = 0; h < H; h++) {
          const base = b * sb + h * sh + s * ss;
          for (let i = 0; i < half; i++) {
            const i1 = interleaved ? base + 2 * i : base + i;
            const i2 = interleaved ? i1 + 1 : i1 + half;
            const c = cd[c0 + i]!, sn = sd[c0 + i]!;
            const x1 = xd[i1]!, x2 = xd[i2]!;
            od[i1] = c * x1 - sn * x2;
            od[i2] = sn * x1 + c * x2;
          }
        }
      }
    }
    normalizeInPlace(out.dtype, od);
    return [out];
  },
  cost: rotaryCost,
  example: '%y : f32[1, 32, 16, 128] = RotaryEmbedding(%x, %cos, %sin, %pos) {interleaved = 0}',
}));
