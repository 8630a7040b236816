// pimc.Rope (ir/ops/pimc/rope.ts): y = x * cos + rot(x) * sin, rot pairing
// element i with i + D/2 (rotate-half) or 2i with 2i + 1 (interleaved):
//   y_first  = x_first * cos_first - x_second * sin_first
//   y_second = x_second * cos_second + x_first * sin_second
// Each product and the sum/difference are fp32 operations in the reference's
// order (it rounds each product to f32, then the sum), so the NPU's value is
// the reference's f32 value rounded once to f16.
//
// Rotate-half runs over a "pair space" [..., D/2] in which x, cos, sin and y
// each appear twice, as two strided operands (offset 0 and D/2): both halves
// of a row are contiguous runs for the DMA. Interleaved runs over [..., D/2, 2]
// with the pair as a whole last dim, the even and odd members being views of
// one tile (offset 0 and 1, stride 2).

import type { Instr, View } from '../../instr.js';
import { registerLowering } from '../registry.js';
import type { DramTensor, Lowering } from '../types.js';
import { ewJob } from './ew.js';
import { bcast, bytesOf, contiguous, type Operand } from './space.js';
import { bin, input, intAttr, needFloat, program, unsupported } from './util.js';

function rotate(x: [View, View], c: [View, View], s: [View, View], o: [View, View], t: [View, View]): Instr[] {
  return [
    bin('mul', t[0], x[0], c[0]), bin('mul', t[1], x[1], s[0]), bin('sub', o[0], t[0], t[1]),
    bin('mul', t[0], x[1], c[1]), bin('mul', t[1], x[0], s[1]), bin('add', o[1], t[0], t[1]),
  ];
}

/** The even (k = 0) or odd (k = 1) members of a [a, b, 2] tile view (stride 0 if it broadcasts). */
const member = (v: View, k: number): View => ({ ...v, addr: v.addr + k * v.strides[2] * bytesOf(v.dtype), shape: [v.shape[0], v.shape[1], 1] });

const rope: Lowering = (ctx) => {
  const x = input(ctx, 0), cos = input(ctx, 1), sin = input(ctx, 2), y = ctx.outputs[0]!;
  needFloat(ctx, x, cos, sin);
  const r = x.shape.length;
  const D = x.shape[r - 1] ?? 0;
  if (r === 0 || D % 2 !== 0) unsupported(ctx, `x [${x.shape.join(', ')}] needs an even last dim`);
  const h = D / 2;
  const interleaved = intAttr(ctx, 'interleaved', 0) !== 0;
  // Strides over x's dims (cos/sin broadcast into them).
  const strides = (t: DramTensor) => (t === x || t === y ? contiguous(x.shape) : bcast(t, x.shape).strides);
  const lead = x.shape.slice(0, -1);

  if (!interleaved) {
    const halves = (t: DramTensor): [Operand, Operand] => {
      const st = strides(t);
      const last = st[r - 1]!;
      const op = (k: number): Operand => ({ addr: t.addr + k * h * last * bytesOf(t.dtype), dtype: t.dtype, strides: [...st.slice(0, -1), last] });
      return [op(0), op(1)];
    };
    const job = ewJob({
      name: 'Rope', shape: [...lead, h], ins: [...halves(x), ...halves(cos), ...halves(sin)], outs: halves(y), temps: 2,
      compute: (v) => {
        const p = (k: number) => [v.ins[k]!, v.ins[k + 1]!] as [View, View];
        return rotate(p(0), p(2), p(4), [v.outs[0]!, v.outs[1]!], [v.temps[0]!, v.temps[1]!]);
      },
    }, ctx.npu, ctx.op.name);
    return program(ctx, [job]);
  }
  const pairs = (t: DramTensor): Operand => {
    const st = strides(t);
    const last = st[r - 1]!;
    return { addr: t.addr, dtype: t.dtype, strides: [...st.slice(0, -1), 2 * last, last] };
  };
  const job = ewJob({
    name: 'Rope', shape: [...lead, h, 2], ins: [pairs(x), pairs(cos), pairs(sin)], outs: [pairs(y)], temps: 2, wholeLast: true,
    compute: (v) => {
      const p = (w: View) => [member(w, 0), member(w, 1)] as [View, View];
      return rotate(p(v.ins[0]!), p(v.ins[1]!), p(v.ins[2]!), p(v.outs[0]!), [member(v.temps[0]!, 0), member(v.temps[1]!, 0)]);
    },
  }, ctx.npu, ctx.op.name);
  return program(ctx, [job]);
};

registerLowering('pimc', 'Rope', rope);
