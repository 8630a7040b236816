// Code generation for ops placed on HBM-PIM (docs/runtime.md): each op
// becomes a step the runtime executes on the PIM simulator
// (runtime-sim/runtime/pim-exec.ts), plus what must be in the banks before
// the model runs (loads).
//
// 1. Bank rows. Every pseudo-channel has the same rows for PIM data (RA12 =
//    0: geometry.dataRanges, rows 0-4095 and 8192-12287 with 16K rows per
//    bank). Matrices that stay in the banks (Linear weights, KV caches,
//    constant element-wise operands) get their own region, first-fit from
//    the bottom of either range and never across a range boundary, each
//    starting on an even row (a GEMV tile's two rows are an even-odd pair);
//    element-wise operands and results written per call share a region at
//    the top of the last range (PimRows, backends/hbm-pim/geometry.ts; the
//    placement checks its capacity with the same allocator). One allocator
//    for all pseudo-channels: a matrix on a few of them reserves its rows on
//    all (simple, wasteful for big models). Running out is PIMC0703 naming
//    the op.
// 2. pimc.Linear / MatMul / Gemm with a constant weight: W^T (m = N outputs,
//    n = K inputs) as a GEMV matrix on as few pseudo-channels as give the
//    fewest output rounds; with pseudo-channels to spare, K is cut into
//    slices of whole input tiles, one per group of them, and the host adds
//    the partial sums. The rows of x are the GEMV's input vectors (batched).
//    Load: the weight slices. Step: a stream template per slice whose GRF_A
//    bursts the runtime fills with x.
// 3. KV caches: a region per attention and cache batch (keyed by the
//    pimc.Attention op that reads the cache, whatever its device) holding K_h
//    and V_h^T of every KV head in the layout of backends/hbm-pim/attention.ts.
//    A KvAppend on PIM is one of its two halves: load lays out the past (a
//    graph input: resident from earlier steps), the step appends the new
//    tokens with SB-mode writes of the bursts they touch. An Attention on PIM
//    runs scores and context streams on the region; K or V that no KvAppend
//    on PIM put there is laid out at load (graph inputs) or by the step.
// 4. Add / Mul / Relu: operands broadcast to the output's shape and laid out
//    in the banks (constants at load, the rest by the step), the kernel's
//    stream, the result read back by the host.

import { fail, isPimcError, q } from '../../ir/diagnostics.js';
import type { Graph, Op, Value } from '../../ir/graph.js';
import { planAttention, type AttentionPlan } from '../../backends/hbm-pim/attention.js';
import { elementwiseStream, planElementwise } from '../../backends/hbm-pim/elementwise.js';
import { forEachGemvBurst, gemvEpilogue, gemvPasses, gemvPrologue, gemvReadBack, planGemv, type GemvPlan } from '../../backends/hbm-pim/gemv.js';
import { dataRangesText, gemvSplit, PimRows, pimGeometry, type PimGeometry } from '../../backends/hbm-pim/geometry.js';
import { StreamBuilder } from '../../backends/hbm-pim/stream-builder.js';
import type { DramTensor } from '../../backends/npu/lower/types.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import { LANES } from '../../runtime-sim/hbm/bank-store.js';
import { isLoop, type StreamItem } from '../../runtime-sim/hbm/stream.js';
import type {
  AttentionDims, KvRole, KvSource, PimLoad, PimWork, StreamTemplate,
} from '../../runtime-sim/runtime/pim-exec.js';
import type { DramPlan } from './dram-plan.js';

export interface PimCode {
  /** What is laid out in the banks before the model runs (not timed). */
  loads: PimLoad[];
  /**
   * Where the loads go (rows, pseudo-channels, shapes; not the values): two
   * runs with the same key lay their weights and KV regions out alike, so
   * banks carried from one to the next already hold them.
   */
  layout: string;
  /** Rows per bank: taken for resident matrices, for per-call operands, and usable. */
  rows: { resident: number; perCall: number; usable: number };
}

/** A step as built, with the loads it added (what the test seam sees). */
export interface BuiltPimStep {
  op: Op;
  work: PimWork;
  loads: PimLoad[];
}

let stepHook: ((b: BuiltPimStep) => BuiltPimStep) | undefined;

/** Test seam: every PIM step passes through `f` as it is built (a fault injected on purpose). Returns the restore function. */
export function overridePimSteps(f: (b: BuiltPimStep) => BuiltPimStep): () => void {
  const before = stepHook;
  stepHook = f;
  return () => {
    stepHook = before;
  };
}

const even = (r: number) => r + (r % 2);
const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Runs `f`, naming the op in any coded error it raises. */
function withOp<T>(op: Op, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isPimcError(e)) fail(e.code, `op ${q(op.name)} on HBM-PIM: ${e.detail}`);
    throw e;
  }
}

/** Bank rows (PimRows: resident regions first-fit in the PIM data ranges, per-call scratch at the top of the last), running out naming the op. */
class RowAllocator {
  private readonly rows: PimRows;

  constructor(private readonly g: PimGeometry) {
    this.rows = new PimRows(g.dataRanges);
  }

  get usable(): number {
    return this.rows.usable;
  }

  private full(op: Op, rows: number, what: string): never {
    const { resident, perCall } = this.rows.used;
    return fail('PIMC0703', `op ${q(op.name)} needs ${rows} rows per bank for ${what}, but HBM-PIM banks have ${this.usable} rows for PIM data (${dataRangesText(this.g)}, RA12 = 0) and ${resident + perCall} are taken (at most ${this.rows.largestFree} left in one range); place fewer ops on pim (or smaller ones)`);
  }

  resident(rows: number, op: Op, what: string): number {
    return this.rows.resident(rows) ?? this.full(op, even(rows), what);
  }

  perCall(rows: number, op: Op, what: string): number {
    return this.rows.perCall(rows) ?? this.full(op, even(rows), what);
  }

  get used(): { resident: number; perCall: number } {
    return this.rows.used;
  }
}

interface KvRegion {
  dims: AttentionDims;
  /** One per cache batch. */
  plans: AttentionPlan[];
}

const isOp = (op: Op | null | undefined, domain: string, type: string): boolean => !!op && op.domain === domain && op.type === type;

/**
 * Where GEMV input vectors go in a stream's data table: vector v's inputs
 * padded to whole tiles, even tiles first, then odd ones (gemv.ts
 * inputBursts), from `src[offset + v * stride + i]`.
 */
function inputMap(g: PimGeometry, p: GemvPlan, offset: number, stride = p.n): Int32Array {
  const order = [...range(p.tiles).filter((t) => t % 2 === 0), ...range(p.tiles).filter((t) => t % 2 === 1)];
  const map = new Int32Array(p.vectors * p.tiles * g.inputTile).fill(-1);
  for (let v = 0; v < p.vectors; v++) {
    order.forEach((tile, i) => {
      for (let e = 0; e < g.inputTile; e++) {
        const x = tile * g.inputTile + e;
        if (x < p.n) map[(v * p.tiles + i) * g.inputTile + e] = offset + v * stride + x;
      }
    });
  }
  return map;
}

/** Passes of one plan appended to a session, with the slot its input vectors take. */
function passes(s: ReturnType<typeof gemvPrologue>, g: PimGeometry, p: GemvPlan, offset: number, stride = p.n): StreamTemplate['slots'][number] {
  const at = s.b.data.size * LANES;
  gemvPasses(s, g, p, new Uint16Array(p.vectors * p.n));
  const map = inputMap(g, p, offset, stride);
  if ((s.b.data.size * LANES) - at !== map.length) throw new Error('internal: GEMV passes wrote data other than their input vectors');
  return { at, map };
}

/**
 * The GEMV stream of a plan on pseudo-channels pch..pch+pchs-1, its input
 * vectors inputs k0.. of rows `stride` apart (a slice of x's rows).
 */
export function gemvTemplate(g: PimGeometry, p: GemvPlan, pch = 0, k0 = 0, stride = p.n): StreamTemplate {
  const s = gemvPrologue(g, p);
  const slot = passes(s, g, p, k0, stride);
  gemvEpilogue(s);
  gemvReadBack(s, g, p);
  return { stream: s.b.build(), pchs: range(p.pchs).map((i) => pch + i), slots: [slot] };
}

/**
 * The streams of an attention phase (attentionStreams of the backend, with
 * the inputs left as slots): pseudo-channels that hold the same heads share
 * a template. Inputs: queries [hq, hd] or probabilities [hq, skv].
 */
export function attentionTemplates(g: PimGeometry, p: AttentionPlan, phase: 'scores' | 'context'): StreamTemplate[] {
  const width = phase === 'scores' ? p.shape.hd : p.shape.skv;
  const plan = (i: number) => (phase === 'scores' ? p.heads[i]!.k : p.heads[i]!.v);
  const groups = new Map<string, number[]>();
  for (let pch = 0; pch < g.pch; pch++) {
    const mine = p.heads.flatMap((h, i) => (pch >= h.pch && pch < h.pch + h.pchs ? [i] : []));
    if (mine.length) groups.set(mine.join(','), [...(groups.get(mine.join(',')) ?? []), pch]);
  }
  return [...groups].map(([key, pchs]) => {
    const mine = key.split(',').map(Number);
    const s = gemvPrologue(g, plan(mine[0]!));
    const slots = mine.map((i) => passes(s, g, plan(i), i * p.group * width));
    gemvEpilogue(s);
    let slot = 0;
    for (const i of mine) slot += gemvReadBack(s, g, plan(i), slot);
    return { stream: s.b.build(), pchs, slots };
  });
}

/**
 * The host's SB-mode writes of the K (or V^T) bursts that tokens t0..t1-1
 * touch, with their lanes as slots into the cache [hkv, skv, hd] (the host's
 * copy: whole bursts, no read-modify-write), as kvAppendStreams does for both.
 */
export function kvAppendTemplates(g: PimGeometry, p: AttentionPlan, role: KvRole, t0: number, t1: number, keys = p.shape.skv): StreamTemplate[] {
  // `keys`: keys in the host's copy of the cache, which the slots index; the region may hold more (kvCapacity)
  const { hd } = p.shape;
  const skv = keys;
  const rows = new Map<number, Map<string, { bank: number; row: number; bursts: [number, number[]][] }>>();
  p.heads.forEach((h, i) => {
    const plan = role === 'k' ? h.k : h.v;
    forEachGemvBurst(g, plan, (pch, bank, row, col, out, in0) => {
      const burst = Math.floor(in0 / LANES);
      if (role === 'k' ? out < t0 || out >= t1 : burst < Math.floor(t0 / LANES) || burst > Math.floor((t1 - 1) / LANES)) return;
      const lanes = range(LANES).map((l) => {
        const [key, d] = role === 'k' ? [out, in0 + l] : [in0 + l, out];
        return key < skv && d < hd ? (i * skv + key) * hd + d : -1;
      });
      const perPch = rows.get(h.pch + pch) ?? new Map();
      rows.set(h.pch + pch, perPch);
      const r = perPch.get(`${bank}/${row}`) ?? { bank, row, bursts: [] };
      perPch.set(`${bank}/${row}`, r);
      r.bursts.push([col, lanes]);
    });
  });
  return [...rows].map(([pch, perPch]) => {
    const b = new StreamBuilder();
    const map: number[] = [];
    let first = true;
    for (const r of perPch.values()) {
      b.act(r.bank, r.row, { tag: first ? 'KV_APPEND' : undefined });
      first = false;
      for (const [col, lanes] of r.bursts) {
        b.wr(r.bank, r.row, col, { data: b.data.add(new Uint16Array(LANES)) });
        map.push(...lanes);
      }
      b.pre(r.bank);
    }
    return { stream: b.build(), pchs: [pch], slots: [{ at: 0, map: Int32Array.from(map) }] };
  });
}

/** The placement of every load in the banks, as text (PimCode.layout). */
function layoutKey(loads: readonly PimLoad[]): string {
  const gemv = (p: GemvPlan) => [p.m, p.n, p.vectors, p.pchs, p.rowBase];
  const attention = (ps: readonly AttentionPlan[]) => ps.map((p) => p.heads.map((h) => [h.pch, h.pchs, gemv(h.k), gemv(h.v)]));
  return JSON.stringify(loads.map((l) => (l.kind === 'gemv-weights' ? [l.kind, l.pch, l.k0, l.transpose, !!l.stable, gemv(l.plan)]
    : l.kind === 'kv' ? [l.kind, l.role, !!l.appended, attention(l.plans)]
      : [l.kind, l.base, l.shape, l.plan.op, l.plan.size, l.plan.rows])));
}

/**
 * The templates of every cache batch's region: built for the first, and for
 * the others the same streams with their data rows moved by the distance
 * between the regions (the regions differ only in where they start; building
 * each anew costs a full scan of its layout per batch).
 */
function perBatch(plans: readonly AttentionPlan[], build: (p: AttentionPlan) => StreamTemplate[]): StreamTemplate[][] {
  const first = build(plans[0]!);
  return plans.map((p, bi) => {
    if (bi === 0) return first;
    const delta = regionDelta(plans[0]!, p);
    return delta === undefined ? build(p) : first.map((t) => shiftedRows(t, delta));
  });
}

/** How many rows further `p`'s region starts than `p0`'s, when every matrix of it moved by that much (else undefined). */
export function regionDelta(p0: AttentionPlan, p: AttentionPlan): number | undefined {
  const d = p.heads[0]!.k.rowBase - p0.heads[0]!.k.rowBase;
  const same = (a: GemvPlan, b: GemvPlan) => b.rowBase - a.rowBase === d && a.m === b.m && a.n === b.n && a.vectors === b.vectors && a.pchs === b.pchs;
  const alike = p.heads.length === p0.heads.length && p.heads.every((h, i) => h.pch === p0.heads[i]!.pch && h.pchs === p0.heads[i]!.pchs && same(p0.heads[i]!.k, h.k) && same(p0.heads[i]!.v, h.v));
  return alike && d % 2 === 0 ? d : undefined;
}

/** A template with its data rows (RA12 = 0) `delta` rows further; reserved rows (modes, configuration) stay, and so does everything else. */
export function shiftedRows(t: StreamTemplate, delta: number): StreamTemplate {
  if (delta === 0) return t;
  const move = (items: readonly StreamItem[]): StreamItem[] => items.map((i): StreamItem => {
    if (isLoop(i)) return { ...i, body: move(i.body) };
    return i.kind === 'PRE' || i.kind === 'REF' || (i.row & TRIGGER_ROW_BIT) !== 0 ? i : { ...i, row: i.row + delta };
  });
  return { ...t, stream: { ...t.stream, items: move(t.stream.items) } };
}

/** Rows with this bit set are reserved (HARDWARE.md 3.3) and never hold PIM data. */
const TRIGGER_ROW_BIT = 0x1000;

function attr(op: Op, name: string): number | string | undefined {
  const a = op.attrs.get(name);
  return a && (a.kind === 'int' || a.kind === 'float' || a.kind === 'string') ? a.value : undefined;
}

/** Builds the PIM steps of one graph; `finish` closes the bank-row plan. */
export class PimCodegen {
  readonly geometry: PimGeometry;
  private readonly rows: RowAllocator;
  private readonly loads: PimLoad[] = [];
  private readonly regions = new Map<Op, KvRegion>();
  private readonly consumers = new Map<Value, Op[]>();

  /**
   * `kvCapacity`: KV regions hold at least this many keys (pimc generate plans
   * them for its last step, so every step lays them out alike and the banks
   * can carry the cache from step to step; attention then runs over the
   * whole region, its keys past the cache masked on the host).
   */
  constructor(private readonly graph: Graph, hw: Hardware, private readonly dram: DramPlan, private readonly kvCapacity = 0) {
    this.geometry = pimGeometry(hw);
    this.rows = new RowAllocator(this.geometry);
    for (const op of graph.ops) for (const v of op.inputs) if (v) this.consumers.set(v, [...(this.consumers.get(v) ?? []), op]);
  }

  private tensor(v: Value, op: Op, what: string): DramTensor {
    const t = this.dram.tensors.get(v)!;
    if (t.dtype !== 'f16') fail('PIMC0809', `op ${q(op.name)} is placed on pim, but its ${what} ${q(v.name)} is not floating point; HBM-PIM computes on FP16`);
    return t;
  }

  step(op: Op): PimWork {
    const before = this.loads.length;
    const work = this.build(op);
    const built = stepHook ? stepHook({ op, work, loads: this.loads.splice(before) }) : undefined;
    if (built) this.loads.push(...built.loads);
    return built ? built.work : work;
  }

  finish(): PimCode {
    return { loads: this.loads, layout: layoutKey(this.loads), rows: { ...this.rows.used, usable: this.rows.usable } };
  }

  private build(op: Op): PimWork {
    const x = op.inputs[0];
    if (isOp(op, 'pimc', 'Linear')) return this.gemv(op, op.inputs[1]!, op.inputs[2] ?? null, Number(attr(op, 'transB') ?? 0) !== 0);
    if (isOp(op, '', 'MatMul') && op.inputs[1]?.constant) return this.gemv(op, op.inputs[1], null, false);
    if (isOp(op, '', 'Gemm') && op.inputs[1]?.constant) {
      if (Number(attr(op, 'transA') ?? 0) !== 0 || Number(attr(op, 'alpha') ?? 1) !== 1 || (op.inputs[2] && Number(attr(op, 'beta') ?? 1) !== 1)) {
        fail('PIMC0809', `op ${q(op.name)} (Gemm) is placed on pim, which runs it only as x @ W + C (transA = 0, alpha = beta = 1)`);
      }
      return this.gemv(op, op.inputs[1], op.inputs[2] ?? null, Number(attr(op, 'transB') ?? 0) !== 0);
    }
    if (isOp(op, 'pimc', 'KvAppend')) return this.kvAppend(op);
    if (isOp(op, 'pimc', 'Attention')) return this.attention(op);
    if (x && op.domain === '' && (op.type === 'Add' || op.type === 'Mul' || op.type === 'Relu')) return this.elementwise(op, op.type === 'Add' ? 'add' : op.type === 'Mul' ? 'mul' : 'relu');
    return fail('PIMC0809', `op ${q(op.name)} (${op.domain ? `${op.domain}.` : ''}${op.type}) is placed on pim; the PIM runtime runs Linear/MatMul/Gemm with a constant weight, KvAppend, Attention, Add, Mul and Relu`);
  }

  private gemv(op: Op, w: Value, bias: Value | null, transB: boolean): PimWork {
    const g = this.geometry;
    const xt = this.tensor(op.inputs[0]!, op, 'input');
    const wt = this.tensor(w, op, 'weight');
    if (!w.constant || wt.shape.length !== 2) fail('PIMC0809', `op ${q(op.name)} is placed on pim, which keeps a 2-D constant weight in its banks; ${q(w.name)} is not one`);
    const [k, n] = transB ? [wt.shape[1]!, wt.shape[0]!] : [wt.shape[0]!, wt.shape[1]!];
    const vectors = elements(xt.shape) / k;
    // as few pseudo-channels as still give the fewest rounds of outputs; with
    // pseudo-channels to spare, the inputs are cut into slices of whole tiles,
    // each on its own group, and the host adds the partial sums (the split
    // the placement's cost model and capacity check assume, compiler/placement)
    const { pchs, perSlice, cuts } = gemvSplit(g, k, n);
    const need = withOp(op, () => planGemv(g, n, perSlice, vectors, { pchs })).rowsUsed;
    const rowBase = this.rows.resident(need, op, `its ${k} x ${n} weight and ${vectors} result row(s)`);
    const slices = cuts.map(([k0, k1], i) => {
      const plan = withOp(op, () => planGemv(g, n, k1 - k0, vectors, { pchs, rowBase }));
      this.loads.push({ kind: 'gemv-weights', plan, pch: i * pchs, k0, w: wt, transpose: !transB, stable: w.constant!.source.kind === 'file' });
      return { plan, pch: i * pchs, k0, template: gemvTemplate(g, plan, i * pchs, k0, k) };
    });
    const b = bias ? this.tensor(bias, op, 'bias') : null;
    if (b && elements(b.shape) !== n) fail('PIMC0809', `op ${q(op.name)} on pim: its bias ${q(bias!.name)} is not one row of ${n}`);
    return { kind: 'gemv', slices, x: xt, y: this.tensor(op.outputs[0]!, op, 'output'), bias: b };
  }

  /** The KV region of an attention op (or of a KV append no attention reads), made on first use. */
  private region(key: Op, dims: AttentionDims): KvRegion {
    const known = this.regions.get(key);
    if (known) return known;
    const g = this.geometry;
    const shape = { hq: dims.hq * dims.sq, hkv: dims.hkv, skv: Math.max(dims.skv, this.kvCapacity), hd: dims.hd };
    const plan = withOp(key, () => planAttention(g, shape));
    const size = even(Math.max(...plan.heads.map((h) => Math.max(h.k.rowBase + h.k.rowsUsed, h.v.rowBase + h.v.rowsUsed))));
    // one region per cache batch (each inside one range of PIM data rows)
    const bases = range(dims.kb).map((bi) => this.rows.resident(size, key, `the KV cache of ${dims.hkv} heads x ${dims.skv} keys x ${dims.hd}${dims.kb > 1 ? ` (batch ${bi} of ${dims.kb})` : ''}`));
    const at = (by: number): AttentionPlan => ({
      shape: plan.shape,
      group: plan.group,
      heads: plan.heads.map((h) => ({
        pch: h.pch,
        pchs: h.pchs,
        k: planGemv(g, h.k.m, h.k.n, h.k.vectors, { pchs: h.pchs, rowBase: h.k.rowBase + by }),
        v: planGemv(g, h.v.m, h.v.n, h.v.vectors, { pchs: h.pchs, rowBase: h.v.rowBase + by }),
      })),
    });
    const r = { dims, plans: bases.map(at) };
    this.regions.set(key, r);
    return r;
  }

  /** The region and role of a KV cache value: the attention that reads it decides. */
  private cacheRegion(present: Value, op: Op): { region: KvRegion; role: KvRole } {
    const att = (this.consumers.get(present) ?? []).find((c) => isOp(c, 'pimc', 'Attention') && (c.inputs[1] === present || c.inputs[2] === present));
    if (att) return { region: this.region(att, this.attentionDims(att)), role: att.inputs[1] === present ? 'k' : 'v' };
    const s = this.tensor(present, op, 'output').shape;
    const r = s.length;
    if (r !== 3 && r !== 4) fail('PIMC0809', `op ${q(op.name)} on pim: a KV cache must be [b, heads, keys, head size] or [heads, keys, head size]`);
    const kb = r === 4 ? s[0]! : 1;
    return { region: this.region(op, { b: kb, kb, hq: s[r - 3]!, hkv: s[r - 3]!, sq: 1, skv: s[r - 2]!, hd: s[r - 1]! }), role: 'k' };
  }

  private attentionDims(op: Op): AttentionDims {
    const [qs, ks, vs] = [0, 1, 2].map((i) => this.tensor(op.inputs[i]!, op, ['queries', 'keys', 'values'][i]!).shape);
    const r = qs!.length;
    const [hq, sq, hd] = qs!.slice(r - 3) as [number, number, number];
    const [hkv, skv] = ks!.slice(r - 3) as [number, number];
    const dims = { b: r === 4 ? qs![0]! : 1, kb: r === 4 ? ks![0]! : 1, hq, hkv, sq, skv, hd };
    if (vs![r - 1] !== hd) fail('PIMC0809', `op ${q(op.name)}: the PIM KV layout needs values as wide as keys (${vs![r - 1]} and ${hd})`);
    if (dims.kb !== 1 && dims.kb !== dims.b) fail('PIMC0809', `op ${q(op.name)}: cache batch ${dims.kb} is neither 1 nor the query batch ${dims.b}`);
    return dims;
  }

  private kvAppend(op: Op): PimWork {
    const [pastV, nextV] = [op.inputs[0]!, op.inputs[1]!];
    const present = this.tensor(op.outputs[0]!, op, 'output');
    const r = present.shape.length;
    const axis = Number(attr(op, 'axis') ?? 2);
    if ((axis + r) % r !== r - 2) fail('PIMC0809', `op ${q(op.name)} on pim appends along axis ${axis}; the PIM KV layout appends keys (axis ${r - 2})`);
    const { region, role } = this.cacheRegion(op.outputs[0]!, op);
    const past = this.tensor(pastV, op, 'past cache');
    const next = this.tensor(nextV, op, 'new entries');
    const sp = past.shape[r - 2]!;
    const pastSource = this.graph.inputs.includes(pastV) ? 'load' : 'host';
    if (pastSource === 'load') this.loads.push({ kind: 'kv', role, plans: region.plans, cache: past, appended: true });
    const keys = sp + next.shape[r - 2]!;
    const templates = perBatch(region.plans, (p) => kvAppendTemplates(this.geometry, p, role, sp, keys, keys));
    return { kind: 'kv-append', role, plans: region.plans, past, next, present, pastSource, templates };
  }

  private attention(op: Op): PimWork {
    const dims = this.attentionDims(op);
    const region = this.region(op, dims);
    const source = (i: 1 | 2): KvSource => {
      const v = op.inputs[i]!;
      const role: KvRole = i === 1 ? 'k' : 'v';
      const p = v.producer;
      if (p && isOp(p, 'pimc', 'KvAppend') && p.device === 'pim') {
        const c = this.cacheRegion(v, p);
        if (c.region === region && c.role === role) return 'resident';
      }
      if (!this.graph.inputs.includes(v)) return 'host';
      this.loads.push({ kind: 'kv', role, plans: region.plans, cache: this.tensor(v, op, 'cache') });
      return 'load';
    };
    const mode = String(attr(op, 'mask_mode') ?? 'none');
    const g = this.geometry;
    return {
      kind: 'attention',
      plans: region.plans,
      dims,
      q: this.tensor(op.inputs[0]!, op, 'queries'),
      k: this.tensor(op.inputs[1]!, op, 'keys'),
      v: this.tensor(op.inputs[2]!, op, 'values'),
      mask: op.inputs[3] ? this.dram.tensors.get(op.inputs[3])! : null,
      out: this.tensor(op.outputs[0]!, op, 'output'),
      kSource: source(1),
      vSource: source(2),
      scale: Number(attr(op, 'scale')),
      maskMode: mode === 'bool' || mode === 'add' ? mode : 'none',
      maskFill: Number(attr(op, 'mask_fill') ?? -Infinity),
      causal: Number(attr(op, 'causal') ?? 0) !== 0,
      scores: perBatch(region.plans, (p) => attentionTemplates(g, p, 'scores')),
      context: perBatch(region.plans, (p) => attentionTemplates(g, p, 'context')),
    };
  }

  private elementwise(op: Op, kind: 'add' | 'mul' | 'relu'): PimWork {
    const out = this.tensor(op.outputs[0]!, op, 'output');
    const values = (kind === 'relu' ? [op.inputs[0]!] : [op.inputs[0]!, op.inputs[1]!]);
    const plan0 = withOp(op, () => planElementwise(this.geometry, kind, elements(out.shape)));
    const perCall = values.filter((v) => !v.constant).length + 1;
    let next = this.rows.perCall(perCall * plan0.rows, op, `${perCall} operand(s) of ${elements(out.shape)} elements`);
    const bases: number[] = [];
    const inputs = values.map((v, i) => {
      const t = this.tensor(v, op, `operand ${i}`);
      if (v.constant) {
        bases.push(this.rows.resident(plan0.rows, op, `its constant operand ${q(v.name)}`));
        return { t, loaded: true };
      }
      bases.push(next);
      next += plan0.rows;
      return { t, loaded: false };
    });
    const plan = { ...plan0, base: { a: bases[0]!, b: bases[1] ?? bases[0]!, c: next } };
    inputs.forEach((x, i) => {
      if (x.loaded) this.loads.push({ kind: 'operand', plan, base: bases[i]!, t: x.t, shape: out.shape });
    });
    return { kind: 'elementwise', op: kind, plan, stream: elementwiseStream(this.geometry, plan), inputs, out };
  }
}
