// Gather along any axis with dma.gather. Data is viewed as [outer, dim,
// inner] and the output as [outer, m, inner] (m = number of indices); a step
// gathers tm rows of a tc-column block of one outer slice:
//   load indices [i0, i0 + tm) (i32) -> wait -> dma.gather [1, tm, tc] -> wait
//   -> store into the output.
// The table view is [1, dim, tc] with row stride `inner`, so an embedding
// lookup (axis 0) gathers whole rows and other axes gather column blocks.
// Steps double-buffer like every job (the index load of step k+1 and the
// store of step k-1 overlap the gather of step k). Indices must be in
// [0, dim): dma.gather faults (PIMC1006) on anything else, negative indices
// included (the NPU has no integer arithmetic to add dim to them).

import type { Instr } from '../../instr.js';
import { registerLowering } from '../registry.js';
import type { Lowering } from '../types.js';
import type { Job } from './pipeline.js';
import { bytesOf, sizeOf, view3 } from './space.js';
import { input, intAttr, normAxis, program, unsupported } from './util.js';

const TILE_CAP = 32768;
const SLACK = 4096;
/** A tag the pipeline does not use (it uses 0-4): the gather waits for itself. */
const TAG_GATHER = 7;

const gather: Lowering = (ctx) => {
  const data = input(ctx, 0), idx = input(ctx, 1), y = ctx.outputs[0]!;
  if (idx.dtype !== 'i32') unsupported(ctx, 'non-integer indices');
  if (data.shape.length === 0) unsupported(ctx, '0-D data');
  const axis = normAxis(ctx, intAttr(ctx, 'axis', 0), data.shape.length);
  const outer = sizeOf(data.shape.slice(0, axis)), dim = data.shape[axis]!, inner = sizeOf(data.shape.slice(axis + 1));
  const m = sizeOf(idx.shape);
  const e = bytesOf(data.dtype);
  const fit = Math.floor((ctx.npu.scratchpadBytes - SLACK) / (2 * e + 8));
  const maxElems = Math.min(fit, Math.max(1024, Math.min(TILE_CAP, Math.ceil((outer * m * inner) / ctx.npu.engines))));
  const nc = Math.ceil(inner / Math.min(inner, maxElems)), tc = Math.ceil(inner / nc);
  const nm = Math.ceil(m / Math.min(m, Math.max(1, Math.floor(maxElems / tc)))), tm = Math.ceil(m / nm);

  const job: Job = {
    name: 'Gather',
    setBytes: [4 * tm, e * tm * tc],
    singleBytes: [],
    steps: outer * m * inner === 0 ? 0 : nm * outer * nc,
    alias: true,
    step: (i, mem, s) => {
      // Index chunk outermost: consecutive steps (one engine's range) reuse nearby indices.
      const jc = i % nc, o = Math.floor(i / nc) % outer, jm = Math.floor(i / (nc * outer));
      const [i0, c0] = [jm * tm, jc * tc];
      const [rows, cols] = [Math.min(tm, m - i0), Math.min(tc, inner - c0)];
      const index = view3('spad', mem.set(0, s), 'i32', [1, 1, rows], [0, 0, 1]);
      const buf = view3('spad', mem.set(1, s), data.dtype, [1, rows, cols], [0, cols, 1]);
      const table = view3('dram', data.addr + (o * dim * inner + c0) * e, data.dtype, [1, dim, cols], [0, inner, 1]);
      const loads: Instr[] = [{ op: 'dma.load', tag: 0, dst: index, src: view3('dram', idx.addr + i0 * 4, 'i32', [1, 1, rows], [0, 0, 1]) }];
      const compute: Instr[] = [{ op: 'dma.gather', tag: TAG_GATHER, dst: buf, table, index }, { op: 'wait.dma', tag: TAG_GATHER }];
      const dst = view3('dram', y.addr + ((o * m + i0) * inner + c0) * e, data.dtype, [1, rows, cols], [0, inner, 1]);
      return { loads, compute, stores: [{ op: 'dma.store', tag: 0, dst, src: buf }] };
    },
  };
  return program(ctx, [job]);
};

registerLowering('', 'Gather', gather);
