// The element-wise job: one iteration space, inputs loaded tile by tile (or
// once per engine when they do not change between tiles: a bias, a norm's
// gamma, a clip bound), a compute callback that emits vector instructions
// over 3-D scratchpad views of the tile, outputs stored back. Row-wise ops
// (softmax, norms) use it with wholeLast: the last dim is a row that the
// tile never splits, and row temporaries [a, b, 1] hold the statistics.
//
// Numerics: inputs stay f16 in the scratchpad (i32 ones are only moved, or
// read through util.ts's bit reinterpretation); the vector unit reads them as
// fp32; temporaries are f32; only the instruction that writes an output
// buffer rounds, once, to the output's dtype.

import { fail } from '../../../../ir/diagnostics.js';
import type { Instr, NpuDtype, View } from '../../instr.js';
import type { NpuDesc } from '../../../../runtime-sim/hardware/types.js';
import { NPU_TILES } from '../common/tiling.js';
import type { Job, Mem, Step } from './pipeline.js';
import { addrAt, bytesOf, collapse, compact3, sizeOf, stepAt, tileSpace, view3, type Operand } from './space.js';

export interface EwViews {
  /** Inputs over the tile, with stride 0 where they broadcast. */
  ins: View[];
  /** Output buffers (dtype of the DRAM output), compact over the tile. */
  outs: View[];
  /** f32 temporaries, compact over the tile. */
  temps: View[];
  /** f32 row temporaries [a, b, 1] (wholeLast only). */
  rows: View[];
  /** The tile's extents. */
  shape: [number, number, number];
}

export interface EwSpec {
  name: string;
  shape: readonly number[];
  ins: readonly Operand[];
  outs: readonly Operand[];
  temps?: number;
  rowTemps?: number;
  /** The last dim is a row: never split, never merged (row-wise ops). */
  wholeLast?: boolean;
  /** Pure movement: output 0 is stored from input 0's buffer, no compute. */
  alias?: boolean;
  /** Load inputs at the full tile even where they broadcast (a stride-0 DMA). */
  materialize?: boolean;
  compute?(v: EwViews): Instr[];
}

/** Most elements a tile gets, so that small tensors still spread over every engine. */
const TILE_CAP = NPU_TILES.ewMax;
const TILE_MIN = NPU_TILES.ewMin;
/** Scratchpad kept free for alignment padding. */
const SLACK = 4096;

/** fit: most tile elements the scratchpad holds; want: the size that spreads the work over the engines. */
function tileBudget(spec: EwSpec, npu: NpuDesc, total: number): { fit: number; want: number } {
  let perElem = 0;
  for (const o of spec.ins) perElem += 2 * bytesOf(o.dtype);
  if (!spec.alias) for (const o of spec.outs) perElem += 2 * bytesOf(o.dtype);
  perElem += 4 * ((spec.temps ?? 0) + (spec.rowTemps ?? 0));
  const fit = Math.floor((npu.scratchpadBytes - SLACK) / Math.max(perElem, 1));
  // Equal tiles, the same number on every engine: an engine's share in k
  // tiles of at most TILE_CAP (12 tiles of 32 Ki on 8 engines would leave
  // half the engines one tile behind the others; 16 of 24 Ki do not).
  const share = Math.ceil(total / npu.engines);
  const k = Math.max(1, Math.ceil(share / Math.min(TILE_CAP, Math.max(fit, 1))));
  return { fit, want: Math.min(TILE_CAP, Math.max(TILE_MIN, Math.ceil(share / k))) };
}

/** The job for a space; opName names the op in diagnostics. */
export function ewJob(spec: EwSpec, npu: NpuDesc, opName: string): Job {
  const ops = [...spec.ins, ...spec.outs];
  const c = collapse(spec.shape, ops, spec.wholeLast ?? false);
  const total = sizeOf(c.shape);
  const { fit, want } = tileBudget(spec, npu, total);
  const row = c.shape[c.shape.length - 1]!;
  if (spec.wholeLast && row > fit) {
    fail('PIMC1101', `op ${opName} (${spec.name}): a row of ${row} elements does not fit in the scratchpad (at most ${fit} with the buffers this op needs)`);
  }
  const t = tileSpace(c.shape, spec.wholeLast ? Math.max(row, Math.min(fit, want)) : Math.min(fit, want));
  const nIn = spec.ins.length;
  const inStrides = c.strides.slice(0, nIn);
  const outStrides = c.strides.slice(nIn);
  // Outputs cover their tile, except row outputs (a row statistic: stride 0 along a whole last dim).
  outStrides.forEach((s) => {
    if (s.some((x, d) => x === 0 && c.shape[d]! > 1 && !(spec.wholeLast && d === c.shape.length - 1))) throw new Error(`internal: ${spec.name}: an output broadcasts`);
  });
  const k = c.shape.length;
  const tileDims = [k - 3, k - 2, k - 1];
  // An input is resident when no dim it moves along is looped or split.
  const varies = (d: number) => (d < k - 3 ? c.shape[d]! > 1 : t.counts[d - (k - 3)]! > 1);
  const resident = inStrides.map((s) => s.every((x, d) => x === 0 || !varies(d)));
  const layouts = [...inStrides.map((s) => layoutOf(s, tileDims, !spec.materialize)), ...outStrides.map((s) => layoutOf(s, tileDims, true))];
  const inLayout = (i: number) => layouts[i]!;
  const outLayout = (j: number) => layouts[nIn + j]!;

  // Regions: set = non-resident inputs then outputs; single = resident inputs, temps, row temps.
  const setIdx: number[] = [], singleIdx: number[] = [];
  const setBytes: number[] = [], singleBytes: number[] = [];
  spec.ins.forEach((o, i) => {
    const b = bytesOf(o.dtype) * sizeOf(inLayout(i).ext(t.chunk));
    if (resident[i]) { setIdx.push(-1); singleIdx.push(singleBytes.length); singleBytes.push(b); }
    else { singleIdx.push(-1); setIdx.push(setBytes.length); setBytes.push(b); }
  });
  const tileElems = sizeOf(t.chunk);
  const outIdx = spec.alias ? [] : spec.outs.map((o, j) => setBytes.push(bytesOf(o.dtype) * sizeOf(outLayout(j).ext(t.chunk))) - 1);
  const tempIdx = Array.from({ length: spec.temps ?? 0 }, () => singleBytes.push(4 * tileElems) - 1);
  const rowIdx = Array.from({ length: spec.rowTemps ?? 0 }, () => singleBytes.push(4 * t.chunk[0] * t.chunk[1]) - 1);

  const inAddr = (mem: Mem, i: number, s: 0 | 1) => (resident[i] ? mem.single(singleIdx[i]!) : mem.set(setIdx[i]!, s));
  const inLoad = (mem: Mem, i: number, s: 0 | 1, index: number[], e: Ext): Instr => {
    const o = spec.ins[i]!;
    const l = inLayout(i);
    return {
      op: 'dma.load', tag: 0,
      dst: l.spad(inAddr(mem, i, s), o.dtype, e),
      src: l.dram(addrAt(o.addr, o.dtype, inStrides[i]!, index), o.dtype, e),
    };
  };
  const inView = (mem: Mem, i: number, s: 0 | 1, e: Ext): View => inLayout(i).vec(inAddr(mem, i, s), spec.ins[i]!.dtype, e);

  return {
    name: spec.name,
    setBytes,
    singleBytes,
    steps: t.steps,
    alias: spec.alias ?? false,
    prologue: resident.some((r) => r)
      ? (mem, first) => {
          // Resident inputs are the same view at every step: load the first step's.
          const { index, ext } = stepAt(t, first);
          const loads = spec.ins.flatMap((_, i) => (resident[i] ? [inLoad(mem, i, 0, index, ext)] : []));
          return { loads, compute: [] };
        }
      : undefined,
    step: (i, mem, s): Step => {
      const { index, ext } = stepAt(t, i);
      const loads = spec.ins.flatMap((_, j) => (resident[j] ? [] : [inLoad(mem, j, s, index, ext)]));
      const outAddr = (j: number) => mem.set(outIdx[j]!, s);
      const stores: Instr[] = spec.outs.map((o, j) => {
        const l = outLayout(j);
        const dst = l.dram(addrAt(o.addr, o.dtype, outStrides[j]!, index), o.dtype, ext);
        // Movement stores input 0's buffer, read in the output's DMA order.
        const src = spec.alias ? l.reorder(inView(mem, 0, s, ext)) : l.spad(outAddr(j), o.dtype, ext);
        return { op: 'dma.store', tag: 0, dst, src };
      });
      const compute = spec.alias || !spec.compute ? [] : spec.compute({
        ins: spec.ins.map((_, j) => inView(mem, j, s, ext)),
        outs: spec.outs.map((o, j) => outLayout(j).vec(outAddr(j), o.dtype, ext, true)),
        temps: tempIdx.map((r) => view3('spad', mem.single(r), 'f32', ext, compact3(ext))),
        rows: rowIdx.map((r) => view3('spad', mem.single(r), 'f32', [ext[0], ext[1], 1], [ext[1], 1, 0])),
        shape: ext,
      });
      return { loads, compute, stores };
    },
  };
}

type Ext = [number, number, number];

/**
 * How one operand's tile sits in the scratchpad: compact, with its dims in
 * the order of its DRAM strides (largest first), so each DMA moves the
 * longest contiguous runs DRAM allows (a burst per run); the vector unit
 * reads it through a view permuted back to the space's order. Dims along
 * which the operand broadcasts are held once (extent 1, view stride 0)
 * unless `squeeze` is off.
 */
export interface Layout {
  ext(e: readonly number[]): number[];
  /** The DMA's scratchpad side. */
  spad(addr: number, dtype: NpuDtype, e: Ext): View;
  /** The DMA's DRAM side (addr already at the step's first element). */
  dram(addr: number, dtype: NpuDtype, e: Ext): View;
  /** The vector unit's view, in the space's dim order: stride 0 where broadcast, or (squeezed) extent 1 there. */
  vec(addr: number, dtype: NpuDtype, e: Ext, squeezed?: boolean): View;
  /** A space-order view put in this operand's DMA order. */
  reorder(v: View): View;
}

export function layoutOf(strides: readonly number[], tileDims: readonly number[], squeeze: boolean): Layout {
  const st = tileDims.map((d) => strides[d]!);
  const bc = st.map((x) => x === 0 && squeeze);
  const order = [0, 1, 2].sort((a, b) => Math.abs(st[b]!) - Math.abs(st[a]!) || a - b);
  const ext = (e: readonly number[]) => e.map((x, m) => (bc[m] ? 1 : x));
  const perm = <T>(xs: readonly T[]) => order.map((m) => xs[m]!);
  return {
    ext,
    spad: (addr, dtype, e) => { const p = perm(ext(e)); return view3('spad', addr, dtype, p, compact3(p)); },
    dram: (addr, dtype, e) => { const x = ext(e); return view3('dram', addr, dtype, perm(x), perm(st.map((s, m) => (x[m] === 1 ? 0 : s)))); },
    vec: (addr, dtype, e, squeezed) => {
      const cs = compact3(perm(ext(e)));
      const vs = [0, 0, 0];
      order.forEach((m, pos) => (vs[m] = bc[m] ? 0 : cs[pos]!));
      return view3('spad', addr, dtype, squeezed ? ext(e) : e, vs);
    },
    reorder: (v) => view3(v.space, v.addr, v.dtype, perm(v.shape), perm(v.strides)),
  };
}
