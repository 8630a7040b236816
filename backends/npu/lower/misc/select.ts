// Comparing, selecting and converting: Clip, Where, Equal, Greater, Less,
// Cast. The vector unit has only float arithmetic, so bool and integer
// tensors (i32 in DRAM) cross it through util.ts's bit trick: a non-negative
// i32 k < 2^24 is read as the f32 k * 2^-149 and scaled by 2^149; a result
// 0 <= k < 2^24 is scaled by 2^-149 and stored as bits. Negative integers
// cannot cross (their bits are NaNs): see each op for what that limits.
//
// Booleans from floats use exact steps: a - b in fp32 is 0 exactly when
// a = b and keeps the sign of a - b (gradual underflow); a nonzero f16
// difference is at least 2^-24, so min(|d| * 2^100, 1) is exactly 1.

import type { Instr, View } from '../../instr.js';
import { registerLowering } from '../registry.js';
import type { LowerContext, Lowering } from '../types.js';
import { ewJob, type EwViews } from './ew.js';
import { copyJob } from './movement.js';
import { bcast, sizeOf, whole } from './space.js';
import { bin, floatToI32Bits, i32BitsToFloat, input, needFloat, optFloatAttr, program, sc, un, unsupported } from './util.js';

function job(ctx: LowerContext, ins: number[], temps: number, compute: (v: EwViews) => Instr[]) {
  const out = ctx.outputs[0]!;
  const ops = ins.map((i) => bcast(input(ctx, i), out.shape));
  return program(ctx, [ewJob({ name: ctx.op.type, shape: out.shape, ins: ops, outs: [whole(out)], temps, compute }, ctx.npu, ctx.op.name)]);
}

/** min(max(x, lo), hi): exact. Bounds are scalar inputs (or opset-6 attributes). */
const clip: Lowering = (ctx) => {
  needFloat(ctx, input(ctx, 0), ctx.inputs[1], ctx.inputs[2]);
  const bounds = [1, 2].filter((i) => ctx.inputs[i]);
  const [lo, hi] = [optFloatAttr(ctx, 'min'), optFloatAttr(ctx, 'max')];
  return job(ctx, [0, ...bounds], 0, (v) => {
    const o = v.outs[0]!;
    let cur = v.ins[0]!;
    const out: Instr[] = [];
    const step = (i: number, fn: 'max' | 'min', attr: number | undefined) => {
      const k = bounds.indexOf(i);
      if (k >= 0) out.push(bin(fn, o, cur, v.ins[1 + k]!));
      else if (attr !== undefined) out.push(sc(fn === 'max' ? 'maxs' : 'mins', o, cur, attr));
      else return;
      cur = o;
    };
    step(1, 'max', lo);
    step(2, 'min', hi);
    if (!out.length) out.push(un('copy', o, cur));
    return out;
  });
};

/**
 * cond ? x : y, exact (infinities included, so -inf masks work): m = (c -
 * 0.5) * inf is +inf where c and -inf where not; the result is max(min(x, m),
 * min(y, -m)). A NaN in the branch not taken still propagates.
 */
const where: Lowering = (ctx) => {
  needFloat(ctx, input(ctx, 1), input(ctx, 2));
  return job(ctx, [0, 1, 2], 2, (v) => {
    const [c, x, y] = v.ins as [View, View, View];
    const [m, t] = v.temps as [View, View];
    return [
      ...i32BitsToFloat(m, c), sc('adds', m, m, -0.5), sc('muls', m, m, Infinity),
      bin('min', t, x, m), un('neg', m, m), bin('min', m, y, m), bin('max', v.outs[0]!, t, m),
    ];
  });
};

/** A bool (i32 0/1) from f32 0/1 in `t`. */
const boolOut = (o: View, t: View): Instr[] => floatToI32Bits(o, t);

function comparison(kind: 'eq' | 'gt' | 'lt'): Lowering {
  return (ctx) => {
    needFloat(ctx, input(ctx, 0), input(ctx, 1));
    return job(ctx, [0, 1], 1, (v) => {
      const [a, b] = v.ins as [View, View];
      const t = v.temps[0]!;
      const diff = kind === 'lt' ? bin('sub', t, b, a) : bin('sub', t, a, b);
      const sign = un(kind === 'eq' ? 'abs' : 'relu', t, t);
      const one = [sc('muls', t, t, 2 ** 100), sc('mins', t, t, 1)];
      // Equal: 1 - [a != b].
      const flip = kind === 'eq' ? [sc('muls', t, t, -1), sc('adds', t, t, 1)] : [];
      return [diff, sign, ...one, ...flip, ...boolOut(v.outs[0]!, t)];
    });
  };
}

/** The IR dtypes of the cast (DRAM storage alone does not tell f32 from f16, nor bool from i64). */
function castTypes(ctx: LowerContext): { from: string; to: string } {
  const from = ctx.op.inputs[0]?.type?.dtype, to = ctx.op.outputs[0]?.type?.dtype;
  if (!from || !to) return unsupported(ctx, 'untyped input or output');
  return { from, to };
}

const FLOATS = new Set(['f16', 'f32', 'f64']);
const WIDE_INTS = new Set(['i32', 'i64']);

/**
 * Cast. float -> float (f16/f32/f64) and i32/i64/bool -> i32/i64 or bool -> bool
 * copy the stored bits (the DRAM values are already those of the target).
 * int/bool -> float: exact for 0 <= v < 2^24 (a negative v gives NaN).
 * float -> bool: x != 0. float -> i32/i64: floor(x) for 0 <= x < 2^24 (a
 * negative x gives 0, not trunc(x): the NPU cannot write negative integers),
 * floor(x) = r - [r > x] with r = x rounded to an integer by adding and
 * subtracting 1.5 * 2^23. bf16, narrow integer and int -> bool targets:
 * PIMC1102.
 */
const cast: Lowering = (ctx) => {
  const { from, to } = castTypes(ctx);
  const x = input(ctx, 0), y = ctx.outputs[0]!;
  const n = sizeOf(x.shape);
  const isInt = (d: string) => WIDE_INTS.has(d) || d === 'bool';
  const copy = () => program(ctx, [copyJob(ctx, 'Cast', [n], whole(x, [n]), whole(y, [n]))]);
  if (FLOATS.has(from) && FLOATS.has(to)) return copy();
  if (isInt(from) && (WIDE_INTS.has(to) || (from === 'bool' && to === 'bool'))) return copy();
  if (isInt(from) && FLOATS.has(to)) return job(ctx, [0], 1, (v) => [...i32BitsToFloat(v.temps[0]!, v.ins[0]!), un('copy', v.outs[0]!, v.temps[0]!)]);
  if (FLOATS.has(from) && to === 'bool') {
    return job(ctx, [0], 1, (v) => {
      const t = v.temps[0]!;
      return [un('abs', t, v.ins[0]!), sc('muls', t, t, 2 ** 100), sc('mins', t, t, 1), ...boolOut(v.outs[0]!, t)];
    });
  }
  if (FLOATS.has(from) && WIDE_INTS.has(to)) {
    return job(ctx, [0], 2, (v) => {
      const [t, r] = v.temps as [View, View];
      const MAGIC = 1.5 * 2 ** 23;
      return [
        sc('maxs', t, v.ins[0]!, 0), sc('adds', r, t, MAGIC), sc('adds', r, r, -MAGIC),
        bin('sub', t, r, t), un('relu', t, t), sc('muls', t, t, 2 ** 100), sc('mins', t, t, 1), bin('sub', r, r, t),
        ...floatToI32Bits(v.outs[0]!, r),
      ];
    });
  }
  return unsupported(ctx, `Cast from ${from} to ${to}`);
};

registerLowering('', 'Clip', clip);
registerLowering('', 'Where', where);
registerLowering('', 'Equal', comparison('eq'));
registerLowering('', 'Greater', comparison('gt'));
registerLowering('', 'Less', comparison('lt'));
registerLowering('', 'Cast', cast);
// CastLike: the target is the output's IR dtype, which cast() reads anyway; input 1 is never read.
registerLowering('', 'CastLike', cast);
