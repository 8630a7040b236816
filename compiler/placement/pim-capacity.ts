// PIM capacity: what an assignment keeps in the PIM banks must fit the rows
// a PIM kernel can execute on (RA12 = 0: 2 x 4,096 rows per bank with 16K
// rows, backends/hbm-pim/geometry.ts), as the code generator
// (compiler/codegen/pim-steps.ts) would allocate them:
//
// 1. Items. A Linear (or MatMul/Gemm with a constant weight) on pim keeps its
//    weight in the GEMV layout (gemvSplit + planGemv rowsUsed, padding and
//    result rows included); an attention and the KV appends that fill its
//    cache share one region (planAttention, one copy per cache batch) when
//    any of them is on pim, one per cache batch; an Add/Mul/Relu on pim keeps each constant
//    operand resident and needs per-call scratch for the rest.
// 2. Fit: the items, in program order, through the code generator's
//    allocator (PimRows: first-fit in either range, never across a range
//    boundary, scratch at the top of the last range).
// 3. When they do not fit, greedy: items with a pinned op stay; the others
//    in order of time saved on pim (against the op's best other device, with
//    the data it would move there) per row, each kept if everything kept so far plus it still fits. The rest
//    may not use pim; the caller re-solves the placement without them (the
//    NPU then reads those weights over the external bus from the other rows).

import type { Device, Hardware } from '../../runtime-sim/hardware/types.js';
import { planAttention } from '../../backends/hbm-pim/attention.js';
import { planElementwise } from '../../backends/hbm-pim/elementwise.js';
import { planGemv } from '../../backends/hbm-pim/gemv.js';
import { dataRangesText, gemvSplit, pimGeometry, PimRows, type PimGeometry } from '../../backends/hbm-pim/geometry.js';
import { movementAt } from './explain.js';
import type { Problem } from './problem.js';
import { linearSize } from './shapes.js';

export type PimItemKind = 'weights' | 'kv' | 'operand';

/** What one op (or an attention with its KV appends) keeps in the PIM banks. */
export interface PimItem {
  kind: PimItemKind;
  /** Nodes whose placement on pim needs these rows (a KV region: the attention and its appends). */
  nodes: number[];
  /** Per-call scratch rows (element-wise operands written per call and the result), 0 if none. */
  perCall: number;
  /** Resident regions, in the order the code generator takes them (Infinity: larger than a range). */
  resident: number[];
}

export interface PimFit {
  /** Rows per bank for PIM data, and as text. */
  usable: number;
  ranges: string;
  /** Rows per bank the items on pim need (resident regions + the largest scratch; even-rounded). */
  need: number;
  fits: boolean;
  /** Items on pim the greedy moves off it (empty when everything fits). */
  evicted: PimItem[];
  /** Items it keeps on pim, and the rows they take. */
  kept: PimItem[];
  keptRows: number;
  /** Seconds each evicted node would have saved on pim. */
  saving: Map<number, number>;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const even = (r: number) => r + (r % 2);

/** planX(...) rows, or Infinity when the layout does not fit one range at all. */
function rowsOr(f: () => number): number {
  try {
    return f();
  } catch {
    return Infinity;
  }
}

/** The KV regions of an attention: one per cache batch, each of the rows of planAttention's layout. */
function kvRegions(g: PimGeometry, hq: number, hkv: number, sq: number, skv: number, hd: number, kb: number): number[] {
  const size = rowsOr(() => {
    const plan = planAttention(g, { hq: hq * sq, hkv, skv, hd });
    return even(Math.max(...plan.heads.map((h) => Math.max(h.k.rowBase + h.k.rowsUsed, h.v.rowBase + h.v.rowsUsed))));
  });
  return Array.from({ length: Math.max(1, Math.ceil(kb)) }, () => size);
}

/** The PIM items of a problem: every op that could keep something in the banks. */
export function pimItems(p: Problem, g: PimGeometry): PimItem[] {
  const items: PimItem[] = [];
  const kvOf = new Map<number, PimItem>();
  p.nodes.forEach((w, i) => {
    if (!p.legal[i]!.includes('pim')) return;
    if (w.kind === 'linear') {
      const { rows, k, n } = linearSize(w);
      const { pchs, perSlice } = gemvSplit(g, k, n);
      // vectors: the rows of x (a static model's batch scaling rounded up)
      items.push({ kind: 'weights', nodes: [i], perCall: 0, resident: [rowsOr(() => planGemv(g, n, perSlice, Math.ceil(rows), { pchs }).rowsUsed)] });
    } else if (w.kind === 'attention') {
      const [qs, ks] = [w.inputs[0], w.inputs[1]];
      let regions = [Infinity];
      if (qs && ks && qs.length >= 3) {
        const r = qs.length;
        const [hq, sq, hd] = qs.slice(r - 3) as [number, number, number];
        const [hkv, skv] = ks.slice(r - 3) as [number, number];
        regions = kvRegions(g, hq, hkv, sq, skv, hd, (r === 4 ? ks[0]! : 1) * w.scale);
      }
      const item: PimItem = { kind: 'kv', nodes: [i], perCall: 0, resident: regions };
      kvOf.set(i, item);
      items.push(item);
    }
  });
  // KV appends: the region of the attention that reads their output directly (the code generator's key), else their own
  p.nodes.forEach((w, i) => {
    if (w.kind !== 'kv-append' || !p.legal[i]!.includes('pim')) return;
    const present = w.op.outputs[0]!;
    const reader = p.nodes.findIndex((a) => a.kind === 'attention' && (a.op.inputs[1] === present || a.op.inputs[2] === present));
    const shared = reader >= 0 ? kvOf.get(reader) : undefined;
    if (shared) {
      shared.nodes.push(i);
      return;
    }
    const s = w.outputs[0] ?? [];
    const r = s.length;
    const regions = r === 3 || r === 4 ? kvRegions(g, s[r - 3]!, s[r - 3]!, 1, s[r - 2]!, s[r - 1]!, (r === 4 ? s[0]! : 1) * w.scale) : [Infinity];
    items.push({ kind: 'kv', nodes: [i], perCall: 0, resident: regions });
  });
  // Add / Mul / Relu: constant operands resident, the others and the result per call
  p.nodes.forEach((w, i) => {
    if ((w.kind !== 'elementwise' && w.kind !== 'activation') || !p.legal[i]!.includes('pim')) return;
    const op = w.op;
    const relu = op.type === 'Relu';
    const operands = relu ? [op.inputs[0]] : [op.inputs[0], op.inputs[1]];
    const rows = rowsOr(() => planElementwise(g, relu ? 'relu' : op.type === 'Add' ? 'add' : 'mul', Math.ceil(prod(w.outputs[0] ?? []) * w.scale)).rows);
    const constants = operands.filter((v) => v?.constant).length;
    items.push({ kind: 'operand', nodes: [i], perCall: (operands.length - constants + 1) * rows, resident: Array.from({ length: constants }, () => rows) });
  });
  return items;
}

/** Whether these items (each at its first node on pim) fit, allocated in program order. */
function fits(g: PimGeometry, items: readonly PimItem[], first: (it: PimItem) => number): boolean {
  const rows = new PimRows(g.dataRanges);
  for (const it of [...items].sort((a, b) => first(a) - first(b))) {
    if (it.perCall > 0 && (!Number.isFinite(it.perCall) || rows.perCall(it.perCall) === undefined)) return false;
    for (const r of it.resident) if (!Number.isFinite(r) || rows.resident(r) === undefined) return false;
  }
  return true;
}

function rowsOf(it: PimItem): number {
  return it.resident.reduce((a, r) => a + even(r), 0) + even(it.perCall);
}

/**
 * Checks an assignment against the PIM rows and, when it does not fit,
 * picks the items to move off pim (greedy by time saved per row).
 */
export function fitPim(p: Problem, hw: Hardware, assignment: readonly Device[], pinned: ReadonlySet<number> = new Set(), items?: PimItem[]): PimFit {
  const g = pimGeometry(hw);
  const all = items ?? pimItems(p, g);
  const onPim = (i: number) => assignment[i] === 'pim';
  const active = all.filter((it) => it.nodes.some(onPim));
  const first = (it: PimItem) => Math.min(...it.nodes.filter(onPim));
  const scratch = Math.max(0, ...active.map((it) => even(it.perCall)));
  const need = active.reduce((a, it) => a + it.resident.reduce((s, r) => s + even(r), 0), 0) + scratch;
  const base = { usable: g.dataRows, ranges: dataRangesText(g), need, saving: new Map<number, number>() };
  if (fits(g, active, first)) return { ...base, fits: true, evicted: [], kept: active, keptRows: need };
  // seconds saved on pim by an op, against its best other legal device, with
  // the data it would move there (its neighbours where they are)
  const saved = (i: number): number => {
    const at = (d: Device) => p.estimates[i]!.get(d)!.seconds + movementAt(p, i, d, assignment);
    const other = Math.min(...p.legal[i]!.filter((d) => d !== 'pim').map(at));
    return other - at('pim');
  };
  const savingOf = (it: PimItem) => it.nodes.filter(onPim).reduce((a, i) => a + saved(i), 0);
  const kept = active.filter((it) => it.nodes.some((i) => pinned.has(i) && onPim(i)));
  const candidates = active
    .filter((it) => !kept.includes(it))
    .map((it) => ({ it, perRow: Number.isFinite(rowsOf(it)) ? savingOf(it) / rowsOf(it) : -Infinity }))
    .sort((a, b) => b.perRow - a.perRow);
  const evicted: PimItem[] = [];
  const saving = new Map<number, number>();
  for (const { it } of candidates) {
    if (fits(g, [...kept, it], first)) kept.push(it);
    else {
      evicted.push(it);
      for (const i of it.nodes) if (onPim(i)) saving.set(i, saved(i));
    }
  }
  const keptScratch = Math.max(0, ...kept.map((it) => even(it.perCall)));
  const keptRows = kept.reduce((a, it) => a + it.resident.reduce((s, r) => s + even(r), 0), 0) + keptScratch;
  return { ...base, fits: false, evicted, kept, keptRows, saving };
}

const KIND_TEXT: Record<PimItemKind, [string, string]> = {
  weights: ['the weights of 1 linear', 'the weights of N linears'],
  kv: ['1 KV cache', 'N KV caches'],
  operand: ['the operands of 1 element-wise op', 'the operands of N element-wise ops'],
};

/** "the weights of 73 linears and 2 KV caches" */
export function itemsText(items: readonly PimItem[]): string {
  const parts: string[] = [];
  for (const kind of ['weights', 'kv', 'operand'] as PimItemKind[]) {
    const n = items.filter((it) => it.kind === kind).length;
    if (n) parts.push(n === 1 ? KIND_TEXT[kind][0] : KIND_TEXT[kind][1].replace('N', String(n)));
  }
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0] ?? 'nothing';
}

/** Rows of an item as text (Infinity: more than one range holds). */
export function itemRowsText(it: PimItem): string {
  const r = rowsOf(it);
  return Number.isFinite(r) ? `${r} rows per bank` : 'more rows than one range of PIM data rows holds';
}

export { rowsOf as pimItemRows };
