// Estimated time of each op on each device, and of moving data between them.
//
// Node cost: a roofline on the device (max of compute time and memory time)
// plus fixed launch costs; on HBM-PIM, the kernel structure of pim-cost.ts.
// Edge cost: where a value lives when its producer is done ("residency") and
// where its consumer needs it. NPU ops and PIM GEMV-type kernels talk to the
// host side (PIM kernels write their own inputs into GRFs and read their
// results back, and that is in their node cost); PIM element-wise kernels
// work on operands in the banks, so data in and out of them crosses the
// external bus; PNM ops sit behind the CXL link.

import type { Hardware, Device } from '../../runtime-sim/hardware/types.js';
import type { OpWork } from '../analysis/op-costs.js';
import { FLOAT_STORAGE_BYTES, totalBytes } from '../analysis/op-costs.js';
import { NPU_TILES } from '../../backends/npu/lower/common/tiling.js';
import { cyclesToSeconds, pimAttentionCycles, pimElementwiseCycles, pimGemvCycles, sumParts, type PimParts } from './pim-cost.js';
import { attentionFlops, attentionSize, linearSize, outputElements, type AttentionSize } from './shapes.js';

export type Bound = 'compute' | 'memory' | 'pim-kernel' | 'free';

export interface Estimate {
  seconds: number;
  bound: Bound;
  /** Seconds by component, for --explain. */
  parts: Record<string, number>;
}

/** Where a value sits: host side (NPU SRAM/HBM), PIM bank layout, or the CXL expander. */
export type Residency = 'host' | 'bank' | 'cxl';

const MATRIX_KINDS = new Set(['linear', 'matmul']);

export class CostModel {
  /**
   * kvInCxl: the KV cache does not fit in HBM beside the weights, so it lives
   * in the CXL expander (placement.ts decides): attention and KV appends off
   * the PNM engine reach it over the link, and PIM cannot hold it.
   */
  constructor(readonly hw: Hardware, readonly opts: { kvInCxl?: boolean } = {}) {}

  // ---- derived rates -------------------------------------------------------

  get npuMatrixFlops(): number {
    const n = this.hw.npu!;
    return n.engines * n.arrayRows * n.arrayCols * 2 * n.clockGHz * 1e9;
  }

  get npuVectorFlops(): number {
    const n = this.hw.npu!;
    return n.engines * n.vectorLanes * n.vectorOpsPerLaneCycle * n.clockGHz * 1e9;
  }

  /** Bytes per second a long stream over the external bus reaches. */
  get memoryBandwidth(): number {
    return this.hw.memory.peakGBps * 1e9 * this.hw.memory.streamEfficiency;
  }

  // ---- node costs ----------------------------------------------------------

  estimate(w: OpWork, d: Device): Estimate {
    if (w.kind === 'view') return { seconds: 0, bound: 'free', parts: {} };
    const e = d === 'npu' ? this.npu(w) : d === 'pim' ? this.pim(w) : this.pnm(w);
    return this.opts.kvInCxl && d !== 'pnm' ? this.kvOverLink(w, e) : e;
  }

  /**
   * With the cache in the expander, an attention or KV append elsewhere moves
   * its cache bytes (the whole cache read, or the new token written) over the
   * CXL link, at link bandwidth plus one link latency.
   */
  private kvOverLink(w: OpWork, e: Estimate): Estimate {
    if ((w.kind !== 'attention' && w.kind !== 'kv-append') || !this.hw.pnm || w.bytes.kv === 0) return e;
    const p = this.hw.pnm;
    const link = w.bytes.kv / (p.linkGBps * 1e9) + p.linkLatencyNs * 1e-9;
    return { seconds: e.seconds + link, bound: e.bound, parts: { ...e.parts, kvOverLink: link } };
  }

  private roofline(compute: number, memory: number, fixed: number, fixedName: string): Estimate {
    const bound: Bound = compute >= memory ? 'compute' : 'memory';
    return { seconds: fixed + Math.max(compute, memory), bound, parts: { compute, memory, [fixedName]: fixed } };
  }

  // ---- the NPU ---------------------------------------------------------------
  //
  // The NPU runs each op as one kernel (backends/npu/lower, docs/npu-lowering.md)
  // whose time the NPU simulator counts as docs/npu-asm.md "Timing" says. The
  // estimate follows the same physics, per op:
  //   launch + serial DMA latencies + max(compute, memory) + pipeline fill
  // - serial DMA latencies: the first load and the last store (2); a Gather
  //   also waits for its index load before the gather (3);
  // - memory: bytes / (peak x stream efficiency); a KvAppend on the NPU reads
  //   the past cache and the new rows and writes the whole present cache;
  // - compute: the busiest engine's array and vector cycles (npuCompute):
  //   the array in whole 64 x 32 blocks streaming at least 64 rows a pass,
  //   its fill/drain once per matmul instruction; the vector unit one pass
  //   per instruction over each element (npuVectorPasses), 64 lanes a cycle,
  //   its pipeline depth once per instruction; the work shared by the engines
  //   it can be split over (fewer than 8 when it comes in fewer pieces);
  // - pipeline fill: an engine runs S steps double-buffered (DMA of step k+1
  //   under compute of step k), so all but one step's worth of the smaller of
  //   compute and memory overlaps the larger: min(compute, memory) / S.

  private npu(w: OpWork): Estimate {
    const n = this.hw.npu!;
    const memory = this.npuBytes(w) / this.memoryBandwidth;
    const serial = w.op.type === 'Gather' ? 3 : 2;
    const launch = (n.kernelLaunchNs + serial * n.dmaLatencyNs) * 1e-9;
    const { cycles, steps } = this.npuCompute(w);
    const compute = cycles / (n.clockGHz * 1e9);
    const fill = Math.min(compute, memory) / Math.max(1, steps);
    const bound: Bound = compute >= memory ? 'compute' : 'memory';
    return { seconds: launch + Math.max(compute, memory) + fill, bound, parts: { compute, memory, launch, fill } };
  }

  /**
   * Bytes the NPU kernel moves; others as analysed. A KvAppend onto a past
   * cache that is a graph input appends in place (the past lives inside the
   * present: compiler/codegen/dram-plan.ts), moving the new keys in and out;
   * any other copies the whole cache (past + new in, present out).
   */
  private npuBytes(w: OpWork): number {
    if (w.kind !== 'kv-append') return totalBytes(w.bytes);
    const el = (s: readonly number[] | undefined) => (s ? s.reduce((a, b) => a * b, 1) : 0);
    const past = w.op.inputs[0];
    const inPlace = !!past && !past.producer && !past.constant;
    return (inPlace ? 2 * el(w.inputs[1]) : el(w.inputs[0]) + el(w.inputs[1]) + el(w.outputs[0])) * w.scale * FLOAT_STORAGE_BYTES;
  }

  /** The busiest engine's compute cycles and its pipeline steps. */
  private npuCompute(w: OpWork): { cycles: number; steps: number } {
    if (w.kind === 'attention') return this.npuAttention(attentionSize(w), w);
    if (MATRIX_KINDS.has(w.kind)) {
      const g = gemmSize(w);
      if (g) return this.npuGemm(g.batch, g.m, g.k, g.n, g.epilogue);
      return { cycles: (w.flops / this.npuMatrixFlops) * this.hw.npu!.clockGHz * 1e9, steps: 1 };
    }
    const el = (s: readonly number[] | undefined) => (s ? s.reduce((a, b) => a * b, 1) : 0) * w.scale;
    const out = el(w.outputs[0]);
    if (w.kind === 'reduce') return this.npuVector(el(w.inputs[0]), 1, 0);
    const rows = w.kind === 'norm' || w.kind === 'softmax' ? out / Math.max(1, (w.outputs[0] ?? []).at(-1) ?? 1) : 0;
    return this.npuVector(out, npuVectorPasses(w), rows);
  }

  /**
   * A vector job over `elements` (element-wise, activation, norm, softmax,
   * rope, reduce, movement): tiles of at most ewMax elements, at least ewMin
   * (and whole rows for a row-wise op), so it reaches min(engines,
   * ceil(elements / ewMin)) engines (and no more than it has rows); each
   * engine runs its share in S equal tiles, `passes` vector instructions
   * over each tile's elements.
   */
  private npuVector(elements: number, passes: number, rows: number): { cycles: number; steps: number } {
    const n = this.hw.npu!;
    if (elements <= 0) return { cycles: 0, steps: 1 };
    let pieces = Math.min(n.engines, Math.ceil(elements / NPU_TILES.ewMin));
    if (rows > 0) pieces = Math.min(pieces, Math.ceil(rows));
    const share = elements / Math.max(1, pieces);
    const steps = Math.ceil(share / NPU_TILES.ewMax);
    const cycles = passes * (Math.ceil(share / (n.vectorLanes * n.vectorOpsPerLaneCycle)) + steps * n.vectorPipelineCycles);
    return { cycles, steps };
  }

  /** Array cycles of one matmul [batch, m, k] x [batch, k, n] (timing.ts), the transposed form when m <= arrayCols. */
  private npuMatmulCycles(batch: number, m: number, k: number, n: number): number {
    const a = this.hw.npu!;
    const [rows, cols] = m <= a.arrayCols ? [n, m] : [m, n];
    return Math.ceil(k / a.arrayRows) * Math.ceil(cols / a.arrayCols) * batch * Math.max(rows, a.arrayRows) + a.arrayRows + a.arrayCols;
  }

  /**
   * A GEMM of `batch` independent [m, k] x [k, n] products (gemm-core.ts):
   * output tiles of at most gemmM x gemmN (all m rows in the transposed form,
   * m <= arrayCols), split until every engine has one while tiles keep at
   * least 64 rows and 32 columns; each tile a K loop of matmul steps (at most
   * gemmK; in the transposed form about streamStepCycles array cycles each,
   * and a ramp 64, 128, 256 first in the other) paying the array's
   * fill/drain each; then an epilogue of vector passes over the output (the
   * bias add or the f16 conversion: 1; a Gemm's alpha with a bias: 2).
   */
  private npuGemm(batch: number, m: number, k: number, n: number, epiloguePasses: number): { cycles: number; steps: number } {
    const a = this.hw.npu!;
    const E = a.engines;
    const stream = m <= a.arrayCols;
    const fillDrain = a.arrayRows + a.arrayCols;
    const base = batch * (stream ? 1 : Math.ceil(m / NPU_TILES.gemmM)) * Math.ceil(n / NPU_TILES.gemmN);
    const pieces = batch * (stream ? 1 : Math.max(1, Math.floor(m / 64))) * Math.max(1, Math.floor(n / 32));
    const tiles = Math.max(base, Math.min(E, pieces));
    const tilesPerEngine = Math.ceil(tiles / E);
    // The array's blocks of the whole product, shared by the engines the tiles reach.
    const array = (batch * (this.npuMatmulCycles(1, m, k, n) - fillDrain)) / Math.min(E, tiles);
    let kSteps: number;
    if (stream) {
      const tn = n / Math.ceil(tiles / batch);
      const tk = Math.min(NPU_TILES.gemmK, Math.max(64, Math.round((64 * NPU_TILES.streamStepCycles) / Math.max(tn, 64) / 64) * 64));
      kSteps = Math.ceil(k / tk);
    } else {
      let left = k, ramp = 0;
      for (let s = 64; s < NPU_TILES.gemmK && left > 2 * s; s *= 2) {
        ramp++;
        left -= s;
      }
      kSteps = ramp + Math.ceil(left / NPU_TILES.gemmK);
    }
    const steps = tilesPerEngine * kSteps;
    const epilogue = this.npuVector(((batch * m * n) / Math.min(E, tiles)) * E, epiloguePasses, 0).cycles;
    return { cycles: array + steps * fillDrain + epilogue, steps };
  }

  /**
   * Fused attention (attention.ts). A unit is a (batch, kv head): the g query
   * heads of its group stacked as R = g sq rows against skv keys, in key
   * tiles of attnKeys (causal: a query tile's visible keys only). Per key
   * tile, two matmuls (scores, P V; the array's blocks as npuMatmulCycles
   * counts them) and the online softmax's vector passes over the R x tile
   * scores: scale, row max, subtract, exp, row sum (5), plus 1 for an
   * additive mask, 2 for a bool one (min, max against its +-inf bounds), a
   * few per-row instructions and the rescale of the output; its division
   * once. Rows split over the engines in blocks of 32 (fewer rows take the
   * array as long), so the busiest engine gets ceil(blocks / engines) of
   * them; it runs them as few items as it can (at most attnRows rows, the
   * kv heads of one batch index batched), each instruction of an item
   * paying the array's fill/drain or the vector pipeline once. A bool
   * mask's bounds are made (6 passes) once per element of the mask as
   * stored, shared by the engines, at least one key tile on each.
   */
  private npuAttention(s: AttentionSize, w: OpWork): { cycles: number; steps: number } {
    const a = this.hw.npu!;
    const E = a.engines;
    const lanes = a.vectorLanes * a.vectorOpsPerLaneCycle;
    const pipe = a.vectorPipelineCycles;
    const el = (n: number) => Math.ceil(n / lanes);
    const fillDrain = a.arrayRows + a.arrayCols;
    const attr = (name: string) => w.op.attrs.get(name);
    const modeA = attr('mask_mode');
    const hasMask = !!w.op.inputs[3];
    const mode = hasMask && modeA && modeA.kind === 'string' ? modeA.value : 'none';
    const causalA = attr('causal');
    const causal = !!causalA && causalA.kind === 'int' && causalA.value !== 0;
    const g = s.hq / s.hkv;
    const R = g * s.sq;
    const hdv = (w.inputs[2] ?? []).at(-1) ?? s.hd;
    const T = Math.min(s.skv, NPU_TILES.attnKeys);
    // Query tiles of at most attnRows rows; their key tiles (causal: up to the last row's visible key).
    const qTiles = Math.ceil(R / NPU_TILES.attnRows);
    const m = R / qTiles;
    let tiles = 0;
    for (let k = 0; k < qTiles; k++) {
      const visible = causal ? Math.min(s.skv, ((k + 1) * s.sq) / qTiles + s.skv - s.sq) : s.skv;
      tiles += Math.max(1, Math.ceil(visible / T)) / qTiles;
    }
    const passes = 5 + (mode === 'add' ? 1 : mode === 'bool' ? 2 : 0);
    const array = qTiles * tiles * (this.npuMatmulCycles(1, m, s.hd, T) + this.npuMatmulCycles(1, m, T, hdv) - 2 * fillDrain);
    const vector = qTiles * tiles * (passes * el(m * T) + 4 * el(m) + el(m * hdv)) + el(R * hdv) + (causal ? el(R * T) : 0);
    const units = s.b * s.hkv;
    const blocks = units * Math.ceil(R / 32);
    const perEngine = Math.ceil(blocks / E) / Math.ceil(R / 32); // units on the busiest engine
    const items = Math.max(Math.ceil((perEngine * R) / NPU_TILES.attnRows), Math.ceil(perEngine / s.hkv));
    const overhead = items * (tiles * (2 * fillDrain + (passes + 5) * pipe) + pipe);
    let convert = 0;
    if (mode === 'bool') {
      const maskEl = (w.inputs[3] ?? []).reduce((p, d) => p * d, 1) * w.scale;
      convert = 6 * (el(Math.max(maskEl / Math.min(E, blocks), Math.min(maskEl, T))) + pipe);
    }
    return { cycles: perEngine * (array + vector) + overhead + convert, steps: Math.max(1, Math.round(items * tiles)) };
  }

  private pimParts(p: PimParts): Record<string, number> {
    const s = (c: number) => cyclesToSeconds(this.hw, c);
    return { mac: s(p.mac), rowSwitch: s(p.rowSwitch), inputWrites: s(p.inputWrites), readBack: s(p.readBack), modeSwitch: s(p.modeSwitch), refresh: s(p.refresh) };
  }

  /** The host (the NPU's command processor) issues a PIM kernel like any other kernel. */
  private get pimLaunch(): number {
    return (this.hw.npu?.kernelLaunchNs ?? 0) * 1e-9;
  }

  private pimKernel(p: PimParts, extra: Record<string, number> = {}): Estimate {
    const launch = this.pimLaunch;
    const more = Object.values(extra).reduce((a, b) => a + b, 0);
    return { seconds: launch + cyclesToSeconds(this.hw, sumParts(p)) + more, bound: 'pim-kernel', parts: { launch, ...this.pimParts(p), ...extra } };
  }

  private pim(w: OpWork): Estimate {
    if (w.kind === 'linear') {
      const { rows, k, n } = linearSize(w);
      return this.pimKernel(pimGemvCycles(this.hw, rows, n, k));
    }
    if (w.kind === 'attention') {
      // scores = q.K^T and context = P.V as GEMVs over the cache in the banks;
      // the softmax between them runs on the NPU on the read-back scores.
      const a = attentionSize(w);
      const both = pimAttentionCycles(this.hw, a);
      const softmax = this.hw.npu ? this.npuVectorOp(attentionFlops(a).softmax, a.b * a.hq * a.sq * a.skv * 4) : 0;
      // two PIM kernels around the softmax: the second launch is in the softmax's NPU time
      return this.pimKernel(both, { softmaxOnNpu: softmax });
    }
    if (w.kind === 'kv-append') {
      // the new token's keys or values are written into the bank layout
      const write = w.bytes.kv / this.memoryBandwidth;
      return { seconds: this.pimLaunch + write, bound: 'memory', parts: { launch: this.pimLaunch, write } };
    }
    return this.pimKernel(pimElementwiseCycles(this.hw, outputElements(w), w.op.type === 'Relu' ? 16 : 24));
  }

  /** A small vector op on the NPU (launch + max of compute and memory). */
  private npuVectorOp(flops: number, bytes: number): number {
    const n = this.hw.npu!;
    return (n.kernelLaunchNs + 2 * n.dmaLatencyNs) * 1e-9 + Math.max(flops / this.npuVectorFlops, bytes / this.memoryBandwidth);
  }

  private pnm(w: OpWork): Estimate {
    const p = this.hw.pnm!;
    const fixed = p.launchNs * 1e-9;
    const memory = totalBytes(w.bytes) / (p.internalGBps * 1e9);
    const matrix = p.units * p.matrixTflopsPerUnit * 1e12;
    const vector = p.units * p.vectorGflopsPerUnit * 1e9;
    let compute: number;
    if (w.kind === 'attention') {
      const f = attentionFlops(attentionSize(w));
      compute = f.matmul / matrix + f.softmax / vector;
    } else if (MATRIX_KINDS.has(w.kind)) compute = w.flops / matrix;
    else compute = w.flops / vector;
    return this.roofline(compute, memory, fixed, 'launch');
  }

  // ---- residency and edges -------------------------------------------------

  /** Where an op on device d leaves its outputs. */
  outputResidency(w: OpWork, d: Device): Residency {
    if (d === 'pnm') return 'cxl';
    if (this.opts.kvInCxl && w.kind === 'kv-append') return 'cxl'; // the appended cache stays in the expander
    if (d === 'pim' && (w.kind === 'elementwise' || w.kind === 'activation' || w.kind === 'kv-append')) return 'bank';
    return 'host';
  }

  /** Where an op on device d needs input i. */
  inputResidency(w: OpWork, d: Device, i: number): Residency {
    if (d === 'pnm') return 'cxl';
    // the cache is read where it lives (its transfer is in the op's estimate)
    if (this.opts.kvInCxl && w.kind === 'attention' && (i === 1 || i === 2)) return 'cxl';
    if (d !== 'pim') return 'host';
    if (w.kind === 'elementwise' || w.kind === 'activation') return 'bank';
    // attention reads the KV cache (inputs 1, 2) where it lives, in the banks
    if (w.kind === 'attention' && (i === 1 || i === 2)) return 'bank';
    return 'host';
  }

  /** Seconds to move `bytes` from one residency to another. */
  move(bytes: number, from: Residency, to: Residency): number {
    if (from === to || bytes === 0) return 0;
    let t = 0;
    if (from === 'bank' || to === 'bank') t += bytes / this.memoryBandwidth;
    if (from === 'cxl' || to === 'cxl') {
      const p = this.hw.pnm!;
      t += bytes / (p.linkGBps * 1e9) + p.linkLatencyNs * 1e-9;
    }
    return t;
  }
}

/**
 * The GEMM shape of a matrix op as the NPU lowering runs it (dense.ts,
 * matmul.ts) and the vector passes of its epilogue; undefined for others
 * (Einsum).
 */
function gemmSize(w: OpWork): { batch: number; m: number; k: number; n: number; epilogue: number } | undefined {
  const t = w.op.type;
  if (t === 'Linear' || t === 'Gemm') {
    const { rows, k, n } = linearSize(w);
    const alpha = w.op.attrs.get('alpha');
    const scaled = !!alpha && (alpha.kind === 'float' || alpha.kind === 'int') && alpha.value !== 1;
    return { batch: 1, m: rows, k, n, epilogue: scaled && w.op.inputs[2] ? 2 : 1 };
  }
  if (t !== 'MatMul') return undefined;
  const a = w.inputs[0], b = w.inputs[1];
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a, b2 = b.length === 1 ? [b[0]!, 1] : b;
  const m = a2[a2.length - 2]!, k = a2[a2.length - 1]!, n = b2[b2.length - 1]!;
  const batch = ((w.outputs[0] ?? []).reduce((p, d) => p * d, 1) / Math.max(1, m * n)) * w.scale;
  // a B shared by every batch index folds the batch into the rows (one tall GEMM)
  const shared = b2.slice(0, -2).every((d) => d === 1);
  return shared ? { batch: 1, m: m * batch, k, n, epilogue: 1 } : { batch, m, k, n, epilogue: 1 };
}

/**
 * Vector instructions the NPU lowering issues over each output element
 * (backends/npu/lower/misc): one per element-wise op; Gelu 5 (erf: scale,
 * erf, +1, x, 0.5) or 9 (tanh: x^2, x^3, 0.044715, +x, sqrt(2/pi), tanh,
 * +1, x, 0.5); Silu 2, SwiGLU 3; Softmax 5 (max, subtract, exp, sum,
 * divide), LogSoftmax 6; LayerNorm 7 (sum, centre, square, sum, x inv std,
 * x gamma, + beta; 6 without beta), RMSNorm 4; RoPE 3 (6 over half the
 * elements); Clip one per bound; Where 8, Equal 8, Greater and Less 6; Cast
 * 0-10; movement none (a f16 Expand one copy); a reduction one pass over
 * its input (npuCompute).
 */
export function npuVectorPasses(w: OpWork): number {
  const a = w.op.attrs.get('approximate');
  switch (w.op.type) {
    case 'Gelu':
      return a && a.kind === 'string' && a.value === 'tanh' ? 9 : 5;
    case 'Silu':
      return 2;
    case 'SwiGLU':
      return 3;
    case 'Softmax':
      return 5;
    case 'LogSoftmax':
      return 6;
    case 'LayerNorm':
    case 'LayerNormalization':
      return w.op.inputs[2] ? 7 : 6;
    case 'RMSNorm':
    case 'RMSNormalization':
      return 4;
    case 'Rope':
    case 'RotaryEmbedding':
      return 3;
    case 'Max':
    case 'Min':
      return Math.max(1, w.op.inputs.filter((v) => v).length - 1);
    case 'Clip':
      // one max or min per bound (inputs, or opset-6 attributes); a copy without
      return Math.max(1, w.op.inputs.slice(1).filter((v) => v).length + ['min', 'max'].filter((k) => w.op.attrs.has(k)).length);
    case 'Where':
      return 8;
    case 'Equal':
      return 8;
    case 'Greater':
    case 'Less':
      return 6;
    case 'Cast':
    case 'CastLike': {
      // float -> float and int -> int copy bits (a DMA copy); int -> float 3;
      // float -> bool 5; float -> int 10 (select.ts)
      const from = w.op.inputs[0]?.type?.dtype ?? '', to = w.op.outputs[0]?.type?.dtype ?? '';
      const float = (d: string) => d === 'f16' || d === 'f32' || d === 'f64' || d === 'bf16';
      if (float(from) === float(to)) return 0;
      return float(to) ? 3 : to === 'bool' ? 5 : 10;
    }
    case 'Expand':
      return 1;
    default:
      return w.kind === 'movement' || w.kind === 'kv-append' || w.kind === 'embedding' || w.kind === 'view' ? 0 : 1;
  }
}
