// The tiled GEMM every matmul-like lowering (MatMul, Gemm, pimc.Linear)
// emits: C[b] = alpha * A[b] @ B[b] (+ beta * bias[b]) for a list of batch
// items, A, B, bias strided DRAM matrices (transposes and broadcasts are
// strides), C a row-major f16 DRAM matrix.
//
// Algorithm:
// 1. Orientation. The array is weight-stationary (timing.ts): a pass holds a
//    64 x 32 block of b and streams the rows of a, taking max(M, 64) cycles.
//    With M > 32 rows C = A B keeps the array full; with M <= 32 (GEMV,
//    decode) the transposed product C^T = B^T A^T streams B's columns
//    instead, twice as fast (M = 1: 64x), at no cost in data movement: both
//    read the same scratchpad tiles through transposed views.
// 2. Output tiles: M in spans of at most 256 rows (64-aligned), N of at most
//    512 columns (32-aligned), split further until there are at least as many
//    tiles as engines; tiles are dealt to the engines by estimated cycles.
// 3. Per tile, the K loop in steps; each step loads an A tile [tm, k] and a
//    B tile [k, tn] into ring slots and runs one matmul accumulating into
//    the f32 accumulator (its fp32 sum carries over, so the K order is the
//    same as one long matmul). Step sizes:
//    - compute-bound (M > 32): up to 512, sized to fit the scratchpad, with
//      a geometric ramp (64, 128, 256, ...) at the start so every engine's
//      first data lands soon after launch (the DRAM queue is one FIFO);
//    - memory-bound (M <= 32): uniform steps of about 1024 array cycles
//      (k = 64 x 1024 / tn). Here compute is ~91% of the DRAM time (64
//      weights per engine cycle against 929.6 B/cycle / 2 B / 8 engines), so
//      the fixed 96-cycle fill/drain per matmul must stay small, while the
//      last engine's compute after the final DMA (one step) must be short too.
// 4. Software pipeline over all of an engine's steps, double-buffered (two
//    ring slots, one DMA tag each): step s waits for its slot, issues the
//    loads of step s + 1 (into the slot step s - 1 used: compute is in
//    order, so it has finished), then computes. Not deeper: with more slots
//    the engines that issue first fill the shared FIFO ahead of the others,
//    which then start late and finish late (measured on the 1 x 4096 x 4096
//    GEMV: 3 slots 43.5k cycles, 2 slots 41.8k).
// 5. Epilogue after a tile's last step: acc *= alpha, + beta * bias (the
//    bias tile came with the tile's first step), the last of these writing
//    the f16 output tile (a vec.copy when there is nothing to do; two slots,
//    so the store of one tile overlaps the next tile), and a dma.store.

import { fail, q } from '../../../../ir/diagnostics.js';
import { view, type Instr, type NpuProgram } from '../../instr.js';
import { Spad } from '../common/alloc.js';
import { loadTile, matmulInstr, matView, offset, streamRows, tileBytes, type MatRef } from '../common/matrix.js';
import { ceilDiv, dealItems, NPU_TILES, reductionSteps, splitEven } from '../common/tiling.js';
import type { LowerContext } from '../types.js';
import type { NpuDesc } from '../../../../runtime-sim/hardware/types.js';

export interface GemmItem {
  /** Logical [M, K], [K, N] and [M, N] (broadcast strides allowed in a, b, bias). */
  a: MatRef;
  b: MatRef;
  c: MatRef;
  bias?: MatRef;
}

export interface GemmSpec {
  M: number;
  N: number;
  K: number;
  items: readonly GemmItem[];
  alpha: number;
  /** Scale of the bias (when items carry one). */
  beta: number;
}

const TM_MAX = NPU_TILES.gemmM;
const TN_MAX = NPU_TILES.gemmN;
const TK_MAX = NPU_TILES.gemmK;
/** Array cycles per K step of the transposed (memory-bound) form: see step 3 of the header. */
const STREAM_STEP_CYCLES = NPU_TILES.streamStepCycles;

interface Tile {
  item: number;
  m0: number;
  tm: number;
  n0: number;
  tn: number;
}

interface Step {
  tile: Tile;
  /** Index of the tile in this engine's list (picks the output slot). */
  tileNo: number;
  k0: number;
  kn: number;
  first: boolean;
  last: boolean;
}

/** The tiles of one split: M in mParts spans (64-aligned), N in nParts (32-aligned), per batch item. */
function tilesOf(spec: GemmSpec, mParts: number, nParts: number, transposedMode: boolean): Tile[] {
  const ms = splitEven(spec.M, mParts, transposedMode ? 1 : 64);
  const ns = splitEven(spec.N, nParts, 32);
  const tiles: Tile[] = [];
  spec.items.forEach((_, item) => {
    for (const m of ms) for (const n of ns) tiles.push({ item, m0: m.start, tm: m.size, n0: n.start, tn: n.size });
  });
  return tiles;
}

/**
 * Output tiles: spans of M (at most 256 rows, at least 64) and N (at most
 * 512 columns, at least 32) per batch item. Among the splits from the
 * fewest tiles up to a few per engine, the one that finishes first: the
 * busiest engine's array cycles after dealing (tile cycles as timing.ts
 * counts them, one fill/drain per K step of at most TK_MAX), or the DRAM
 * time of all the tiles' loads (A is read once per N span, B once per M
 * span), whichever is longer; ties go to fewer tiles. Equal tiles in a
 * count that is not a multiple of the engines leave engines idle at the end
 * (14 tiles of a 128 x 768 output on 8 engines took 2 rounds for 1.75
 * engines' worth each); the search finds 8 tiles of 128 x 96 instead.
 */
function outputTiles(spec: GemmSpec, npu: NpuDesc, dramBytesPerCycle: number, transposedMode: boolean): Tile[] {
  const { M, N, K, items } = spec;
  const E = npu.engines;
  const mMin = transposedMode ? 1 : ceilDiv(M, TM_MAX);
  const mMax = transposedMode ? 1 : Math.max(mMin, Math.floor(M / 64));
  const nMin = ceilDiv(N, TN_MAX);
  const nMax = Math.max(nMin, Math.floor(N / 32));
  const kSteps = ceilDiv(K, TK_MAX);
  const tileCycles = (t: Tile) =>
    (transposedMode ? passCycles(t.tn, K, t.tm, npu.arrayRows, npu.arrayCols) : passCycles(t.tm, K, t.tn, npu.arrayRows, npu.arrayCols)) +
    (kSteps - 1) * (npu.arrayRows + npu.arrayCols);
  let best: { tiles: Tile[]; score: number } | undefined;
  for (let mp = mMin; mp <= mMax; mp++) {
    for (let np = nMin; np <= nMax; np++) {
      const count = items.length * mp * np;
      // Enough candidates: past 4 tiles per engine the rounding costs little.
      if (count > Math.max(4 * E, items.length * mMin * nMin)) break;
      const tiles = tilesOf(spec, mp, np, transposedMode);
      const load = new Array<number>(E).fill(0);
      for (const l of dealItems(tiles.length, E, (i) => tileCycles(tiles[i]!)).entries()) for (const i of l[1]) load[l[0]]! += tileCycles(tiles[i]!);
      const bytes = items.length * 2 * (M * K * np + K * N * mp + M * N);
      const score = Math.max(Math.max(...load), bytes / dramBytesPerCycle);
      if (!best || score < best.score) best = { tiles, score };
    }
  }
  return best!.tiles;
}

/** Array cycles of one matmul (timing.ts's model), for balancing engines. */
function passCycles(rows: number, k: number, cols: number, arrayRows: number, arrayCols: number): number {
  return ceilDiv(k, arrayRows) * ceilDiv(cols, arrayCols) * Math.max(rows, arrayRows) + arrayRows + arrayCols;
}

export function emitGemm(ctx: LowerContext, spec: GemmSpec): NpuProgram {
  const { npu, op } = ctx;
  const { M, N, K, items } = spec;
  const name = `${op.type}:${op.name}`;
  const engines: Instr[][] = Array.from({ length: npu.engines }, () => []);
  if (M * N * items.length === 0) return { name, engines };
  if (K === 0) fail('PIMC1102', `op ${q(op.name)} (${op.type}) has an empty inner dimension (K = 0); the NPU lowering needs K >= 1: remove the op or give it data`);

  // 1. Orientation and tiles.
  const tr = streamRows(M, npu.arrayCols);
  const tiles = outputTiles(spec, npu, (ctx.hw.memory.peakGBps * ctx.hw.memory.streamEfficiency) / npu.clockGHz, tr);
  const tmMax = Math.max(...tiles.map((t) => t.tm));
  const tnMax = Math.max(...tiles.map((t) => t.tn));
  const hasBias = items.some((it) => it.bias);
  const biasRef = items.find((it) => it.bias)?.bias;
  const depth = 2; // ring slots (step 4 of the header)

  // 2. Scratchpad: everything but the K tiles first, then the largest K step that fits.
  const sp = new Spad(op.name, npu.scratchpadBytes);
  const acc = sp.alloc(tmMax * tnMax * 4, `f32 accumulator [${tmMax}, ${tnMax}]`);
  const outRing = sp.ring(tmMax * tnMax * 2, 2, `f16 output tile [${tmMax}, ${tnMax}]`);
  const biasBytes = biasRef ? tileBytes(biasRef, tmMax, tnMax) : 0;
  const biasRing = hasBias ? sp.ring(biasBytes, depth, 'bias tile') : undefined;
  const biasTmp = hasBias && spec.beta !== 1 ? sp.alloc(biasBytes * 2, 'scaled bias tile') : 0;
  const perK = depth * (tmMax + tnMax) * 2 + 2 * 64; // bytes per unit of tk, plus alignment slack
  const streamStep = Math.min(TK_MAX, Math.max(64, Math.round((64 * STREAM_STEP_CYCLES) / Math.max(tnMax, 64) / 64) * 64));
  let tk = Math.min(K, tr ? streamStep : TK_MAX);
  if (tk > 64) tk = Math.min(tk, Math.max(64, Math.floor(sp.free / perK / 64) * 64));
  const aRing = sp.ring(tmMax * tk * 2, depth, `A tile [${tmMax}, ${tk}]`);
  const bRing = sp.ring(tk * tnMax * 2, depth, `B tile [${tk}, ${tnMax}]`);

  // 3. Deal tiles to engines by their array cycles.
  const cost = (t: Tile) => (tr ? passCycles(t.tn, K, t.tm, npu.arrayRows, npu.arrayCols) : passCycles(t.tm, K, t.tn, npu.arrayRows, npu.arrayCols));
  const dealt = dealItems(tiles.length, npu.engines, (i) => cost(tiles[i]!));
  const kSteps = reductionSteps(K, tk, 64, !tr);
  if (kSteps.some((k) => k > tk)) throw new Error(`internal: K step over the tile of ${tk}`);

  dealt.forEach((mine, e) => {
    if (!mine.length) return;
    const steps: Step[] = [];
    mine.forEach((ti, tileNo) => {
      let k0 = 0;
      kSteps.forEach((kn, j) => {
        steps.push({ tile: tiles[ti]!, tileNo, k0, kn, first: j === 0, last: j === kSteps.length - 1 });
        k0 += kn;
      });
    });
    const prog = engines[e]!;
    const tiles2: { a: MatRef; b: MatRef; bias?: MatRef }[] = [];
    const loads = (s: number) => {
      const st = steps[s]!;
      const { tile } = st;
      const it = items[tile.item]!;
      const a = loadTile(offset(it.a, tile.m0, st.k0), tile.tm, st.kn, aRing.slot(s), s % depth);
      const b = loadTile(offset(it.b, st.k0, tile.n0), st.kn, tile.tn, bRing.slot(s), s % depth);
      prog.push(a.instr, b.instr);
      tiles2[s] = { a: a.tile, b: b.tile };
      if (st.first && it.bias) {
        const bias = loadTile(offset(it.bias, tile.m0, tile.n0), tile.tm, tile.tn, biasRing!.slot(st.tileNo), s % depth);
        prog.push(bias.instr);
        tiles2[s]!.bias = bias.tile;
      }
    };
    let biasTile: MatRef | undefined;
    for (let s = 0; s < Math.min(depth - 1, steps.length); s++) loads(s);
    steps.forEach((st, s) => {
      const { tile } = st;
      const { tm, tn } = tile;
      prog.push({ op: 'wait.dma', tag: s % depth });
      if (s + depth - 1 < steps.length) loads(s + depth - 1);
      const t = tiles2[s]!;
      if (t.bias) biasTile = t.bias;
      // The accumulator's logical [tm, tn]: row-major, or [tn, tm] row-major when transposed.
      const accRef: MatRef = tr ? { space: 'spad', addr: acc, dtype: 'f32', rs: 1, cs: tm } : { space: 'spad', addr: acc, dtype: 'f32', rs: tn, cs: 1 };
      prog.push(matmulInstr(accRef, t.a, t.b, tm, st.kn, tn, !st.first, tr));
      delete tiles2[s];
      if (!st.last) return;
      // Epilogue: the last vector op writes the f16 tile (fp32 result, then
      // one rounding to f16: the same bits as computing in the f32
      // accumulator and copying, one pass fewer).
      const accView = matView(accRef, tm, tn);
      const o = st.tileNo % 2;
      const out = view('spad', outRing.slot(o), 'f16', [1, tm, tn]);
      const hasBiasNow = !!items[tile.item]!.bias;
      if (st.tileNo >= 2) prog.push({ op: 'wait.dma', tag: depth + o });
      if (spec.alpha !== 1) prog.push({ op: 'vec.scalar', fn: 'muls', dst: hasBiasNow ? accView : out, a: accView, imm: spec.alpha });
      if (hasBiasNow) {
        let bv = matView(biasTile!, tm, tn);
        if (spec.beta !== 1) {
          // Scale the bias tile as loaded (broadcast dims stay 1), then add it broadcast.
          const r = biasTile!.rs === 0 ? 1 : tm, c = biasTile!.cs === 0 ? 1 : tn;
          const scaled: MatRef = { space: 'spad', addr: biasTmp, dtype: 'f32', rs: biasTile!.rs === 0 ? 0 : c, cs: biasTile!.cs === 0 ? 0 : 1 };
          prog.push({ op: 'vec.scalar', fn: 'muls', dst: view('spad', biasTmp, 'f32', [1, r, c]), a: view('spad', biasTile!.addr, biasTile!.dtype, [1, r, c], [0, biasTile!.rs, biasTile!.cs]), imm: spec.beta });
          bv = matView(scaled, tm, tn);
        }
        prog.push({ op: 'vec.binary', fn: 'add', dst: out, a: accView, b: bv });
      } else if (spec.alpha === 1) prog.push({ op: 'vec.unary', fn: 'copy', dst: out, a: accView });
      const c = items[tile.item]!.c;
      prog.push({ op: 'dma.store', tag: depth + o, dst: matView(offset(c, tile.m0, tile.n0), tm, tn), src: out });
    });
    prog.push({ op: 'end' });
  });
  return { name, engines };
}
