// Row-wise ops: Softmax, LogSoftmax (any axis), LayerNormalization /
// pimc.LayerNorm, RMSNormalization / pimc.RMSNorm. A tile is [a, b, n]: a*b
// whole rows of n elements (the normalised axis moved last by the space's
// strides: the DMA still reads DRAM in its own order, the vector unit walks
// the permuted view). Row statistics stay f32 in [a, b, 1] temporaries and
// are read back across the row through a stride-0 view; only the final
// instruction rounds to f16. A row that does not fit is PIMC1101.

import type { Instr, View } from '../../instr.js';
import { registerLowering } from '../registry.js';
import type { DramTensor, LowerContext, Lowering } from '../types.js';
import { ewJob, type EwViews } from './ew.js';
import { bcast, contiguous, sizeOf, type Operand } from './space.js';
import { acrossRow, bin, floatAttr, input, intAttr, needFloat, normAxis, program, rmax, rsum, sc, un, unsupported } from './util.js';

// ---- softmax -------------------------------------------------------------------

/**
 * Softmax: m = max, e = exp(x - m), y = e / sum(e). LogSoftmax: y = (x - m) -
 * log(sum(exp(x - m))), recomputing x - m (the same fp32 value) instead of
 * keeping a second tile of temporaries, so longer rows fit.
 * Axis: opset >= 13 semantics (one axis, default -1); LowerContext does not
 * carry the opset, so a pre-13 graph's flattening rule is not applied.
 */
function softmax(log: boolean): Lowering {
  return (ctx) => {
    const x = input(ctx, 0), y = ctx.outputs[0]!;
    needFloat(ctx, x);
    const r = x.shape.length;
    if (r === 0) return unsupported(ctx, 'a 0-D input');
    const axis = normAxis(ctx, intAttr(ctx, 'axis', -1), r);
    const perm = [...x.shape.keys()].filter((d) => d !== axis).concat(axis);
    const st = contiguous(x.shape);
    const permuted = (t: DramTensor): Operand => ({ addr: t.addr, dtype: t.dtype, strides: perm.map((d) => st[d]!) });
    const compute = (v: EwViews): Instr[] => {
      const [xv, o, t, m, s] = [v.ins[0]!, v.outs[0]!, v.temps[0]!, v.rows[0]!, v.rows[1]!];
      const M = acrossRow(m, v.shape), S = acrossRow(s, v.shape);
      const head = [rmax(m, xv), bin('sub', t, xv, M), un('exp', t, t), rsum(s, t)];
      return log ? [...head, un('log', s, s), bin('sub', t, xv, M), bin('sub', o, t, S)] : [...head, bin('div', o, t, S)];
    };
    const job = ewJob({
      name: ctx.op.type, shape: perm.map((d) => x.shape[d]!), ins: [permuted(x)], outs: [permuted(y)],
      temps: 1, rowTemps: 2, wholeLast: true, compute,
    }, ctx.npu, ctx.op.name);
    return program(ctx, [job]);
  };
}

// ---- normalisations ----------------------------------------------------------------

/** A parameter (scale, bias) over the space [rows..., n]: its strides over X's dims from axis on must merge into one. */
function paramOperand(ctx: LowerContext, p: DramTensor, x: DramTensor, axis: number): Operand {
  const b = bcast(p, x.shape);
  const inner = x.shape.map((_, d) => d).filter((d) => d >= axis && x.shape[d]! > 1);
  for (let k = 0; k + 1 < inner.length; k++) {
    const [d, e] = [inner[k]!, inner[k + 1]!];
    if (b.strides[d] !== b.strides[e]! * x.shape[e]!) {
      unsupported(ctx, `a scale/bias of shape [${p.shape.join(', ')}] that repeats inside the normalised dims of X [${x.shape.join(', ')}]`);
    }
  }
  const last = inner.length ? b.strides[inner[inner.length - 1]!]! : 0;
  return { ...b, strides: [...b.strides.slice(0, axis), last] };
}

/**
 * LayerNorm: mean = sum(x) / n; d = x - mean; inv = rsqrt(sum(d*d) / n + eps);
 * y = d * inv * scale + bias (the reference's order). RMSNorm: inv =
 * rsqrt(sum(x*x) / n + eps); y = x * inv * scale. 1/n is an fp32 immediate.
 * LayerNormalization's optional Mean / InvStdDev outputs are row outputs.
 */
function norm(rms: boolean, defaultEps: number): Lowering {
  return (ctx) => {
    const x = input(ctx, 0), scale = input(ctx, 1);
    const bias = rms ? null : ctx.inputs[2] ?? null;
    needFloat(ctx, x, scale, bias);
    const r = x.shape.length;
    if (r === 0) return unsupported(ctx, 'a 0-D input');
    const axis = normAxis(ctx, intAttr(ctx, 'axis', -1), r);
    const eps = floatAttr(ctx, 'epsilon', defaultEps);
    const n = sizeOf(x.shape.slice(axis));
    const shape = [...x.shape.slice(0, axis), n];
    const rowsOf = (t: DramTensor): Operand => ({ addr: t.addr, dtype: t.dtype, strides: [...contiguous(x.shape.slice(0, axis)), 0] });
    const ins = [{ addr: x.addr, dtype: x.dtype, strides: contiguous(shape) }, paramOperand(ctx, scale, x, axis)];
    if (bias) ins.push(paramOperand(ctx, bias, x, axis));
    const [y, ...stats] = ctx.outputs;
    const outs = [{ addr: y!.addr, dtype: y!.dtype, strides: contiguous(shape) }, ...stats.map(rowsOf)];
    const compute = (v: EwViews): Instr[] => {
      const [xv, g] = [v.ins[0]!, v.ins[1]!];
      const [q, d] = [v.temps[0]!, v.temps[1]!];
      const [mean, inv] = [v.rows[0]!, v.rows[1]!];
      const INV = acrossRow(inv, v.shape);
      const stat = (st: View) => [rsum(inv, q), sc('muls', inv, inv, 1 / n), sc('adds', inv, inv, eps), un('rsqrt', inv, inv), bin('mul', q, st, INV)];
      const out: Instr[] = rms
        ? [bin('mul', q, xv, xv), ...stat(xv)]
        : [rsum(mean, xv), sc('muls', mean, mean, 1 / n), bin('sub', d, xv, acrossRow(mean, v.shape)), bin('mul', q, d, d), ...stat(d)];
      out.push(v.ins[2] ? bin('mul', q, q, g) : bin('mul', v.outs[0]!, q, g));
      if (v.ins[2]) out.push(bin('add', v.outs[0]!, q, v.ins[2]));
      // Mean and InvStdDev (LayerNormalization's optional outputs), rounded to f16 storage.
      if (v.outs[1]) out.push(un('copy', v.outs[1], mean));
      if (v.outs[2]) out.push(un('copy', v.outs[2], inv));
      return out;
    };
    const job = ewJob({ name: ctx.op.type, shape, ins, outs, temps: rms ? 1 : 2, rowTemps: 2, wholeLast: true, compute }, ctx.npu, ctx.op.name);
    return program(ctx, [job]);
  };
}

registerLowering('', 'Softmax', softmax(false));
registerLowering('', 'LogSoftmax', softmax(true));
registerLowering('', 'LayerNormalization', norm(false, 1e-5));
registerLowering('pimc', 'LayerNorm', norm(false, 1e-5));
registerLowering('', 'RMSNormalization', norm(true, 1e-5));
registerLowering('pimc', 'RMSNorm', norm(true, 1e-6));
