// Decode attention with the KV cache in the HBM-PIM banks: the scores q.K^T
// and the context P.V are GEMVs over the cache (HARDWARE.md 3.5), the
// softmax between them runs on the host (NPU) on the read-back scores.
//
// Layout, per KV head h: K_h [skv x hd] as a GEMV matrix (a row per key) and
// V_h^T [hd x skv] (a row per head dimension, the keys as inputs), both on
// the pseudo-channels of the head's group. With fewer KV heads than
// pseudo-channels each head gets a group of P / hkv pseudo-channels; with
// more, heads share pseudo-channels one after the other (rows further on).
// The query heads of a group (grouped-query attention) are the GEMV's input
// vectors, so each K/V row is read once per query head.
//
// Appending a token rewrites what the new key touches: in K_h one output row
// (8 bursts per input tile), in V_h^T one input column, i.e. one burst per
// head dimension. The host keeps the cache it wrote, so it writes whole
// bursts (no read-modify-write).

import { LANES, type BankStore } from '../../runtime-sim/hbm/bank-store.js';
import { F16_VALUE, f16, f16BitsOf } from '../../runtime-sim/hbm/fp16.js';
import type { PchStream } from '../../runtime-sim/hbm/stream.js';
import type { PimGeometry } from './geometry.js';
import {
  forEachGemvBurst, gemvEpilogue, gemvPasses, gemvPrologue, gemvReadBack, layoutGemvWeights, planGemv, reduceGemv, weightBurst, type GemvPlan,
} from './gemv.js';
import { StreamBuilder } from './stream-builder.js';

export interface AttentionShape {
  /** Query heads, KV heads (hq a multiple of hkv), keys in the cache, head size. */
  hq: number;
  hkv: number;
  skv: number;
  hd: number;
}

interface HeadPlace {
  /** First pseudo-channel of the head's group, and how many. */
  pch: number;
  pchs: number;
  /** Plans for K_h and V_h^T on that group. */
  k: GemvPlan;
  v: GemvPlan;
}

export interface AttentionPlan {
  shape: AttentionShape;
  group: number;
  heads: HeadPlace[];
}

export function planAttention(g: PimGeometry, s: AttentionShape): AttentionPlan {
  const group = s.hq / s.hkv;
  const pchs = Math.max(1, Math.floor(g.pch / s.hkv));
  // matrices start on even rows (AAM reads the input burst from row bit 0)
  const even = (r: number) => r + (r % 2);
  const kRows = even(planGemv(g, s.skv, s.hd, group, { pchs }).rowsUsed);
  const vRows = even(planGemv(g, s.hd, s.skv, group, { pchs, rowBase: kRows }).rowsUsed);
  const heads: HeadPlace[] = [];
  for (let h = 0; h < s.hkv; h++) {
    // more KV heads than pseudo-channels: they share, one after the other in the rows
    const shared = s.hkv > g.pch;
    const pch = shared ? h % g.pch : h * pchs;
    const rowBase = shared ? Math.floor(h / g.pch) * (kRows + vRows) : 0;
    const k = planGemv(g, s.skv, s.hd, group, { pchs, rowBase });
    const v = planGemv(g, s.hd, s.skv, group, { pchs, rowBase: rowBase + kRows });
    heads.push({ pch, pchs, k, v });
  }
  return { shape: s, group, heads };
}

const transpose = (a: Uint16Array, rows: number, cols: number): Uint16Array => {
  const t = new Uint16Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
};

/** Writes the cache (FP16 bits, K and V as [hkv, skv, hd]) into the banks. */
export function layoutKvCache(g: PimGeometry, p: AttentionPlan, k: Uint16Array, v: Uint16Array, stores: BankStore[]): void {
  const { skv, hd } = p.shape;
  p.heads.forEach((h, i) => {
    const group = stores.slice(h.pch, h.pch + h.pchs);
    layoutGemvWeights(g, h.k, k.subarray(i * skv * hd, (i + 1) * skv * hd), group);
    layoutGemvWeights(g, h.v, transpose(v.subarray(i * skv * hd, (i + 1) * skv * hd), skv, hd), group);
  });
}

/**
 * The streams of one phase: 'scores' (inputs: the queries, [hq, hd]) or
 * 'context' (inputs: the probabilities, [hq, skv]). One stream per
 * pseudo-channel; pseudo-channels without a head get none.
 */
export function attentionStreams(g: PimGeometry, p: AttentionPlan, phase: 'scores' | 'context', inputs: Uint16Array): (PchStream | undefined)[] {
  const width = phase === 'scores' ? p.shape.hd : p.shape.skv;
  const streams: (PchStream | undefined)[] = new Array(g.pch).fill(undefined);
  for (let pch = 0; pch < g.pch; pch++) {
    const mine = p.heads.map((h, i) => [h, i] as const).filter(([h]) => pch >= h.pch && pch < h.pch + h.pchs);
    if (mine.length === 0) continue;
    const plan = (h: HeadPlace) => (phase === 'scores' ? h.k : h.v);
    const s = gemvPrologue(g, plan(mine[0]![0]));
    for (const [h, i] of mine) gemvPasses(s, g, plan(h), inputs.subarray(i * p.group * width, (i + 1) * p.group * width));
    gemvEpilogue(s);
    let slot = 0;
    for (const [h] of mine) slot += gemvReadBack(s, g, plan(h), slot);
    streams[pch] = s.b.build();
  }
  return streams;
}

/** The host's side of a phase: each query head's outputs from the read-back (lane sums in `host` precision). */
export function attentionOutputs(g: PimGeometry, p: AttentionPlan, phase: 'scores' | 'context', readbacks: Uint16Array[], host: 'fp16' | 'fp32'): Float64Array {
  const m = phase === 'scores' ? p.shape.skv : p.shape.hd;
  const out = new Float64Array(p.shape.hq * m);
  const slots = new Map<number, number>();
  p.heads.forEach((h, i) => {
    const plan = phase === 'scores' ? h.k : h.v;
    const base = slots.get(h.pch) ?? 0;
    const y = reduceGemv(g, plan, readbacks.slice(h.pch, h.pch + h.pchs), host, (b) => F16_VALUE[b]!, f16, base);
    slots.set(h.pch, base + plan.vectors * plan.rounds * g.pcus * g.rowsPerPcu);
    out.set(y, i * p.group * m);
  });
  return out;
}

/**
 * The host's softmax between the phases, in float32: scores scaled, the max
 * subtracted, exponentials normalised; probabilities to FP16 for the banks.
 */
export function hostSoftmax(scores: Float64Array, rows: number, cols: number, scale: number): Uint16Array {
  const out = new Uint16Array(scores.length);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.fround(scores[r * cols + c]! * scale));
    let sum = 0;
    const e = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      e[c] = Math.fround(Math.exp(Math.fround(scores[r * cols + c]! * scale) - max));
      sum = Math.fround(sum + e[c]!);
    }
    for (let c = 0; c < cols; c++) out[r * cols + c] = f16BitsOf(f16(Math.fround(e[c]! / sum)));
  }
  return out;
}

/**
 * The host's commands that append token `t` (its key and value, from the
 * host's copy of the cache, [hkv, skv, hd] FP16 bits): in SB mode, per
 * touched DRAM row an ACT, the bursts' WRs and a PRE. One stream per
 * pseudo-channel that holds a head.
 */
export function kvAppendStreams(g: PimGeometry, p: AttentionPlan, t: number, k: Uint16Array, v: Uint16Array): (PchStream | undefined)[] {
  const { skv, hd } = p.shape;
  const rows = new Map<number, Map<string, { bank: number; row: number; bursts: [number, Uint16Array][] }>>();
  p.heads.forEach((h, i) => {
    const kh = k.subarray(i * skv * hd, (i + 1) * skv * hd);
    const vt = transpose(v.subarray(i * skv * hd, (i + 1) * skv * hd), skv, hd);
    for (const [plan, matrix, isK] of [[h.k, kh, true], [h.v, vt, false]] as const) {
      forEachGemvBurst(g, plan, (pch, bank, row, col, out, in0) => {
        // K: the new key's row; V^T: the burst of 16 keys that holds the new one
        if (isK ? out !== t : Math.floor(in0 / LANES) !== Math.floor(t / LANES)) return;
        const perPch = rows.get(h.pch + pch) ?? new Map();
        rows.set(h.pch + pch, perPch);
        const key = `${bank}/${row}`;
        const r = perPch.get(key) ?? { bank, row, bursts: [] };
        perPch.set(key, r);
        r.bursts.push([col, weightBurst(plan, matrix, out, in0, new Uint16Array(LANES))]);
      });
    }
  });
  return Array.from({ length: g.pch }, (_, pch) => {
    const perPch = rows.get(pch);
    if (!perPch) return undefined;
    const b = new StreamBuilder();
    let first = true;
    for (const r of perPch.values()) {
      b.act(r.bank, r.row, { tag: first ? 'KV_APPEND' : undefined });
      first = false;
      for (const [col, lanes] of r.bursts) b.wr(r.bank, r.row, col, { data: b.data.add(lanes) });
      b.pre(r.bank);
    }
    return b.build();
  });
}
