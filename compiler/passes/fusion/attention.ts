// fuse-attention: scaled dot-product attention as exporters write it becomes
// pimc.Attention (named after the Softmax, the op that identifies attention).
//
// The chain, from the Softmax outwards:
//   MatMul(Softmax(M), v)                       Softmax over the last axis
//   M = Where(mask, S, fill) | Where(mask, fill, S) | Add(S, mask) | S
//   S = Div(P, c) | Mul(P, c) | P               c a scalar constant
//   P = MatMul(q', kT),  q' = Div(q, c) | Mul(q, c) | q      (BERT scales q)
//   kT = Transpose(k0, perm) | anything already transposed
// Where(mask, fill, S) is masked_fill (true = hidden): its mask is negated (a
// constant mask is negated in place, else Equal(mask, false) feeds the fused op). A
// constant mask that hides nothing is dropped. k is handed over untransposed:
// the Transpose goes, or, when its perm also moves other axes (BERT's
// [1, 2, 0]), one Transpose with the last two axes of perm swapped stays.
// Grouped-query: when k and v both come from repeat_kv,
// Reshape(Expand(Unsqueeze(kv))) merging [hkv, n_rep] into heads, the fused op
// reads the un-repeated kv (the repeat ops die in DCE if nothing else reads them).
//
// Opset-23 Attention (4-D, no softcap, no qk output) becomes pimc.KvAppend per
// cache plus pimc.Attention {causal}: its is_causal is bottom-right aligned
// (key t hidden from query i when t > i + past), which equals pimc's
// end-aligned causal mask when k brings as many new rows as q has queries.
//
// 1. For each Softmax, match the chain above; every intermediate value is read
//    by the chain alone, and no op broadcasts beyond q's and the scores' shapes.
// 2. Fold every scale into one factor; un-transpose k; un-repeat k and v.
// 3. Replace the chain by pimc.Attention(q, k, v, mask?) {scale, mask_mode, mask_fill}.
// 4. Convert each simple opset-23 Attention as above.
import { dimAdd, dimMul } from '../../../ir/dimexpr.js';
import { ConstantData, Op, Value, type AttrValue, type Graph } from '../../../ir/graph.js';
import type { MaskMode } from '../../../ir/ops/pimc/attention.js';
import { Tensor } from '../../../ir/tensor.js';
import { sameShape, type Dim } from '../../../ir/types.js';
import { registerPass } from '../manager.js';
import { Uses, attrs, constTensor, fuse, intAttr, producer, scalarConst } from './match.js';

interface Sdpa {
  ops: Op[];
  /** The MatMul(P, v) whose output the fused op produces. */
  out: Value;
  q: Value; k: Value; v: Value; mask: Value | null;
  scale: number; mode: MaskMode; fill: number;
  /** Ops to insert before the fused op (the untransposing Transpose, a mask's negation). */
  pre: Op[];
}

function opName(g: Graph, base: string): string {
  const taken = new Set(g.ops.map((o) => o.name));
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

function newOp(g: Graph, name: string, type: string, inputs: Value[], shape: readonly Dim[], dtype = inputs[0]!.dtype!, a?: Record<string, AttrValue>): Op {
  const n = opName(g, name);
  return new Op({ name: n, type, inputs, outputs: [g.newValue(`${n}_output_0`, { dtype, shape })], attrs: a && attrs(a) });
}

/** v = x / c or x * c with c a scalar constant, v read only by `reader`: x and the factor. */
function peelScale(v: Value, reader: Op, uses: Uses): { x: Value; op?: Op; factor: number } {
  const p = v.producer;
  if (p && p.domain === '' && p.inputs.length === 2 && uses.onlyBy(v, reader)) {
    const [a, b] = p.inputs as [Value, Value];
    let hit: { x: Value; factor: number } | undefined;
    const cb = scalarConst(b), ca = scalarConst(a);
    if (p.type === 'Div' && cb !== undefined && cb !== 0) hit = { x: a, factor: 1 / cb };
    else if (p.type === 'Mul' && cb !== undefined) hit = { x: a, factor: cb };
    else if (p.type === 'Mul' && ca !== undefined) hit = { x: b, factor: ca };
    if (hit && sameShape(hit.x.shape ?? [], v.shape ?? [0])) return { ...hit, op: p };
  }
  return { x: v, factor: 1 };
}

/** S (read by `reader`) = [scale](MatMul([scale](q), kT)). */
function scores(s: Value, reader: Op, uses: Uses): { ops: Op[]; qk: Op; q: Value; kT: Value; scale: number } | undefined {
  const post = peelScale(s, reader, uses);
  const qk = producer(post.x, 'MatMul');
  if (!qk || !uses.onlyBy(post.x, post.op ?? reader)) return undefined;
  const pre = peelScale(qk.inputs[0]!, qk, uses);
  const ops = [qk, ...[post.op, pre.op].filter((o): o is Op => !!o)];
  return { ops, qk, q: pre.x, kT: qk.inputs[1]!, scale: post.factor * pre.factor };
}

/** kv when x = Reshape(Expand(Unsqueeze(kv))) repeats each kv head n times in place. */
function unrepeat(x: Value): { kv: Value; n: Dim } | undefined {
  const re = producer(x, 'Reshape'), ex = producer(re?.inputs[0], 'Expand'), un = producer(ex?.inputs[0], 'Unsqueeze');
  const kv = un?.inputs[0];
  const s = kv?.shape, u = un?.outputs[0]!.shape, e = ex?.outputs[0]!.shape, o = x.shape;
  if (!kv || !s || !u || !e || !o || s.length < 3) return undefined;
  const a = s.length - 2; // [..., hkv, 1, T, d]: the new axis sits after the heads
  const n = e[a]!;
  if (!sameShape(u, [...s.slice(0, a), 1, ...s.slice(a)]) || !sameShape(e, [...s.slice(0, a), n, ...s.slice(a)])) return undefined;
  return sameShape(o, [...s.slice(0, a - 1), dimMul(s[a - 1]!, n), ...s.slice(a)]) ? { kv, n } : undefined;
}

class MaskNegation {
  private readonly done = new Map<Value, Value>();
  private falseConst: Value | undefined;
  constructor(private readonly g: Graph) {}
  /** not cond: a negated constant (made once per constant), else Equal(cond, false) to insert. */
  of(cond: Value, where: Op, pre: Op[]): Value {
    const c = constTensor(cond);
    if (!c) {
      if (!this.falseConst) {
        this.falseConst = new Value(this.g.uniqueName('pimc_false'));
        this.g.addConstant(this.falseConst, ConstantData.of(Tensor.scalar('bool', 0)));
      }
      const not = newOp(this.g, `${where.name}/not`, 'Equal', [cond, this.falseConst], cond.shape!, 'bool');
      pre.push(not);
      return not.outputs[0]!;
    }
    let v = this.done.get(cond);
    if (!v) {
      v = new Value(this.g.uniqueName(`${cond.name}_not`));
      this.g.addConstant(v, ConstantData.of(Tensor.from('bool', c.shape, c.data.map((x) => (x ? 0 : 1)))));
      this.done.set(cond, v);
    }
    return v;
  }
}

function matchSdpa(g: Graph, sm: Op, uses: Uses, negate: MaskNegation): Sdpa | undefined {
  const x = sm.inputs[0], r = x?.shape?.length ?? 0;
  const axis = intAttr(sm, 'axis', g.opset < 13 ? 1 : -1);
  if (!x || (r !== 3 && r !== 4) || (axis < 0 ? axis + r : axis) !== r - 1) return undefined;
  const [pv] = uses.of(sm.outputs[0]!);
  if (!pv || pv.type !== 'MatMul' || pv.domain !== '' || pv.inputs[0] !== sm.outputs[0] || !uses.onlyBy(sm.outputs[0]!, pv)) return undefined;
  let mask: Value | null = null, mode: MaskMode = 'none', fill = -Infinity, inverted = false;
  let chain = scores(x, sm, uses);
  const m = x.producer;
  if (!chain && m && m.domain === '' && uses.onlyBy(x, sm)) {
    if (m.type === 'Add') {
      for (const i of [0, 1]) {
        chain = scores(m.inputs[i]!, m, uses);
        if (chain) [mask, mode] = [m.inputs[1 - i]!, 'add'];
        if (chain) break;
      }
    } else if (m.type === 'Where') {
      const [cond, a, b] = m.inputs as [Value, Value, Value];
      const [fa, fb] = [scalarConst(a), scalarConst(b)];
      if (fb !== undefined && (chain = scores(a, m, uses))) [mask, mode, fill] = [cond, 'bool', fb];
      else if (fa !== undefined && (chain = scores(b, m, uses))) [mask, mode, fill, inverted] = [cond, 'bool', fa, true];
    }
    if (!chain || !sameShape(m.outputs[0]!.shape ?? [], chain.qk.outputs[0]!.shape ?? [0])) return undefined;
    chain.ops.push(m);
  }
  if (!chain) return undefined;
  const { q, kT, qk } = chain;
  const ops = [...chain.ops, sm, pv];

  // k untransposed: drop the Transpose, or keep one that only does the rest of its perm.
  const swapLast = (p: number[]) => [...p.slice(0, r - 2), p[r - 1]!, p[r - 2]!];
  const t = producer(kT, 'Transpose');
  const perm = swapLast(t ? (t.attrs.get('perm')?.value as number[] | undefined) ?? [...Array(r).keys()].reverse() : [...Array(r).keys()]);
  const src = t ? t.inputs[0]! : kT;
  const dropT = !!t && uses.onlyBy(kT, qk);
  const permute = perm.some((p, i) => p !== i);
  let k = src, v = pv.inputs[1]!;
  if (!permute) {
    const [ku, vu] = [unrepeat(k), unrepeat(v)];
    if (ku && vu && ku.n === vu.n && ku.kv.shape![r - 3] === vu.kv.shape![r - 3]) [k, v] = [ku.kv, vu.kv];
  }

  // Shapes: nothing may broadcast beyond q's batch and heads, k and v must agree.
  const [qs, vs] = [q.shape, v.shape];
  const ks = permute ? (src.shape?.length === r ? perm.map((p) => src.shape![p]!) : undefined) : k.shape;
  if (!qs || !ks || !vs || qs.length !== r || ks.length !== r || vs.length !== r) return undefined;
  if (q.dtype !== k.dtype || q.dtype !== v.dtype || !sameShape(qk.outputs[0]!.shape!.slice(0, -1), qs.slice(0, -1))) return undefined;
  if (!sameShape(pv.outputs[0]!.shape!, [...qs.slice(0, -1), vs[r - 1]!])) return undefined;
  const [hq, hk] = [qs[r - 3]!, ks[r - 3]!];
  if (hk !== vs[r - 3] || ks[r - 2] !== vs[r - 2] || (hq !== hk && !(typeof hq === 'number' && typeof hk === 'number' && hq % hk === 0))) return undefined;
  if (r === 4 && (ks[0] !== vs[0] || (ks[0] !== qs[0] && ks[0] !== 1))) return undefined;

  // Matched: build what the fused op needs.
  const pre: Op[] = [];
  if (dropT) ops.push(t);
  if (permute) {
    const a = attrs({ perm: { kind: 'ints', value: perm } });
    if (dropT) {
      // The old Transpose's output is read by nothing else: keep its name and value, now holding k.
      kT.type = { dtype: src.dtype!, shape: ks };
      pre.push(new Op({ name: t.name, type: 'Transpose', inputs: [src], outputs: [kT], attrs: a }));
    } else {
      pre.push(newOp(g, `${sm.name}/k_transpose`, 'Transpose', [src], ks, src.dtype, { perm: { kind: 'ints', value: perm } }));
    }
    k = pre[0]!.outputs[0]!;
  }
  // A constant mask that hides nothing is no mask.
  const c = mask ? constTensor(mask) : undefined;
  if (c && (mode === 'add' ? c.data.every((z) => z === 0) : c.data.every((z) => !z === inverted))) [mask, mode] = [null, 'none'];
  if (mask && inverted) mask = negate.of(mask, m!, pre);
  return { ops, out: pv.outputs[0]!, q, k, v, mask, scale: chain.scale, mode, fill, pre };
}

function sdpaAttrs(scale: number, mode: MaskMode, fill: number, causal = 0): Map<string, AttrValue> {
  const a: Record<string, AttrValue> = { scale: { kind: 'float', value: Math.fround(scale) }, mask_mode: { kind: 'string', value: mode } };
  if (mode === 'bool') a.mask_fill = { kind: 'float', value: Math.fround(fill) };
  if (causal) a.causal = { kind: 'int', value: 1 };
  return attrs(a);
}

/** Puts `pre` right before `op` (their inputs are all defined earlier). */
function insertBefore(g: Graph, op: Op, pre: readonly Op[]): void {
  if (pre.length) g.ops.splice(g.ops.indexOf(op), 0, ...pre);
}

function fuseSdpa(g: Graph): number {
  const negate = new MaskNegation(g);
  let uses = new Uses(g);
  let changed = 0;
  for (const sm of [...g.ops]) {
    if (sm.type !== 'Softmax' || sm.domain !== '') continue;
    const m = matchSdpa(g, sm, uses, negate);
    if (!m) continue;
    const inputs = m.mask ? [m.q, m.k, m.v, m.mask] : [m.q, m.k, m.v];
    const fused = fuse(g, m.ops, { type: 'Attention', anchor: sm, inputs, outputs: [m.out], attrs: sdpaAttrs(m.scale, m.mode, m.fill) });
    insertBefore(g, fused, m.pre);
    uses = new Uses(g);
    changed++;
  }
  return changed;
}

/** Opset-23 Attention -> pimc.KvAppend (or Identity without a past) + pimc.Attention. */
function convertOnnxAttention(g: Graph): number {
  let changed = 0;
  for (const att of [...g.ops]) {
    if (att.type !== 'Attention' || att.domain !== '' || att.outputs.length > 3) continue;
    const [q, k, v] = att.inputs;
    const mask = att.inputs[3] ?? null, pastK = att.inputs[4] ?? null, pastV = att.inputs[5] ?? null;
    if (!q || !k || !v || ![q, k, v].every((x) => x.shape?.length === 4) || !pastK !== !pastV) continue;
    const softcap = att.attrs.get('softcap')?.value;
    const d = q.shape![3]!;
    const scale = (att.attrs.get('scale')?.value as number | undefined) ?? (typeof d === 'number' ? 1 / Math.sqrt(d) : undefined);
    const causal = intAttr(att, 'is_causal', 0);
    if ((softcap !== undefined && softcap !== 0) || scale === undefined || (causal && q.shape![2] !== k.shape![2])) continue;
    const total = pastK ? dimAdd(pastK.shape![2]!, k.shape![2]!) : k.shape![2]!;
    // ONNX pads a short mask with -inf; pimc's must cover every key.
    if (mask && mask.shape!.at(-1) !== total) continue;
    const pre: Op[] = [];
    const cache = (x: Value, past: Value | null, out: Value | undefined, what: string): Value => {
      if (!past && !out) return x;
      const name = opName(g, `${att.name}/${past ? 'KvAppend' : 'Identity'}_${what}`);
      const o = out ?? g.newValue(`${name}_output_0`, { dtype: x.dtype!, shape: [...x.shape!.slice(0, 2), total, x.shape![3]!] });
      const a = past ? attrs({ axis: { kind: 'int', value: 2 } }) : undefined;
      pre.push(new Op({ name, type: past ? 'KvAppend' : 'Identity', domain: past ? 'pimc' : '', inputs: past ? [past, x] : [x], outputs: [o], attrs: a }));
      return past ? o : x;
    };
    const kk = cache(k, pastK, att.outputs[1], 'k'), vv = cache(v, pastV, att.outputs[2], 'v');
    const mode: MaskMode = !mask ? 'none' : mask.dtype === 'bool' ? 'bool' : 'add';
    const inputs = mask ? [q, kk, vv, mask] : [q, kk, vv];
    const fused = fuse(g, [att], { type: 'Attention', anchor: att, inputs, outputs: [att.outputs[0]!], attrs: sdpaAttrs(scale, mode, -Infinity, causal) });
    insertBefore(g, fused, pre);
    changed++;
  }
  return changed;
}

registerPass({
  name: 'fuse-attention',
  summary: 'MatMul/scale/mask/Softmax/MatMul (and opset-23 Attention) -> pimc.Attention, un-repeating grouped-query k/v',
  run: (g) => ({ changed: fuseSdpa(g) + convertOnnxAttention(g) }),
});
