// pimc.Rope: rotary position embedding with the cos/sin tables already
// gathered for the positions at hand (the graph around it computes them).
//
//   y = x * cos + rot(x) * sin      cos, sin broadcast to x, full head width
//   rot(x) = concat(-x[..., h:], x[..., :h])             interleaved = 0 (HF rotate_half)
//   rot(x)[2i] = -x[2i + 1], rot(x)[2i + 1] = x[2i]       interleaved = 1 (GPT-J pairs)
//
// fuse-rope makes it from the exporter's Mul/Slice/Neg/Concat/Mul/Add and from
// opset-23 RotaryEmbedding. The reference rounds each product to f32 as the
// exporter's Mul and Add do, so fused and unfused f32 graphs agree bit for bit.

import { normalizeInPlace } from '../../dtype.js';
import { registerOp } from '../../registry.js';
import { Tensor } from '../../tensor.js';
import { sameShape } from '../../types.js';
import { broadcastMany, broadcastShapes, broadcastTo, inputType, ioBytes, need } from '../support.js';

registerOp({
  type: 'Rope',
  domain: 'pimc',
  summary: 'rotary position embedding: x * cos + rotate_half(x) * sin (or interleaved pairs)',
  opsets: [1, 1],
  inputs: [3, 3],
  outputs: [1, 1],
  attrs: { interleaved: { kind: 'int', default: 0 } },
  infer: (ctx) => {
    const x = inputType(ctx, 0), cos = inputType(ctx, 1), sin = inputType(ctx, 2);
    if (cos.dtype !== x.dtype || sin.dtype !== x.dtype) ctx.error(`cos/sin are ${cos.dtype}/${sin.dtype}, x is ${x.dtype}`);
    if (x.shape.length === 0) ctx.error('x must have a head axis');
    const d = x.shape[x.shape.length - 1]!;
    if (typeof d === 'number' && d % 2 !== 0) ctx.error(`the head size ${d} is odd`);
    // cos/sin may not widen x: the op rotates x, it does not broadcast it.
    if (!sameShape(broadcastMany([x.shape, cos.shape, sin.shape], ctx), x.shape)) {
      ctx.error(`cos [${cos.shape.join(', ')}] and sin [${sin.shape.join(', ')}] must broadcast to x [${x.shape.join(', ')}]`);
    }
    return [x];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0), cos = need(ctx, inputs, 1), sin = need(ctx, inputs, 2);
    const D = x.shape[x.rank - 1] ?? 0;
    if (x.rank === 0 || D % 2 !== 0) ctx.error(`x [${x.shape.join(', ')}] needs an even head size`);
    for (const t of [cos, sin]) {
      let ok = true;
      try {
        ok = sameShape(broadcastShapes(x.shape, t.shape), x.shape);
      } catch {
        ok = false;
      }
      if (!ok) ctx.error(`[${t.shape.join(', ')}] does not broadcast to x [${x.shape.join(', ')}]`);
    }
    const c = broadcastTo(cos, x.shape).data, s = broadcastTo(sin, x.shape).data;
    const interleaved = ctx.attrs.int('interleaved', 0) !== 0;
    const round = x.dtype === 'f32' ? Math.fround : (v: number) => v;
    const out = new Tensor(x.dtype, x.shape);
    const xd = x.data, od = out.data, h = D / 2;
    for (let o = 0; o < xd.length; o += D) {
      for (let i = 0; i < D; i++) {
        const rot = interleaved ? (i % 2 === 0 ? -xd[o + i + 1]! : xd[o + i - 1]!) : i < h ? -xd[o + i + h]! : xd[o + i - h]!;
        od[o + i] = round(xd[o + i]! * c[o + i]!) + round(rot * s[o + i]!);
      }
    }
    normalizeInPlace(out.dtype, od);
    return [out];
  },
  // Two multiplies and an add per element (the negation is free).
  cost: (ctx) => ({ flops: 3 * ctx.outputs[0]!.shape.reduce((a, b) => a * b, 1), bytes: ioBytes(ctx) }),
  example: '%y : f32[1, 4, 16, 64] = pimc.Rope(%x, %cos, %sin) {interleaved = 0}',
});
