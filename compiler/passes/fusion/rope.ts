// fuse-rope: rotary position embedding as exporters write it becomes pimc.Rope.
//
// HF's apply_rotary_pos_emb, `q * cos + rotate_half(q) * sin`, exports as
//   Add(Mul(x, cos), Mul(Concat(Neg(Slice(x, h:D)), Slice(x, 0:h), axis -1), sin))
// (operands of Add and Mul in either order; the halves may come from one Split).
// The fused op is named after the Add: it produces the rotated value, and the
// exporter gives no op of the pattern a more telling name.
//
// Opset-23 RotaryEmbedding (4-D x, rotate-half, full rotary dim) becomes
// pimc.Rope too, so later stages see one RoPE op. Its half-width tables
// cos_cache[pos, D/2] are widened once per table to what pimc.Rope reads,
// [b, 1, s, D] = Unsqueeze(Concat(Gather(cache, position_ids), same, -1), 1),
// shared by every layer. Interleaved or partial RotaryEmbedding stays as it is.
//
// 1. For each Add, try each operand as the sin product Mul(rot, sin) whose rot
//    is rotate_half(x) with halves checked exactly (slice bounds [h, D) and
//    [0, h) on the last axis, h = D / 2, step 1), and the other operand as
//    Mul(x, cos) on the same x.
// 2. Every intermediate (the Muls, Concat, Neg, Slices) must be read by the
//    pattern alone; the Add's shape must be x's (cos/sin do not widen it).
// 3. Replace the pattern by pimc.Rope(x, cos, sin).
// 4. Then convert each simple RotaryEmbedding as above.
import { ConstantData, Op, Value, type Graph } from '../../../ir/graph.js';
import { sliceAxis } from '../../../ir/ops/slice.js';
import { Tensor } from '../../../ir/tensor.js';
import { sameShape, type Dim } from '../../../ir/types.js';
import { inferShapes } from '../infer-shapes.js';
import { registerPass } from '../manager.js';
import { Uses, attrs, constTensor, fuse, intAttr, otherInput, producer } from './match.js';

/** Small integer inputs (slice bounds): constants, or values shape inference knows as numbers. */
class Ints {
  private symbolic: Map<Value, Dim[]> | undefined;
  constructor(private readonly g: Graph) {}
  of(v: Value | null | undefined): number[] | undefined {
    if (!v) return undefined;
    const c = constTensor(v);
    if (c) return c.toArray();
    this.symbolic ??= inferShapes(this.g).symbolic;
    const s = this.symbolic.get(v);
    return s?.every((d): d is number => typeof d === 'number') ? s : undefined;
  }
}

const lastAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis) === rank - 1;

/** [start, end) that a one-axis, step-1 Slice of x's last axis takes, or undefined. */
function sliceOfLast(op: Op, x: Value, d: number, ints: Ints): [number, number] | undefined {
  if (op.inputs[0] !== x) return undefined;
  const [starts, ends] = [ints.of(op.inputs[1]), ints.of(op.inputs[2])];
  const axes = op.inputs[3] ? ints.of(op.inputs[3]) : [0];
  const steps = op.inputs[4] ? ints.of(op.inputs[4]) : [1];
  if (starts?.length !== 1 || ends?.length !== 1 || axes?.length !== 1 || steps?.length !== 1 || steps[0] !== 1) return undefined;
  if (!lastAxis(axes[0]!, x.shape!.length)) return undefined;
  const { start, count } = sliceAxis(d, starts[0]!, ends[0]!, 1);
  return [start, start + count];
}

/** x and the ops of Concat(Neg(x[..., h:]), x[..., :h], axis -1), each read only inside the pattern. */
function rotateHalf(v: Value | null, uses: Uses, ints: Ints): { x: Value; ops: Op[] } | undefined {
  const cat = producer(v, 'Concat');
  const rank = v?.shape?.length ?? 0;
  if (!cat || cat.inputs.length !== 2 || !lastAxis(intAttr(cat, 'axis', 0), rank)) return undefined;
  const neg = producer(cat.inputs[0], 'Neg');
  const hi = neg?.inputs[0], lo = cat.inputs[1];
  if (!neg || !hi || !lo || !uses.onlyBy(neg.outputs[0]!, cat) || !uses.onlyBy(hi, neg) || !uses.onlyBy(lo, cat)) return undefined;
  const split = producer(hi, 'Split');
  if (split && lo.producer === split) {
    // Split(x) into two equal halves of the last axis: rot = Concat(-second, first).
    const x = split.inputs[0]!;
    const d = x.shape?.[rank - 1];
    const halves = split.outputs.length === 2 && hi === split.outputs[1] && lo === split.outputs[0];
    const ok = typeof d === 'number' && halves && lastAxis(intAttr(split, 'axis', 0), rank) && split.outputs.every((o) => o.shape?.[rank - 1] === d / 2);
    return ok ? { x, ops: [cat, neg, split] } : undefined;
  }
  const sHi = producer(hi, 'Slice'), sLo = producer(lo, 'Slice');
  const x = sHi?.inputs[0];
  const d = x?.shape?.[rank - 1];
  if (!sHi || !sLo || !x || x.shape?.length !== rank || typeof d !== 'number' || d % 2 !== 0) return undefined;
  const h = d / 2;
  const [rHi, rLo] = [sliceOfLast(sHi, x, d, ints), sliceOfLast(sLo, x, d, ints)];
  if (rHi?.[0] !== h || rHi[1] !== d || rLo?.[0] !== 0 || rLo[1] !== h) return undefined;
  return { x, ops: [cat, neg, sHi, sLo] };
}

function fuseHfRope(g: Graph): number {
  const ints = new Ints(g);
  let uses = new Uses(g);
  let changed = 0;
  for (const add of [...g.ops]) {
    if (add.type !== 'Add' || add.domain !== '' || add.inputs.length !== 2) continue;
    const out = add.outputs[0]!;
    for (const [a, b] of [[add.inputs[0], add.inputs[1]], [add.inputs[1], add.inputs[0]]]) {
      const mCos = producer(a, 'Mul'), mSin = producer(b, 'Mul');
      if (!mCos || !mSin || mCos === mSin || !uses.onlyBy(a!, add) || !uses.onlyBy(b!, add)) continue;
      const j = [0, 1].find((i) => rotateHalf(mSin.inputs[i]!, uses, ints));
      if (j === undefined) continue;
      const { x, ops } = rotateHalf(mSin.inputs[j]!, uses, ints)!;
      const sin = mSin.inputs[1 - j]!, cos = otherInput(mCos, x);
      if (!cos || !sameShape(out.shape ?? [], x.shape ?? []) || out.dtype !== x.dtype) continue;
      fuse(g, [mCos, mSin, ...ops, add], { type: 'Rope', anchor: add, inputs: [x, cos, sin], outputs: [out], attrs: attrs({ interleaved: { kind: 'int', value: 0 } }) });
      uses = new Uses(g);
      changed++;
      break;
    }
  }
  return changed;
}

function opName(g: Graph, base: string): string {
  const taken = new Set(g.ops.map((o) => o.name));
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

/** Opset-23 RotaryEmbedding -> pimc.Rope, widening each cos/sin table once. */
function convertRotaryEmbedding(g: Graph): number {
  const tables = new Map<string, Value>();
  let axis1: Value | undefined;
  let changed = 0;
  for (const rot of [...g.ops]) {
    if (rot.type !== 'RotaryEmbedding' || rot.domain !== '') continue;
    const [x, cosCache, sinCache] = rot.inputs;
    const pos = rot.inputs[3] ?? null;
    const d = x?.shape?.[3];
    if (!x || !cosCache || !sinCache || x.shape?.length !== 4 || typeof d !== 'number' || d % 2 !== 0) continue;
    if (intAttr(rot, 'interleaved', 0) !== 0 || ![0, d].includes(intAttr(rot, 'rotary_embedding_dim', 0))) continue;
    const want = pos ? 2 : 3;
    if (![cosCache, sinCache].every((c) => c.shape?.length === want && c.shape[want - 1] === d / 2)) continue;
    const at = () => g.ops.indexOf(rot);
    const widen = (cache: Value): Value => {
      const key = `${cache.name}\u0000${pos?.name ?? ''}`;
      const known = tables.get(key);
      if (known) return known;
      const dtype = cache.dtype!;
      const lead: Dim[] = pos ? [...pos.shape!] : cache.shape!.slice(0, 2);
      const newOp = (type: string, inputs: Value[], shape: Dim[], axis?: number): Value => {
        const name = opName(g, `${cache.name}/${type}`); // shared by every layer: named after the table
        const out = g.newValue(`${name}_output_0`, { dtype, shape });
        const a = axis === undefined ? undefined : attrs({ axis: { kind: 'int', value: axis } });
        g.ops.splice(at(), 0, new Op({ name, type, inputs, outputs: [out], attrs: a }));
        return out;
      };
      const rows = pos ? newOp('Gather', [cache, pos], [...lead, d / 2], 0) : cache;
      const full = newOp('Concat', [rows, rows], [...lead, d], -1);
      if (!axis1) {
        axis1 = new Value(g.uniqueName('pimc_rope_unsqueeze_axes'));
        g.addConstant(axis1, ConstantData.of(Tensor.vector('i64', [1])));
      }
      const table = newOp('Unsqueeze', [full, axis1], [lead[0]!, 1, lead[1]!, d]);
      tables.set(key, table);
      return table;
    };
    const [cos, sin] = [widen(cosCache), widen(sinCache)];
    fuse(g, [rot], { type: 'Rope', anchor: rot, inputs: [x, cos, sin], outputs: [rot.outputs[0]!], attrs: attrs({ interleaved: { kind: 'int', value: 0 } }) });
    changed++;
  }
  return changed;
}

registerPass({
  name: 'fuse-rope',
  summary: 'x*cos + rotate_half(x)*sin (and simple opset-23 RotaryEmbedding) -> pimc.Rope',
  run: (g) => ({ changed: fuseHfRope(g) + convertRotaryEmbedding(g) }),
});
