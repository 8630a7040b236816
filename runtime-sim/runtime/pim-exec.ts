// The HBM-PIM steps of the machine runtime (docs/runtime.md): what code
// generation (compiler/codegen/pim-steps.ts) emitted for an op placed on
// 'pim', executed on the PIM simulator (runtime-sim/hbm/pim-system.ts) over
// one set of banks that lives for the whole run.
//
// 1. State: one BankStore per pseudo-channel (all of them), created once;
//    matrices stay where the load put them, step after step.
// 2. Load (not timed, like weights written before the model runs): Linear
//    weights as GEMV matrices, KV caches that are graph inputs (resident from
//    earlier decode steps), constant element-wise operands.
// 3. Steps: the host (NPU) reads the op's inputs from their DRAM homes as
//    FP16, fills them into the stream templates' data slots (the bursts the
//    host writes into GRF_A: input vectors, queries, probabilities, appended
//    cache bursts), runs the streams on every pseudo-channel that has one,
//    reduces the read-back on the host and writes the result, rounded to
//    FP16, into the output's DRAM home.
// Time: every stream is timed command by command by the DRAM/PIM simulator
// (cycles x tCK). Data the host writes into the banks or reads out of them
// outside a stream (element-wise operands and results, a KV cache that no
// PIM op put there) is charged bytes / (memory.peakGBps x streamEfficiency),
// the external bus at the rate the NPU streams DRAM. The host's own work (the
// 16-lane sums, the bias, the softmax, the masks) is not timed.
// Timing only (`functional: false`): no DRAM read, no layout, no data path;
// each distinct stream is timed once on a sampled pseudo-channel (timeWork),
// with exactly the functional run's cycles, counts and host bytes.

import { attentionOutputs, hostSoftmax, type AttentionPlan } from '../../backends/hbm-pim/attention.js';
import { collectResult, layoutOperand, type ElementwisePlan } from '../../backends/hbm-pim/elementwise.js';
import { layoutGemvWeights, reduceGemv, type GemvPlan } from '../../backends/hbm-pim/gemv.js';
import { pimGeometry, type PimGeometry } from '../../backends/hbm-pim/geometry.js';
import { dramRows, type DramTensor } from '../../backends/npu/lower/types.js';
import type { Hardware } from '../hardware/types.js';
import type { BankStore } from '../hbm/bank-store.js';
import { F16_VALUE, f16, f16BitsOf } from '../hbm/fp16.js';
import { newStores, runSystem, timeSystem, type SystemRun } from '../hbm/pim-system.js';
import type { PchStream } from '../hbm/stream.js';
import type { NpuMemoryApi } from '../npu/api.js';

/** A stream whose data table has holes the host fills at run time. */
export interface StreamTemplate {
  /** The stream, with zeros where run-time data goes. */
  stream: PchStream;
  /** Pseudo-channels that run it. */
  pchs: number[];
  /** data[at + i] = src[map[i]] (FP16 bits; 0 where map[i] < 0). */
  slots: { at: number; map: Int32Array }[];
}

/** Which matrix of a KV region: the keys as K_h (a row per key), the values as V_h^T (a row per head dimension). */
export type KvRole = 'k' | 'v';

/** Where a KV matrix comes from: put there by a KvAppend on PIM, laid out at load (a graph input), or written by the host in the step (timed). */
export type KvSource = 'resident' | 'load' | 'host';

export interface AttentionDims {
  /** Query batch, cache batch (1: shared), query heads, KV heads, queries per head, keys, head size. */
  b: number;
  kb: number;
  hq: number;
  hkv: number;
  sq: number;
  skv: number;
  hd: number;
}

/** Inputs k0..k0+plan.n of a weight as a GEMV on pseudo-channels pch..pch+plan.pchs-1. */
export interface GemvSlice {
  plan: GemvPlan;
  pch: number;
  k0: number;
  template: StreamTemplate;
}

export type PimWork =
  | {
    kind: 'gemv';
    /** Slices of the input dimension, each a GEMV on its own pseudo-channels; the host adds their results. */
    slices: GemvSlice[];
    x: DramTensor;
    y: DramTensor;
    bias: DramTensor | null;
  }
  | {
    kind: 'kv-append';
    role: KvRole;
    /** One plan per cache batch. */
    plans: AttentionPlan[];
    past: DramTensor;
    next: DramTensor;
    present: DramTensor;
    /** 'load': the past was laid out at load; 'host': the step lays it out (timed). */
    pastSource: 'load' | 'host';
    /** Per cache batch: the host's SB-mode writes of the bursts the new tokens touch. */
    templates: StreamTemplate[][];
  }
  | {
    kind: 'attention';
    plans: AttentionPlan[];
    dims: AttentionDims;
    q: DramTensor;
    k: DramTensor;
    v: DramTensor;
    mask: DramTensor | null;
    out: DramTensor;
    kSource: KvSource;
    vSource: KvSource;
    scale: number;
    maskMode: 'none' | 'bool' | 'add';
    maskFill: number;
    causal: boolean;
    /** Per cache batch: the scores and context streams. */
    scores: StreamTemplate[][];
    context: StreamTemplate[][];
  }
  | {
    kind: 'elementwise';
    op: 'add' | 'mul' | 'relu';
    plan: ElementwisePlan;
    stream: PchStream;
    /** Operands in plan order (a, b); `loaded`: a constant laid out at load. */
    inputs: { t: DramTensor; loaded: boolean }[];
    out: DramTensor;
  };

export type PimLoad =
  | {
    kind: 'gemv-weights';
    /** The slice's plan, its first pseudo-channel and first input. */
    plan: GemvPlan;
    pch: number;
    k0: number;
    w: DramTensor;
    /** W is stored [K, N] (x @ W): transposed into the GEMV's N x K. Else [N, K]. */
    transpose: boolean;
    /** W is the model's own initializer (not a constant folded for these sizes): the same values at every decode step. */
    stable?: boolean;
  }
  /** `appended`: a KV append on PIM keeps this region up to date, so banks carried from the previous decode step already hold it. */
  | { kind: 'kv'; role: KvRole; plans: AttentionPlan[]; cache: DramTensor; appended?: boolean }
  | { kind: 'operand'; plan: ElementwisePlan; base: number; t: DramTensor; shape: readonly number[] };

/** Loads that banks carried from an earlier run of the same layout already hold (model weights, caches KV appends keep). */
export const heldWhenCarried = (l: PimLoad): boolean => (l.kind === 'gemv-weights' && !!l.stable) || (l.kind === 'kv' && !!l.appended);

export interface PimState {
  g: PimGeometry;
  stores: BankStore[];
}

export interface PimStepRun {
  seconds: number;
  /** Simulated DRAM cycles of the streams (phases one after the other). */
  cycles: number;
  /** Bytes the host moved into or out of the banks outside a stream. */
  hostBytes: number;
  commands: Record<string, number>;
  triggers: number;
}

/** The banks of every pseudo-channel, empty. */
export function newPimState(hw: Hardware): PimState {
  const g = pimGeometry(hw);
  return { g, stores: newStores(g.pch, g.banks) };
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** FP16 bits of values (rounded to FP16 first); a plain loop: weight matrices pass through here. */
function bitsOf(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = f16BitsOf(f16(values[i]!));
  return out;
}

/**
 * FP16 bits of an f16 tensor in DRAM, as bitsOf(readF16(...)) gives them: the
 * stored bits, except a NaN, which that round trip makes the one NaN its
 * conversions produce (computed, for the rare NaN, exactly that way).
 */
function readBits(npu: NpuMemoryApi, t: DramTensor, out?: Uint16Array): Uint16Array {
  if (t.dtype !== 'f16') throw new Error(`internal: PIM operand at ${t.addr} is ${t.dtype}, not f16`);
  const n = elements(t.shape);
  let bits: Uint16Array;
  if (t.strides) {
    // a KV cache inside its append's output (compiler/codegen/dram-plan.ts): a row at a time
    const all = out ?? new Uint16Array(n);
    dramRows(t, (from, addr, len) => all.set(npu.readF16Bits(addr, len), from));
    bits = all;
  } else bits = npu.readF16Bits(t.addr, n, out);
  for (let i = 0; i < n; i++) {
    const b = bits[i]!;
    if ((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0) bits[i] = f16BitsOf(f16(Math.fround(F16_VALUE[b]!)));
  }
  return bits;
}

/**
 * src (row-major, shape `from`) broadcast to shape `to` (dims aligned on
 * the right; a dim of 1 repeats).
 */
export function broadcastTo(src: ArrayLike<number>, from: readonly number[], to: readonly number[]): Float64Array {
  const out = new Float64Array(elements(to));
  const r = to.length;
  const f = [...new Array<number>(r - from.length).fill(1), ...from];
  const strides = new Array<number>(r).fill(0);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    strides[i] = f[i] === 1 ? 0 : s;
    s *= f[i]!;
  }
  const idx = new Array<number>(r).fill(0);
  let at = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = src[at]!;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      at += strides[d]!;
      if (idx[d]! < to[d]!) break;
      at -= strides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The streams of `templates` with their slots filled from `src`, one entry per pseudo-channel. */
function fill(templates: readonly StreamTemplate[], src: Uint16Array, pch: number): (PchStream | undefined)[] {
  const streams: (PchStream | undefined)[] = new Array(pch).fill(undefined);
  for (const t of templates) {
    const data = t.stream.data.slice();
    for (const s of t.slots) for (let i = 0; i < s.map.length; i++) data[s.at + i] = s.map[i]! < 0 ? 0 : src[s.map[i]!]!;
    const filled = { ...t.stream, data };
    for (const p of t.pchs) streams[p] = filled;
  }
  return streams;
}

/**
 * Lays out a KV matrix of every head and cache batch: `cache` holds FP16
 * bits [kb, hkv, tokens, hd]; keys from `tokens` on (not yet appended) are zero.
 */
export function layoutKv(g: PimGeometry, plans: readonly AttentionPlan[], role: KvRole, cache: Uint16Array, tokens: number, stores: BankStore[]): void {
  plans.forEach((p, bi) => {
    const { hkv, skv, hd } = p.shape;
    p.heads.forEach((h, i) => {
      const m = new Uint16Array(skv * hd);
      const base = (bi * hkv + i) * tokens * hd;
      for (let t = 0; t < Math.min(tokens, skv); t++) {
        for (let d = 0; d < hd; d++) m[role === 'k' ? t * hd + d : d * skv + t] = cache[base + t * hd + d]!;
      }
      layoutGemvWeights(g, role === 'k' ? h.k : h.v, m, stores.slice(h.pch, h.pch + h.pchs));
    });
  });
}

/** Load time (not timed): everything that is in the banks before the model runs. */
export function loadPim(loads: readonly PimLoad[], st: PimState, npu: NpuMemoryApi): void {
  // a weight's bits, read once for all its slices (they follow one another), into one buffer for all weights
  let scratch = new Uint16Array(0);
  let last: DramTensor | undefined;
  for (const l of loads) {
    if (l.kind === 'gemv-weights') {
      if (l.w !== last) {
        const n = elements(l.w.shape);
        if (scratch.length < n) scratch = new Uint16Array(n);
        readBits(npu, l.w, scratch);
        last = l.w;
      }
      const m = l.plan.m;
      const k = l.w.shape[l.transpose ? 0 : 1]!;
      // W^T[j][k0 + i]: w[(k0 + i) * m + j] when stored [K, N], else w[j * k + k0 + i]
      const view = l.transpose ? { offset: l.k0 * m, outStride: 1, inStride: m } : { offset: l.k0, outStride: k, inStride: 1 };
      layoutGemvWeights(st.g, l.plan, scratch, st.stores.slice(l.pch, l.pch + l.plan.pchs), view);
    } else if (l.kind === 'kv') {
      layoutKv(st.g, l.plans, l.role, readBits(npu, l.cache), l.cache.shape[l.cache.shape.length - 2]!, st.stores);
    } else {
      const values = broadcastTo(npu.readF16(l.t.addr, elements(l.t.shape)), l.t.shape, l.shape);
      layoutOperand(st.g, l.plan, bitsOf(values), l.base, st.stores);
    }
  }
}

/** Runs a set of streams and adds its counts to `acc`. */
function run(streams: PchStream | (PchStream | undefined)[], st: PimState, hw: Hardware, acc: PimStepRun): SystemRun {
  return add(runSystem(streams, st.stores, { hw }), acc);
}

function add(r: SystemRun, acc: PimStepRun): SystemRun {
  acc.cycles += r.cycles;
  acc.triggers += r.triggers;
  for (const [k, v] of Object.entries(r.commands)) acc.commands[k] = (acc.commands[k] ?? 0) + v;
  return r;
}

export interface PimRunOptions {
  /**
   * false: timing only (no DRAM read, no bank layout, no data path, no
   * result; each distinct stream timed once, timeWork). The same cycles,
   * seconds, commands, triggers and host bytes as a functional run. Default true.
   */
  functional?: boolean;
}

/** Executes one PIM step: functional results into the DRAM homes, and its time. */
export function runPimWork(w: PimWork, st: PimState, npu: NpuMemoryApi, hw: Hardware, o: PimRunOptions = {}): PimStepRun {
  const acc: PimStepRun = { seconds: 0, cycles: 0, hostBytes: 0, commands: {}, triggers: 0 };
  if (o.functional === false) timeWork(w, st.g, hw, acc);
  else if (w.kind === 'gemv') gemv(w, st, npu, hw, acc);
  else if (w.kind === 'kv-append') kvAppend(w, st, npu, hw, acc);
  else if (w.kind === 'attention') attention(w, st, npu, hw, acc);
  else elementwise(w, st, npu, hw, acc);
  const busBytesPerSecond = hw.memory.peakGBps * hw.memory.streamEfficiency * 1e9;
  acc.seconds = acc.cycles * hw.memory.hbm!.tCKns * 1e-9 + acc.hostBytes / busBytesPerSecond;
  return acc;
}

const f16Value = (b: number) => F16_VALUE[b]!;

/** FP16 bits -> their values (exact in float32), for a host write back to DRAM. */
function valuesOf(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = F16_VALUE[bits[i]!]!;
  return out;
}

/** The streams of `templates` as they are (run-time data slots left at zero), one entry per pseudo-channel: fill's placement. */
function unfilled(templates: readonly StreamTemplate[], pch: number): (PchStream | undefined)[] {
  const streams: (PchStream | undefined)[] = new Array(pch).fill(undefined);
  for (const t of templates) for (const p of t.pchs) streams[p] = t.stream;
  return streams;
}

/**
 * A step timed without its data: the phases of the functional run, in the
 * same order, each through timeSystem (every command through the channel
 * engine on one sampled pseudo-channel per distinct stream). The slots the
 * host fills are GRF_A inputs and host write bursts, which move no timing:
 * the engine reads only the stream's control words, which are no slots. Host
 * bytes are counted from the shapes, as the functional run counts them.
 */
function timeWork(w: PimWork, g: PimGeometry, hw: Hardware, acc: PimStepRun): void {
  const time = (streams: PchStream | (PchStream | undefined)[]) => add(timeSystem(streams, g.pch, { hw }), acc);
  if (w.kind === 'gemv') {
    time(unfilled(w.slices.map((s) => s.template), g.pch));
  } else if (w.kind === 'kv-append') {
    if (w.pastSource === 'host') acc.hostBytes += elements(w.past.shape) * 2;
    for (const t of w.templates) time(unfilled(t, g.pch));
  } else if (w.kind === 'attention') {
    for (const [source, t] of [[w.kSource, w.k], [w.vSource, w.v]] as const) if (source === 'host') acc.hostBytes += elements(t.shape) * 2;
    for (let bi = 0; bi < w.dims.b; bi++) {
      const ci = w.dims.kb === 1 ? 0 : bi;
      time(unfilled(w.scores[ci]!, g.pch));
      time(unfilled(w.context[ci]!, g.pch));
    }
  } else {
    for (const x of w.inputs) if (!x.loaded) acc.hostBytes += elements(w.out.shape) * 2;
    time(w.stream);
    acc.hostBytes += w.plan.size * 2;
  }
}

function gemv(w: Extract<PimWork, { kind: 'gemv' }>, st: PimState, npu: NpuMemoryApi, hw: Hardware, acc: PimStepRun): void {
  const xs = readBits(npu, w.x);
  const r = run(fill(w.slices.map((s) => s.template), xs, st.g.pch), st, hw, acc);
  // the slices' results added on the host, in the precision of its lane sums
  const host = hw.pim!.hostReduction;
  const add = host === 'fp16' ? (a: number, b: number) => f16(a + b) : (a: number, b: number) => Math.fround(a + b);
  let y: Float64Array | undefined;
  for (const s of w.slices) {
    const part = reduceGemv(st.g, s.plan, r.readbacks.slice(s.pch, s.pch + s.plan.pchs), host, f16Value, f16);
    if (!y) y = part;
    else for (let i = 0; i < y.length; i++) y[i] = add(y[i]!, part[i]!);
  }
  // the bias on the host in float32, then the FP16 store
  const m = w.slices[0]!.plan.m;
  const bias = w.bias ? npu.readF16(w.bias.addr, m) : null;
  const out = new Float32Array(y!.length);
  for (let i = 0; i < y!.length; i++) out[i] = f16(bias ? Math.fround(y![i]! + bias[i % m]!) : y![i]!);
  npu.writeF16(w.y.addr, out);
}

function kvAppend(w: Extract<PimWork, { kind: 'kv-append' }>, st: PimState, npu: NpuMemoryApi, hw: Hardware, acc: PimStepRun): void {
  const past = readBits(npu, w.past);
  const next = readBits(npu, w.next);
  const r = w.present.shape.length;
  const [sp, sn, s] = [w.past.shape[r - 2]!, w.next.shape[r - 2]!, w.present.shape[r - 2]!];
  const hd = w.present.shape[r - 1]!;
  // present = concat(past, next) along the sequence axis: the host's copy of the cache, also the op's DRAM output (not timed)
  const rowsOf = elements(w.present.shape.slice(0, r - 2));
  const present = new Uint16Array(rowsOf * s * hd);
  for (let i = 0; i < rowsOf; i++) {
    present.set(past.subarray(i * sp * hd, (i + 1) * sp * hd), i * s * hd);
    present.set(next.subarray(i * sn * hd, (i + 1) * sn * hd), (i * s + sp) * hd);
  }
  npu.writeF16(w.present.addr, valuesOf(present));
  if (w.pastSource === 'host') {
    layoutKv(st.g, w.plans, w.role, past, sp, st.stores);
    acc.hostBytes += past.length * 2;
  }
  const perBatch = present.length / w.plans.length;
  w.templates.forEach((t, bi) => run(fill(t, present.subarray(bi * perBatch, (bi + 1) * perBatch), st.g.pch), st, hw, acc));
}

function attention(w: Extract<PimWork, { kind: 'attention' }>, st: PimState, npu: NpuMemoryApi, hw: Hardware, acc: PimStepRun): void {
  const { b, kb, hq, sq, skv, hd } = w.dims;
  for (const [role, source, t] of [['k', w.kSource, w.k], ['v', w.vSource, w.v]] as const) {
    if (source !== 'host') continue;
    const bits = readBits(npu, t);
    layoutKv(st.g, w.plans, role, bits, skv, st.stores);
    acc.hostBytes += bits.length * 2;
  }
  const q = readBits(npu, w.q);
  const rows = hq * sq;
  let mask: Float64Array | null = null;
  if (w.mask) {
    const m = w.mask;
    const raw = m.dtype === 'f16' ? npu.readF16(m.addr, elements(m.shape)) : npu.readI32(m.addr, elements(m.shape));
    mask = broadcastTo(raw, m.shape, [b, hq, sq, skv]);
  }
  const out = new Float32Array(b * rows * hd);
  const host = hw.pim!.hostReduction;
  for (let bi = 0; bi < b; bi++) {
    const ci = kb === 1 ? 0 : bi;
    const plan = w.plans[ci]!;
    const scored = run(fill(w.scores[ci]!, q.subarray(bi * rows * hd, (bi + 1) * rows * hd), st.g.pch), st, hw, acc);
    // a region planned for more keys than the cache holds (pimc generate's
    // capacity): the scores of the keys not yet appended are dropped, and
    // their probabilities are zeros
    const cap = plan.shape.skv;
    const s = columns(attentionOutputs(st.g, plan, 'scores', scored.readbacks, host), rows, cap, skv);
    // on the host, before the softmax: scale, the mask (additive, or bool: fill where false), causal hiding (end-aligned)
    for (let r = 0; r < rows; r++) {
      const i = r % sq;
      for (let t = 0; t < skv; t++) {
        const at = r * skv + t;
        let x = Math.fround(s[at]! * w.scale);
        if (mask) {
          const m = mask[bi * rows * skv + at]!;
          x = w.maskMode === 'bool' ? (m ? x : w.maskFill) : Math.fround(x + m);
        }
        if (w.causal && t > i + skv - sq) x = -Infinity;
        s[at] = x;
      }
    }
    const probs = columns(hostSoftmax(s, rows, skv, 1), rows, skv, cap);
    const contexted = run(fill(w.context[ci]!, probs, st.g.pch), st, hw, acc);
    const o = attentionOutputs(st.g, plan, 'context', contexted.readbacks, host);
    for (let i = 0; i < o.length; i++) out[bi * rows * hd + i] = f16(o[i]!);
  }
  npu.writeF16(w.out.addr, out);
}

/** The first `to` columns of a rows x `from` table, zeros past `from` (the same array when to = from). */
function columns<T extends Float64Array | Uint16Array>(a: T, rows: number, from: number, to: number): T {
  if (from === to) return a;
  const out = new (a.constructor as { new (n: number): T })(rows * to);
  const n = Math.min(from, to);
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * from, r * from + n), r * to);
  return out;
}

function elementwise(w: Extract<PimWork, { kind: 'elementwise' }>, st: PimState, npu: NpuMemoryApi, hw: Hardware, acc: PimStepRun): void {
  const p = w.plan;
  const bases = [p.base.a, p.base.b];
  w.inputs.forEach((x, i) => {
    if (x.loaded) return;
    const values = broadcastTo(npu.readF16(x.t.addr, elements(x.t.shape)), x.t.shape, w.out.shape);
    layoutOperand(st.g, p, bitsOf(values), bases[i]!, st.stores);
    acc.hostBytes += values.length * 2;
  });
  run(w.stream, st, hw, acc);
  const result = collectResult(st.g, p, st.stores);
  acc.hostBytes += result.length * 2;
  npu.writeF16(w.out.addr, valuesOf(result));
}
