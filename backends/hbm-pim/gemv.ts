// GEMV y = W x on HBM-PIM (HARDWARE.md 3.5), as the layout of W in the banks
// and the command stream of every pseudo-channel.
//
// Layout, chosen at compile time. A matrix is spread over a group of `pchs`
// pseudo-channels (all of them for a weight matrix; a few for one attention
// head). Output rows go in rounds of pchs x pcus x 8: pCH p of the group,
// PCU k owns rows round*R + p*64 + k*8 .. +8. Inputs go in tiles of 128
// (8 bursts of GRF_A); even tiles live in the PCU's even bank, odd tiles in
// its odd bank. For each (round, tile) a PCU's bank holds 64 bursts over 2
// DRAM rows, from the plan's row base:
//   burst c (0..63) = W[out base + c mod 8][tile*128 + (c div 8)*16 .. +16]
// at row base + round*rowsPerRound + 2*(tile div 2) + (c div 32), column c mod 32.
// A MAC with AAM then takes GRF_B[col & 7] (the output row) and
// GRF_A[{row[0], col[4:3]}] (the input burst) from the command's address.
//
// Stream per pCH, per input vector and round ("pass"): enter AB-PIM
// (clearing GRF_B) | for each even tile: write its 8 GRF_A bursts through
// the configuration row of the odd banks, then 64 MAC reads on the even
// banks | the odd tiles likewise, the other way round | 8 NOP stores of
// GRF_B into the odd banks' result row | back to AB. Around all passes: park
// in, SB -> AB, program the CRF; at the end AB -> SB, park out, and the host
// reads 8 bursts per PCU per pass and adds the 16 lanes of each output.

import { fail } from '../../ir/diagnostics.js';
import { BankStore, LANES } from '../../runtime-sim/hbm/bank-store.js';
import { CONFIG_COLS, ROWS, type PchStream } from '../../runtime-sim/hbm/stream.js';
import { dataRangesText, inDataRange, type PimGeometry } from './geometry.js';
import { controlWord, gemvProgram, programBursts } from './programs.js';
import { FOLLOW_COL, FOLLOW_DATA, FOLLOW_ROW, StreamBuilder } from './stream-builder.js';

/** MAC reads of a tile's first row before its configuration row closes (past the write timing). */
const PRE_AFTER = 8;

export interface GemvPlan {
  m: number;
  n: number;
  /** Input vectors (batched GEMV: each is a full pass over the weights). */
  vectors: number;
  /** Pseudo-channels the matrix is spread over. */
  pchs: number;
  /** First DRAM row the matrix uses on them. */
  rowBase: number;
  rounds: number;
  tiles: number;
  evenTiles: number;
  oddTiles: number;
  /** DRAM rows each bank uses per round for weights. */
  rowsPerRound: number;
  /** Rows used from rowBase: weights, then one result row per (vector, round). */
  rowsUsed: number;
  /** Row of the odd banks that receives the results of vector v, round r. */
  resultRow: (vector: number, round: number) => number;
}

export function planGemv(g: PimGeometry, m: number, n: number, vectors = 1, o: { pchs?: number; rowBase?: number } = {}): GemvPlan {
  const pchs = o.pchs ?? g.pch;
  const rowBase = o.rowBase ?? 0;
  // AAM takes the input burst from row bit 0: a tile's two rows must be an even-odd pair
  if (rowBase % 2 !== 0) throw new Error(`internal: GEMV row base ${rowBase} is odd; align it to an even row`);
  const perRound = pchs * g.pcus * g.rowsPerPcu;
  const rounds = Math.ceil(m / perRound);
  const tiles = Math.ceil(n / g.inputTile);
  const evenTiles = Math.ceil(tiles / 2);
  const oddTiles = tiles - evenTiles;
  const rowsPerRound = 2 * evenTiles;
  const weightRows = rounds * rowsPerRound;
  const rowsUsed = weightRows + vectors * rounds;
  const resultRow = (v: number, r: number) => rowBase + weightRows + v * rounds + r;
  if (!inDataRange(g, rowBase, rowsUsed)) {
    fail('PIMC0703', `a ${m} x ${n} GEMV over ${vectors} vectors needs rows ${rowBase}..${rowBase + rowsUsed} per bank in one range of PIM data rows; HBM-PIM banks have ${dataRangesText(g)} (split it)`);
  }
  return { m, n, vectors, pchs, rowBase, rounds, tiles, evenTiles, oddTiles, rowsPerRound, rowsUsed, resultRow };
}

/** The output row that pCH p of the group, PCU k, GRF_B entry j holds in a round. */
function outputRow(g: PimGeometry, p: GemvPlan, round: number, pch: number, k: number, j: number): number {
  return round * p.pchs * g.pcus * g.rowsPerPcu + pch * g.pcus * g.rowsPerPcu + k * g.rowsPerPcu + j;
}

/**
 * Visits every weight burst of the layout: pseudo-channel (within the group),
 * bank, row, column, and the output row and first input it holds (16
 * consecutive inputs of that output row).
 */
export function forEachGemvBurst(
  g: PimGeometry, p: GemvPlan,
  visit: (pch: number, bank: number, row: number, col: number, out: number, in0: number) => void,
): void {
  for (let round = 0; round < p.rounds; round++) {
    for (let pch = 0; pch < p.pchs; pch++) {
      for (let k = 0; k < g.pcus; k++) {
        const outBase = outputRow(g, p, round, pch, k, 0);
        if (outBase >= p.m) continue;
        for (let tile = 0; tile < p.tiles; tile++) {
          const rowBase = p.rowBase + round * p.rowsPerRound + 2 * (tile >> 1);
          for (let c = 0; c < 64; c++) visit(pch, 2 * k + (tile & 1), rowBase + (c >> 5), c & 31, outBase + (c & 7), tile * g.inputTile + (c >> 3) * LANES);
        }
      }
    }
  }
}

/** The 16 lanes of W (FP16 bits, m x n row-major) at (out, in0..in0+15), zero past the edges. */
export function weightBurst(p: GemvPlan, w: Uint16Array, out: number, in0: number, into: Uint16Array): Uint16Array {
  for (let l = 0; l < LANES; l++) into[l] = out < p.m && in0 + l < p.n ? w[out * p.n + in0 + l]! : 0;
  return into;
}

/**
 * Where W[out][in] is in a flat array of FP16 bits: offset + out * outStride
 * + in * inStride. Row-major m x n is { offset: 0, outStride: n, inStride: 1 };
 * a stored [K, N] weight read as its transpose has outStride 1, inStride N.
 */
export interface MatrixView {
  offset: number;
  outStride: number;
  inStride: number;
}

/**
 * Writes W (FP16 bits, m x n row-major, or as `view` says) into the banks of
 * the group's pseudo-channels: forEachGemvBurst's placement, a DRAM row at a
 * time (burst c of a (round, tile) is column c mod 32 of row c div 32).
 */
export function layoutGemvWeights(g: PimGeometry, p: GemvPlan, w: Uint16Array, stores: readonly BankStore[], view: MatrixView = { offset: 0, outStride: p.n, inStride: 1 }): void {
  // With inputs strided (a transposed weight), a PCU's outputs are first
  // gathered input by input (8 neighbours in memory each time) into rows of
  // their own: each burst then copies 16 neighbours.
  const strided = view.inStride !== 1;
  const block = strided ? new Uint16Array(g.rowsPerPcu * p.n) : w;
  for (let round = 0; round < p.rounds; round++) {
    for (let pch = 0; pch < p.pchs; pch++) {
      const store = stores[pch]!;
      for (let k = 0; k < g.pcus; k++) {
        const outBase = outputRow(g, p, round, pch, k, 0);
        if (outBase >= p.m) continue;
        let offset = view.offset;
        let outStride = view.outStride;
        let first = outBase;
        if (strided) {
          gather(w, view, outBase, Math.min(g.rowsPerPcu, p.m - outBase), p.n, block);
          offset = 0;
          outStride = p.n;
          first = 0;
        }
        const m = Math.min(p.m, outBase + g.rowsPerPcu) - outBase + first;
        for (let tile = 0; tile < p.tiles; tile++) {
          const rowBase = p.rowBase + round * p.rowsPerRound + 2 * (tile >> 1);
          for (let half = 0; half < 2; half++) {
            layoutRow(m, p.n, block, offset, outStride, store.row(2 * k + (tile & 1), rowBase + half, true), first, tile * g.inputTile, half);
          }
        }
      }
    }
  }
}

/** block[j * n + i] = W[out0 + j][i] for j < rows, i < n. */
function gather(w: Uint16Array, view: MatrixView, out0: number, rows: number, n: number, block: Uint16Array): void {
  const { offset, outStride, inStride } = view;
  for (let i = 0; i < n; i++) {
    const at = offset + out0 * outStride + i * inStride;
    for (let j = 0; j < rows; j++) block[j * n + i] = w[at + j * outStride]!;
  }
}

/**
 * The 32 bursts of one DRAM row: burst c = half * 32 + col holds
 * W[outBase + c mod 8][in0 + (c div 8) * 16 .. +16], zero past the edges of
 * W (weightBurst's padding). A function of its own, called per row: the
 * compiler optimises it after a few rows, not after a loop nest has run long
 * enough to be replaced.
 */
function layoutRow(m: number, n: number, w: Uint16Array, offset: number, outStride: number, lanes: Uint16Array, outBase: number, in0: number, half: number): void {
  for (let col = 0; col < 32; col++) {
    const c = half * 32 + col;
    const out = outBase + (c & 7);
    const first = in0 + (c >> 3) * 16;
    const at = col * 16;
    const from = offset + out * outStride + first;
    // 16 = LANES, as a literal: no module binding read in the innermost loop
    if (out < m && first + 16 <= n) for (let l = 0; l < 16; l++) lanes[at + l] = w[from + l]!;
    else for (let l = 0; l < 16; l++) lanes[at + l] = out < m && first + l < n ? w[from + l]! : 0;
  }
}

/** x padded to whole tiles, FP16 bits, in the order the stream writes it: even tiles, then odd tiles. */
function inputBursts(g: PimGeometry, p: GemvPlan, x: Uint16Array): Uint16Array {
  const out = new Uint16Array(p.tiles * g.inputTile);
  const order = [...Array(p.tiles).keys()].filter((t) => t % 2 === 0).concat([...Array(p.tiles).keys()].filter((t) => t % 2 === 1));
  order.forEach((tile, i) => {
    for (let e = 0; e < g.inputTile; e++) {
      const src = tile * g.inputTile + e;
      out[i * g.inputTile + e] = src < p.n ? x[src]! : 0;
    }
  });
  return out;
}

/** Where the stream is between passes (the odd configuration row may still be open from programming). */
export interface GemvSession {
  b: StreamBuilder;
  oddConfigOpen: boolean;
  pimOn: number;
  pimOff: number;
}

/** Park, SB -> AB, program the CRF for matrices of this plan's input length. */
export function gemvPrologue(g: PimGeometry, p: GemvPlan): GemvSession {
  const b = new StreamBuilder();
  const pimOn = b.data.add(controlWord(true, true));
  const pimOff = b.data.add(controlWord(false, false));
  b.parkAndEnterAllBank();
  // The odd banks' configuration row takes the CRF and stays open for the
  // first tile's inputs; the even banks' takes the control word.
  b.act(1, ROWS.config, { tag: 'PROGRAM_CRF' });
  b.configWrite(1, CONFIG_COLS.crf, programBursts(gemvProgram(p.evenTiles, p.oddTiles)));
  void g;
  return { b, oddConfigOpen: true, pimOn, pimOff };
}

/** Every (vector, round) pass of a plan: xs holds the vectors (FP16 bits, vectors x n). */
export function gemvPasses(s: GemvSession, g: PimGeometry, p: GemvPlan, xs: Uint16Array): void {
  const b = s.b;
  const tileBursts = g.inputTile / LANES; // 8
  const rowBursts = g.burstsPerRow; // 32
  for (let v = 0; v < p.vectors; v++) {
    const first = b.data.add(inputBursts(g, p, xs.subarray(v * p.n, (v + 1) * p.n)));
    for (let round = 0; round < p.rounds; round++) {
      b.act(0, ROWS.config, { tag: 'PIM_ON' }).wr(0, ROWS.config, CONFIG_COLS.control, { data: s.pimOn }).pre(0);
      // even tiles MAC on the even banks; their inputs go through the odd banks' configuration row, and vice versa
      for (const [parity, count, data] of [[0, p.evenTiles, first], [1, p.oddTiles, first + p.evenTiles * tileBursts]] as const) {
        if (count === 0) continue;
        const cfg = 1 - parity;
        const row0 = p.rowBase + round * p.rowsPerRound;
        // Commands are ordered the way a controller with a queue would issue
        // them, overlapping the banks of the two parities: the configuration
        // row of the other parity opens while the last MACs of the previous
        // tile run, the tile's first weight row opens before its last input
        // write, and the configuration row closes during the MACs.
        if (!(cfg === 1 && s.oddConfigOpen)) b.act(cfg, ROWS.config, { tag: 'GRF_A' });
        s.oddConfigOpen = false;
        b.loop(count, { row: 2, data: tileBursts }, () => {
          b.loop(tileBursts - 1, { col: 1, data: 1 }, () => b.wr(cfg, ROWS.config, CONFIG_COLS.grfA, { data, follow: FOLLOW_COL | FOLLOW_DATA }));
          b.act(parity, row0, { tag: 'MAC', follow: FOLLOW_ROW });
          b.wr(cfg, ROWS.config, CONFIG_COLS.grfA + tileBursts - 1, { data: data + tileBursts - 1, follow: FOLLOW_DATA });
          b.loop(PRE_AFTER, { col: 1 }, () => b.rd(parity, row0, 0, { follow: FOLLOW_ROW | FOLLOW_COL }));
          b.pre(cfg);
          b.loop(rowBursts - PRE_AFTER, { col: 1 }, () => b.rd(parity, row0, PRE_AFTER, { follow: FOLLOW_ROW | FOLLOW_COL }));
          b.pre(parity);
          b.act(parity, row0 + 1, { follow: FOLLOW_ROW });
          b.loop(rowBursts - 2, { col: 1 }, () => b.rd(parity, row0 + 1, 0, { follow: FOLLOW_ROW | FOLLOW_COL }));
          b.act(cfg, ROWS.config, { tag: 'GRF_A' }); // for the next tile (closed again after the loop)
          b.loop(2, { col: 1 }, () => b.rd(parity, row0 + 1, rowBursts - 2, { follow: FOLLOW_ROW | FOLLOW_COL }));
          b.pre(parity);
        });
        b.pre(cfg);
      }
      const result = p.resultRow(v, round);
      b.act(1, result, { tag: 'STORE' });
      b.loop(g.rowsPerPcu, { col: 1 }, () => b.wr(1, result, 0, { follow: FOLLOW_COL }));
      b.pre(1);
      b.act(0, ROWS.config, { tag: 'PIM_OFF' }).wr(0, ROWS.config, CONFIG_COLS.control, { data: s.pimOff }).pre(0);
    }
  }
}

/** AB -> SB and park out. */
export function gemvEpilogue(s: GemvSession): void {
  s.b.leaveAllBank();
  s.b.park('PARK_OUT');
}

/**
 * The host reads each PCU's 8 result bursts per (vector, round) back in SB
 * mode, into read-back slots from `slotBase`; returns the slots used.
 */
export function gemvReadBack(s: GemvSession, g: PimGeometry, p: GemvPlan, slotBase = 0): number {
  const b = s.b;
  for (let k = 0; k < g.pcus; k++) {
    for (let slot = 0; slot < p.vectors * p.rounds; slot++) {
      const row = p.resultRow(Math.floor(slot / p.rounds), slot % p.rounds);
      b.act(2 * k + 1, row, { tag: k === 0 && slot === 0 ? 'READ_BACK' : undefined });
      b.loop(g.rowsPerPcu, { col: 1, data: 1 }, () => b.rd(2 * k + 1, row, 0, { data: slotBase + readbackSlot(g, slot, k), follow: FOLLOW_COL | FOLLOW_DATA }));
      b.pre(2 * k + 1);
    }
  }
  const used = p.vectors * p.rounds * g.pcus * g.rowsPerPcu;
  b.readbackBursts = Math.max(b.readbackBursts, slotBase + used);
  return used;
}

/** The stream every pseudo-channel of the plan's group runs, for `vectors` input vectors. */
export function gemvStream(g: PimGeometry, p: GemvPlan, xs: Uint16Array): PchStream {
  const s = gemvPrologue(g, p);
  gemvPasses(s, g, p, xs);
  gemvEpilogue(s);
  gemvReadBack(s, g, p);
  return s.b.build();
}

/** First read-back burst of PCU k for (vector, round) slot s: 8 bursts, one per output row. */
function readbackSlot(g: PimGeometry, slot: number, k: number): number {
  return (slot * g.pcus + k) * g.rowsPerPcu;
}

/**
 * The host side: y[v][o] = the sum of the 16 lanes of output o's GRF_B, read
 * back from the group's pseudo-channels (from read-back slot `slotBase`).
 * `fp16` adds in FP16 in lane order (the reference library), `fp32` in float32.
 */
export function reduceGemv(
  g: PimGeometry, p: GemvPlan, readbacks: readonly Uint16Array[], precision: 'fp16' | 'fp32',
  value: (bits: number) => number, round16: (x: number) => number, slotBase = 0,
): Float64Array {
  const y = new Float64Array(p.vectors * p.m);
  for (let v = 0; v < p.vectors; v++) {
    for (let round = 0; round < p.rounds; round++) {
      const slot = v * p.rounds + round;
      for (let pch = 0; pch < p.pchs; pch++) {
        const rb = readbacks[pch]!;
        for (let k = 0; k < g.pcus; k++) {
          for (let j = 0; j < g.rowsPerPcu; j++) {
            const out = outputRow(g, p, round, pch, k, j);
            if (out >= p.m) continue;
            const at = (slotBase + readbackSlot(g, slot, k) + j) * LANES;
            let acc = 0;
            for (let l = 0; l < LANES; l++) acc = precision === 'fp16' ? round16(acc + value(rb[at + l]!)) : Math.fround(acc + value(rb[at + l]!));
            y[v * p.m + out] = acc;
          }
        }
      }
    }
  }
  return y;
}
