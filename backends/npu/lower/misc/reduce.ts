// ReduceSum, ReduceMean, ReduceMax over any axes, in one pass.
//
// 1. The space is X's dims reordered [kept..., reduced...] and collapsed
//    (adjacent dims of one kind merge where X is contiguous across them).
// 2. An output tile [a, b] covers the last two kept dims (outer kept dims are
//    looped). Of the reduced dims, the largest is the row, cut into chunks
//    that fit; the others are walked one index at a time.
// 3. Each step loads an [a, b, chunk] block of X (DMA in X's own order) and
//    reduces it along the row into an f32 [a, b, 1] partial; the first step of
//    a tile writes the accumulator, the others add (or max) into it; the last
//    scales by 1/N (mean) and rounds once to f16. A tile's steps form one
//    group, so they run on one engine, double-buffered like any other job.
// Error: an fp32 sum of N terms in some order, gamma_N(2^-24) sum |x|.

import type { Instr } from '../../instr.js';
import { registerLowering } from '../registry.js';
import type { LowerContext, Lowering } from '../types.js';
import { ewJob, layoutOf } from './ew.js';
import type { Job } from './pipeline.js';
import { addrAt, bytesOf, collapse, contiguous, sizeOf, view3, whole } from './space.js';
import { bin, input, intAttr, intsAttr, needConst, needFloat, normAxis, program, sc, un } from './util.js';

type Kind = 'sum' | 'mean' | 'max';

const TILE_CAP = 32768;
const SLACK = 4096;

/** The reduced axes (sorted); 'noop' when none are given and noop_with_empty_axes is set. */
function axesOf(ctx: LowerContext, rank: number): number[] | 'noop' {
  // Axes computed at run time cannot shape the program: they must be constant.
  const given = ctx.op.inputs[1] ? needConst(ctx, 1, 'axes') : intsAttr(ctx, 'axes');
  if (!given || given.length === 0) return intAttr(ctx, 'noop_with_empty_axes', 0) ? 'noop' : [...Array(rank).keys()];
  return [...new Set(given.map((a) => normAxis(ctx, a, rank)))].sort((p, q) => p - q);
}

function reduceJob(ctx: LowerContext, kind: Kind, axes: number[]): Job {
  const x = input(ctx, 0), y = ctx.outputs[0]!;
  const xs = contiguous(x.shape);
  const kept = [...x.shape.keys()].filter((d) => !axes.includes(d));
  const order = [...kept, ...axes];
  const keptStrides = contiguous(kept.map((d) => x.shape[d]!));
  const ys = order.map((d) => (axes.includes(d) ? 0 : keptStrides[kept.indexOf(d)]!));
  const c = collapse(order.map((d) => x.shape[d]!), [{ addr: x.addr, dtype: x.dtype, strides: order.map((d) => xs[d]!) }, { addr: y.addr, dtype: y.dtype, strides: ys }], false);
  const [sx, sy] = c.strides as [number[], number[]];
  // Reduced dims are the ones the output does not move along (size-1 padding included harmlessly).
  const red = c.shape.map((_, d) => d).filter((d) => sy[d] === 0 && c.shape[d]! > 1);
  const keep = c.shape.map((_, d) => d).filter((d) => !red.includes(d));
  while (keep.length < 2) keep.unshift(-1);
  const dim = (d: number) => (d < 0 ? 1 : c.shape[d]!);
  const str = (s: number[], d: number) => (d < 0 ? 0 : s[d]!);
  const rowDim = red.reduce((best, d) => (dim(d) > dim(best) ? d : best), red[red.length - 1]!);
  const others = red.filter((d) => d !== rowDim);
  const N = red.reduce((n, d) => n * dim(d), 1);

  // Tile sizes: X's block double-buffered dominates; the row chunk first, then output rows.
  const fit = Math.floor((ctx.npu.scratchpadBytes - SLACK) / (2 * bytesOf(x.dtype) + 1));
  const maxElems = Math.min(fit, Math.max(1024, Math.min(TILE_CAP, Math.ceil(sizeOf(x.shape) / ctx.npu.engines))));
  const row = dim(rowDim);
  const nChunks = Math.ceil(row / Math.min(row, maxElems));
  const chunk = Math.ceil(row / nChunks);
  const [ka, kb] = [keep[keep.length - 2]!, keep[keep.length - 1]!];
  const maxOut = Math.max(1, Math.floor(maxElems / chunk));
  const nb = Math.ceil(dim(kb) / Math.min(dim(kb), maxOut)), b = Math.ceil(dim(kb) / nb);
  const na = nb === 1 ? Math.ceil(dim(ka) / Math.min(dim(ka), Math.floor(maxOut / b))) : dim(ka);
  const a = Math.ceil(dim(ka) / na);
  const outerKeep = keep.slice(0, -2);
  const nOuter = outerKeep.reduce((n, d) => n * dim(d), 1);
  const P = others.reduce((n, d) => n * dim(d), 1);
  const group = P * nChunks;

  const xLayout = layoutOf([str(sx, ka), str(sx, kb), sx[rowDim]!], [0, 1, 2], true);
  const yLayout = layoutOf([str(sy, ka), str(sy, kb), 0], [0, 1, 2], true);
  const fn = kind === 'max' ? 'max' : 'add';
  const rfn = kind === 'max' ? 'rmax' : 'rsum';

  return {
    name: ctx.op.type,
    setBytes: [bytesOf(x.dtype) * a * b * chunk, bytesOf(y.dtype) * a * b],
    singleBytes: [4 * a * b, 4 * a * b],
    steps: nOuter * na * nb * group,
    group,
    alias: false,
    step: (i, mem, s) => {
      // i -> (outer kept index, a chunk, b chunk) then (other reduced index, row chunk).
      let r = Math.floor(i / group);
      const g = i % group;
      const jb = r % nb; r = Math.floor(r / nb);
      const ja = r % na; r = Math.floor(r / na);
      const index = new Array<number>(c.shape.length).fill(0);
      for (let k = outerKeep.length - 1; k >= 0; k--) {
        const d = outerKeep[k]!;
        if (d >= 0) index[d] = r % dim(d);
        r = Math.floor(r / dim(d));
      }
      let q = Math.floor(g / nChunks);
      for (let k = others.length - 1; k >= 0; k--) {
        index[others[k]!] = q % dim(others[k]!);
        q = Math.floor(q / dim(others[k]!));
      }
      const jc = g % nChunks;
      if (ka >= 0) index[ka] = ja * a;
      index[kb] = jb * b;
      index[rowDim] = jc * chunk;
      const ext: [number, number, number] = [Math.min(a, dim(ka) - ja * a), Math.min(b, dim(kb) - jb * b), Math.min(chunk, row - jc * chunk)];
      const xAddr = mem.set(0, s), yAddr = mem.set(1, s);
      const xv = xLayout.vec(xAddr, x.dtype, ext);
      const acc = view3('spad', mem.single(0), 'f32', [ext[0], ext[1], 1], [ext[1], 1, 0]);
      const part = { ...acc, addr: mem.single(1) };
      const loads: Instr[] = [{ op: 'dma.load', tag: 0, dst: xLayout.spad(xAddr, x.dtype, ext), src: xLayout.dram(addrAt(x.addr, x.dtype, sx, index), x.dtype, ext) }];
      const compute: Instr[] = g === 0
        ? [{ op: 'vec.reduce', fn: rfn, dst: acc, a: xv }]
        : [{ op: 'vec.reduce', fn: rfn, dst: part, a: xv }, bin(fn, acc, acc, part)];
      const stores: Instr[] = [];
      if (g === group - 1) {
        const yv = yLayout.vec(yAddr, y.dtype, ext, true);
        compute.push(kind === 'mean' ? sc('muls', yv, acc, 1 / N) : un('copy', yv, acc));
        stores.push({ op: 'dma.store', tag: 0, src: yLayout.spad(yAddr, y.dtype, ext), dst: yLayout.dram(addrAt(y.addr, y.dtype, sy, index), y.dtype, ext) });
      }
      return { loads, compute, stores };
    },
  };
}

function reduce(kind: Kind): Lowering {
  return (ctx) => {
    const x = input(ctx, 0), y = ctx.outputs[0]!;
    needFloat(ctx, x);
    const axes = axesOf(ctx, x.shape.length);
    const reduced = axes === 'noop' ? 1 : axes.reduce((n, d) => n * x.shape[d]!, 1);
    if (reduced === 1) {
      // Nothing to combine (noop, or only size-1 axes): the values move unchanged (x / 1 is exact).
      return program(ctx, [ewJob({ name: ctx.op.type, shape: [sizeOf(x.shape)], ins: [whole(x, [sizeOf(x.shape)])], outs: [whole(y, [sizeOf(y.shape)])], alias: true }, ctx.npu, ctx.op.name)]);
    }
    return program(ctx, [reduceJob(ctx, kind, axes as number[])]);
  };
}

registerLowering('', 'ReduceSum', reduce('sum'));
registerLowering('', 'ReduceMean', reduce('mean'));
registerLowering('', 'ReduceMax', reduce('max'));
