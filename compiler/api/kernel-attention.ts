// `pimc kernel attention`: one decode-attention step with the KV cache in the
// HBM-PIM banks, end to end (backends/hbm-pim/attention.ts):
//   1. the cache of skv-1 tokens is laid out in the banks, and the host
//      appends the newest token's key and value with its own SB-mode writes;
//   2. scores = K q per query head, in the banks (GEMV), read back;
//   3. the host's softmax (float32, probabilities stored as FP16);
//   4. context = V^T p per query head, in the banks, read back.
// Cycles: the three device phases, one after the other (the host softmax is
// not timed here: it runs on the NPU, whose model is a later stage).
//
// Checks: bit for bit against plain FP16 loops doing the same operations in
// the same order (gemvFp16Loop per head and the same host softmax), and
// against exact attention (float64) within a bound derived from the
// arithmetic:
//   scores: |s - s*| <= gamma_d(2^-11) * sum|k q| (the GEMV bound), Delta = max;
//   probabilities: a perturbation of every score by at most Delta scales each
//     p_j by a factor in [e^(-2 c Delta), e^(2 c Delta)] (c = 1/sqrt(hd)); the
//     float32 softmax adds gamma_(skv+3)(2^-24) and the FP16 store 2^-11, so
//     |p - p*| <= r p* with r = e^(2 c Delta) (1 + gamma32) (1 + 2^-11) - 1;
//   context: |o - o*| <= gamma_d' * sum|v p| + r * sum|v| p*.

import { attentionOutputs, attentionStreams, hostSoftmax, kvAppendStreams, layoutKvCache, planAttention, type AttentionShape } from '../../backends/hbm-pim/attention.js';
import { FP16_U, gemvBound, gemvFp16Loop } from '../../backends/hbm-pim/fp16-reference.js';
import type { PimGeometry } from '../../backends/hbm-pim/geometry.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import type { TraceEvent } from '../../runtime-sim/hbm/channel-api.js';
import { F16_VALUE } from '../../runtime-sim/hbm/fp16.js';
import { newStores, runSystem, type SystemOptions, type SystemRun } from '../../runtime-sim/hbm/pim-system.js';
import { commandCount } from '../../runtime-sim/hbm/stream.js';

export interface AttentionKernelOptions {
  seed: number;
  refresh?: boolean;
  trace?: SystemOptions['trace'];
  bitExact?: boolean;
  hostReduction?: 'fp16' | 'fp32';
}

export interface AttentionKernelResult {
  run: SystemRun;
  simulatedCommands: number;
  /** Cycles of each device phase. */
  phases: { append: number; scores: number; context: number };
  check: { bitExact: boolean | null; mismatches: number; maxAbsError: number; bound: string; withinBound: boolean };
}

/** Phases run one after the other on the same banks: cycles and counts add up. */
function sequence(runs: SystemRun[]): SystemRun {
  const commands: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.commands)) commands[k] = (commands[k] ?? 0) + v;
  return {
    cycles: runs.reduce((a, r) => a + r.cycles, 0),
    perPch: runs.flatMap((r) => r.perPch),
    commands,
    triggers: runs.reduce((a, r) => a + r.triggers, 0),
    readbacks: [],
  };
}

export function attentionKernel(
  hw: Hardware, g: PimGeometry, s: AttentionShape, values: (n: number, seed: number) => Uint16Array, o: AttentionKernelOptions,
): AttentionKernelResult {
  const { hq, hkv, skv, hd } = s;
  const plan = planAttention(g, s);
  const q = values(hq * hd, o.seed * 7919);
  const k = values(hkv * skv * hd, o.seed * 104729);
  const v = values(hkv * skv * hd, o.seed * 1299709);
  const host = o.hostReduction ?? hw.pim!.hostReduction;
  const scale = 1 / Math.sqrt(hd);

  // 1. the cache without its newest token, then the host appends it
  const last = skv - 1;
  const without = (c: Uint16Array) => {
    const copy = c.slice();
    for (let h = 0; h < hkv; h++) copy.fill(0, (h * skv + last) * hd, (h * skv + last + 1) * hd);
    return copy;
  };
  const stores = newStores(g.pch, g.banks);
  layoutKvCache(g, plan, without(k), without(v), stores);
  // the phases follow each other: trace cycles continue from the previous phase's end
  let offset = 0;
  const trace = o.trace && { pchs: o.trace.pchs, sink: (e: TraceEvent) => o.trace!.sink({ ...e, cycle: e.cycle + offset }) };
  const sys = { hw, refresh: o.refresh, trace };
  const append = kvAppendStreams(g, plan, last, k, v);
  const appended = runSystem(append, stores, sys);
  offset += appended.cycles;
  // 2. scores in the banks
  const scoreStreams = attentionStreams(g, plan, 'scores', q);
  const scored = runSystem(scoreStreams, stores, sys);
  offset += scored.cycles;
  const scores = attentionOutputs(g, plan, 'scores', scored.readbacks, host);
  // 3. host softmax, 4. context in the banks
  const probs = hostSoftmax(scores, hq, skv, scale);
  const contextStreams = attentionStreams(g, plan, 'context', probs);
  const contexted = runSystem(contextStreams, stores, sys);
  const context = attentionOutputs(g, plan, 'context', contexted.readbacks, host);
  const simulatedCommands = [append, scoreStreams, contextStreams].flat().reduce((a, st) => a + (st ? commandCount(st.items) : 0), 0);

  const check = checkAttention(s, q, k, v, scores, probs, context, host, scale, o.bitExact ?? false);
  return {
    run: sequence([appended, scored, contexted]),
    simulatedCommands,
    phases: { append: appended.cycles, scores: scored.cycles, context: contexted.cycles },
    check,
  };
}

const headOf = (c: Uint16Array, h: number, skv: number, hd: number) => c.subarray(h * skv * hd, (h + 1) * skv * hd);

function transposed(a: Uint16Array, rows: number, cols: number): Uint16Array {
  const t = new Uint16Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

function checkAttention(
  s: AttentionShape, q: Uint16Array, k: Uint16Array, v: Uint16Array,
  scores: Float64Array, probs: Uint16Array, context: Float64Array,
  host: 'fp16' | 'fp32', scale: number, bitExact: boolean,
): AttentionKernelResult['check'] {
  const { hq, hkv, skv, hd } = s;
  const group = hq / hkv;
  let mismatches = 0;
  let maxErr = 0;
  let within = true;
  const gamma32 = ((skv + 3) * 2 ** -24) / (1 - (skv + 3) * 2 ** -24);
  for (let i = 0; i < hq; i++) {
    const h = Math.floor(i / group);
    const kh = headOf(k, h, skv, hd);
    const vt = transposed(headOf(v, h, skv, hd), skv, hd);
    const qi = q.subarray(i * hd, (i + 1) * hd);
    const si = scores.subarray(i * skv, (i + 1) * skv);
    const pi = probs.subarray(i * skv, (i + 1) * skv);
    const oi = context.subarray(i * hd, (i + 1) * hd);
    if (bitExact) {
      const wantS = gemvFp16Loop(kh, qi, skv, hd, host);
      for (let j = 0; j < skv; j++) if (!Object.is(wantS[j]!, si[j]!)) mismatches++;
      const wantP = hostSoftmax(wantS, 1, skv, scale);
      const wantO = gemvFp16Loop(vt, wantP, hd, skv, host);
      for (let d = 0; d < hd; d++) if (!Object.is(wantO[d]!, oi[d]!)) mismatches++;
    }
    // exact scores, softmax and context in float64
    const exactS = new Float64Array(skv);
    let delta = 0;
    for (let j = 0; j < skv; j++) {
      let acc = 0;
      let abs = 0;
      for (let d = 0; d < hd; d++) {
        const p = F16_VALUE[kh[j * hd + d]!]! * F16_VALUE[qi[d]!]!;
        acc += p;
        abs += Math.abs(p);
      }
      exactS[j] = acc;
      const err = Math.abs(si[j]! - acc);
      const bound = gemvBound(hd, abs);
      if (err > bound) within = false;
      delta = Math.max(delta, bound);
      maxErr = Math.max(maxErr, err);
    }
    let max = -Infinity;
    for (let j = 0; j < skv; j++) max = Math.max(max, exactS[j]! * scale);
    const exactP = exactS.map((x) => Math.exp(x * scale - max));
    const sum = exactP.reduce((a, b) => a + b, 0);
    for (let j = 0; j < skv; j++) exactP[j]! /= sum;
    const r = Math.exp(2 * scale * delta) * (1 + gamma32) * (1 + FP16_U) - 1;
    for (let d = 0; d < hd; d++) {
      let exact = 0;
      let absDevice = 0;
      let absExact = 0;
      for (let j = 0; j < skv; j++) {
        const vj = F16_VALUE[vt[d * skv + j]!]!;
        exact += vj * exactP[j]!;
        absDevice += Math.abs(vj * F16_VALUE[pi[j]!]!);
        absExact += Math.abs(vj) * exactP[j]!;
      }
      const err = Math.abs(oi[d]! - exact);
      if (err > gemvBound(skv, absDevice) + r * absExact) within = false;
      maxErr = Math.max(maxErr, err);
    }
  }
  return {
    bitExact: bitExact ? mismatches === 0 : null,
    mismatches,
    maxAbsError: maxErr,
    bound: 'scores: gamma_d(2^-11) sum|k q|; context: gamma_d\'(2^-11) sum|v p| + r sum|v| p*, r = e^(2 Delta/sqrt(hd)) (1 + gamma_(skv+3)(2^-24)) (1 + 2^-11) - 1',
    withinBound: within,
  };
}
