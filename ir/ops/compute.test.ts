// What the ONNX node tests miss for the compute ops: the opset-23 ops
// (RMSNormalization, RotaryEmbedding, Attention) against direct float64
// formulas and, when it loads, ONNX Runtime; old-opset forms (ReduceMean's
// axes attribute, Softmax's 2-D coercion); MatMul broadcasting and symbolic shapes.
import { describe, expect, it } from 'vitest';
import { dtypeToOnnx, roundF16, type DType } from '../dtype.js';
import { ConstantData, Graph, Op, Value, type AttrValue } from '../graph.js';
import { Attrs, lookupOp } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { Dim, TensorType } from '../types.js';
import { inferShapes } from '../../compiler/passes/infer-shapes.js';
import { runGraph } from '../../compiler/reference/interpreter.js';
import { importOnnxBytes } from '../../compiler/frontend/onnx-import.js';
import { onnx } from '../../compiler/frontend/tensor-proto.js';
import './index.js';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;
try {
  ort = await import('onnxruntime-node');
} catch (e) {
  console.warn(`onnxruntime-node is unavailable (${(e as Error).message}); ONNX Runtime cross-checks skipped`);
}
const withOrt = ort ? it : it.skip;

// ---- helpers ----------------------------------------------------------------

/** Deterministic uniform values in [-1, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function rand(shape: number[], seed: number, dtype: DType = 'f32'): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(dtype, shape, Array.from({ length: n }, r));
}

const F = (value: number): AttrValue => ({ kind: 'float', value });
type Attr = number | number[] | string | AttrValue;
function attrMap(attrs: Record<string, Attr>): Map<string, AttrValue> {
  return new Map(Object.entries(attrs).map(([k, v]) => [k,
    typeof v === 'number' ? { kind: 'int', value: v }
      : typeof v === 'string' ? { kind: 'string', value: v }
        : Array.isArray(v) ? { kind: 'ints', value: v } : v]));
}

interface OneOp {
  types: TensorType[];
  out: Tensor[];
}

/** Builds a one-op graph (inputs as graph inputs, or constants), infers shapes and runs it. */
function runOne(type: string, ins: (Tensor | null)[], attrs: Record<string, Attr> = {}, opts: { outputs?: number; opset?: number; consts?: number[] } = {}): OneOp {
  const g = new Graph('t', new Map([['', opts.opset ?? 23]]));
  const feeds: Record<string, Tensor> = {};
  const vals = ins.map((t, i) => {
    if (!t) return null;
    const v = new Value(`in${i}`, { dtype: t.dtype, shape: t.shape });
    if (opts.consts?.includes(i)) return g.addConstant(v, ConstantData.of(t));
    feeds[v.name] = t;
    return g.addInput(v);
  });
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => new Value(`out${i}`));
  g.addOp(new Op({ name: 'n', type, inputs: vals, outputs: outs, attrs: attrMap(attrs) }));
  g.outputs.push(...outs);
  inferShapes(g);
  const r = runGraph(g, feeds);
  outs.forEach((o) => expect([...r.outputs.get(o.name)!.shape]).toEqual(o.type!.shape));
  return { types: outs.map((o) => o.type!), out: outs.map((o) => r.outputs.get(o.name)!) };
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Infers one op's output types from input types alone (symbolic dims allowed). */
function inferOnly(type: string, ins: TensorType[], attrs: Record<string, Attr> = {}, outputs = 1, opset = 23): TensorType[] {
  const g = new Graph('t', new Map([['', opset]]));
  const vals = ins.map((t, i) => g.addInput(new Value(`in${i}`, t)));
  const outs = Array.from({ length: outputs }, (_, i) => new Value(`out${i}`));
  g.addOp(new Op({ name: 'n', type, inputs: vals, outputs: outs, attrs: attrMap(attrs) }));
  inferShapes(g);
  return outs.map((o) => o.type!);
}

// ---- MatMul ------------------------------------------------------------------

describe('MatMul', () => {
  it('broadcasts batch dims: [2,1,3,4] x [5,4,6] -> [2,5,3,6]', () => {
    const a = rand([2, 1, 3, 4], 1), b = rand([5, 4, 6], 2);
    const { out: [y] } = runOne('MatMul', [a, b]);
    expect(y!.shape).toEqual([2, 5, 3, 6]);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 5; j++) for (let m = 0; m < 3; m++) for (let n = 0; n < 6; n++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a.data[(i * 3 + m) * 4 + k]! * b.data[(j * 4 + k) * 6 + n]!;
      want.push(s);
    }
    expect(maxErr(y!.data, want)).toBeLessThan(1e-6);
  });

  it('promotes 1-D operands and removes the added dim', () => {
    const v = rand([4], 3), m = rand([4, 6], 4), t = rand([2, 3, 4], 5);
    expect(runOne('MatMul', [v, m]).out[0]!.shape).toEqual([6]);
    expect(runOne('MatMul', [t, v]).out[0]!.shape).toEqual([2, 3]);
    expect(runOne('MatMul', [v, v]).out[0]!.shape).toEqual([]);
    const dot = v.toArray().reduce((s, x) => s + x * x, 0);
    expect(runOne('MatMul', [v, v]).out[0]!.data[0]).toBeCloseTo(dot, 5);
  });

  it('keeps symbolic dims and rejects mismatched inner dims', () => {
    const [y] = inferOnly('MatMul', [{ dtype: 'f32', shape: ['batch', 'seq', 768] }, { dtype: 'f32', shape: [768, 50257] }]);
    expect(y!.shape).toEqual(['batch', 'seq', 50257]);
    expect(() => inferOnly('MatMul', [{ dtype: 'f32', shape: [2, 3] }, { dtype: 'f32', shape: [4, 5] }])).toThrow(/PIMC0402/);
  });

  it('uses exact integer arithmetic for i64 and the dot-product path for a transposed Gemm B', () => {
    const a = Tensor.from('i64', [2, 2], [1, 2, 3, 4]), b = Tensor.from('i64', [2, 2], [5, 6, 7, 8]);
    expect(runOne('MatMul', [a, b]).out[0]!.toArray()).toEqual([19, 22, 43, 50]);
    const x = rand([5, 7], 6), w = rand([3, 7], 7);
    const { out: [y] } = runOne('Gemm', [x, w], { transB: 1 });
    const want: number[] = [];
    for (let m = 0; m < 5; m++) for (let n = 0; n < 3; n++) {
      let s = 0;
      for (let k = 0; k < 7; k++) s += x.data[m * 7 + k]! * w.data[n * 7 + k]!;
      want.push(s);
    }
    expect(maxErr(y!.data, want)).toBeLessThan(1e-6);
  });
});

// ---- Einsum and dtypes -----------------------------------------------------------

describe('Einsum', () => {
  it('broadcasts ellipsis dims like MatMul and sums implicit outputs', () => {
    const a = rand([2, 1, 3, 4], 12), b = rand([5, 4, 6], 13);
    const e = runOne('Einsum', [a, b], { equation: '...ij,...jk->...ik' }).out[0]!;
    const m = runOne('MatMul', [a, b]).out[0]!;
    expect(e.shape).toEqual([2, 5, 3, 6]);
    expect(maxErr(e.data, m.data)).toBeLessThan(1e-6);
    // implicit output: letters seen once, sorted -> 'ik' (the trace over j is summed)
    const x = rand([3, 4], 14), y = rand([4, 2], 15);
    const imp = runOne('Einsum', [x, y], { equation: 'ij,jk' }).out[0]!;
    expect(maxErr(imp.data, runOne('MatMul', [x, y]).out[0]!.data)).toBeLessThan(1e-6);
    const tr = runOne('Einsum', [rand([3, 3], 16)], { equation: 'ii' }).out[0]!;
    expect(tr.shape).toEqual([]);
  });

  it('keeps symbolic dims', () => {
    const [t] = inferOnly('Einsum', [{ dtype: 'f32', shape: ['b', 12, 's', 64] }, { dtype: 'f32', shape: ['b', 12, 't', 64] }], { equation: 'bhqd,bhkd->bhqk' });
    expect(t!.shape).toEqual(['b', 12, 's', 't']);
  });
});

describe('narrow floats', () => {
  it('rounds f16 results to f16 and keeps f64 precision', () => {
    const x16 = rand([2, 8], 17, 'f16');
    for (const [type, ins, attrs] of [
      ['Softmax', [x16], {}], ['MatMul', [x16, rand([8, 3], 18, 'f16')], {}],
      ['LayerNormalization', [x16, rand([8], 19, 'f16')], {}], ['ReduceMean', [x16], {}],
    ] as const) {
      const y = runOne(type, [...ins], attrs).out[0]!;
      expect(y.dtype).toBe('f16');
      for (const v of y.data) expect(roundF16(v)).toBe(v);
    }
    const a = Tensor.from('f64', [1, 2], [1, 1e-12]), b = Tensor.from('f64', [2, 1], [1, 1]);
    expect(runOne('MatMul', [a, b]).out[0]!.data[0]).toBe(1 + 1e-12);
  });
});

// ---- Softmax -----------------------------------------------------------------

describe('Softmax', () => {
  const x = rand([2, 3, 4], 11);
  const softmaxRows = (vals: number[], n: number) => {
    const out: number[] = [];
    for (let r = 0; r < vals.length / n; r++) {
      const row = vals.slice(r * n, (r + 1) * n);
      const m = Math.max(...row);
      const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
      out.push(...row.map((v) => Math.exp(v - m) / s));
    }
    return out;
  };

  it('before opset 13 flattens to 2-D at the axis (default 1)', () => {
    const y11 = runOne('Softmax', [x], {}, { opset: 11 }).out[0]!;
    expect(maxErr(y11.data, softmaxRows(x.toArray(), 12))).toBeLessThan(1e-6);
    const y11a2 = runOne('Softmax', [x], { axis: 2 }, { opset: 11 }).out[0]!;
    expect(maxErr(y11a2.data, softmaxRows(x.toArray(), 4))).toBeLessThan(1e-6);
  });

  it('from opset 13 normalizes along the one axis', () => {
    const y13 = runOne('Softmax', [x], { axis: 1 }, { opset: 13 }).out[0]!;
    // sum over axis 1 is 1 for every (batch, last) pair
    for (let b = 0; b < 2; b++) for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += y13.data[(b * 3 + i) * 4 + j]!;
      expect(s).toBeCloseTo(1, 6);
    }
    const y11 = runOne('Softmax', [x], { axis: 1 }, { opset: 11 }).out[0]!;
    expect(maxErr(y11.data, y13.data)).toBeGreaterThan(0.1);
    const ls = runOne('LogSoftmax', [x], {}, { opset: 13 }).out[0]!;
    expect(maxErr(ls.data, softmaxRows(x.toArray(), 4).map(Math.log))).toBeLessThan(1e-5);
  });
});

// ---- Reduce ------------------------------------------------------------------

/** A one-node ONNX model (for import tests and ONNX Runtime). */
function onnxModel(type: string, ins: { name: string; t: Tensor | null; init?: boolean }[], outs: { name: string; dtype: DType; shape?: number[] }[], attrs: Record<string, Attr>, opset: number): Uint8Array {
  const T = onnx.AttributeProto.AttributeType;
  const attribute = Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'number') return { name, type: T.INT, i: v };
    if (typeof v === 'string') return { name, type: T.STRING, s: Buffer.from(v) };
    if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
    if (v.kind === 'float') return { name, type: T.FLOAT, f: v.value };
    throw new Error(`attribute kind ${v.kind} not handled here`);
  });
  const vi = (name: string, dtype: DType, shape?: readonly number[]) => ({
    name, type: { tensorType: { elemType: dtypeToOnnx(dtype), shape: shape ? { dim: shape.map((d) => ({ dimValue: d })) } : undefined } },
  });
  const present = ins.filter((i) => i.t);
  return onnx.ModelProto.encode({
    irVersion: 10,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: [{ opType: type, name: 'n', input: ins.map((i) => (i.t ? i.name : '')), output: outs.map((o) => o.name), attribute }],
      initializer: present.filter((i) => i.init).map((i) => ({
        name: i.name, dataType: dtypeToOnnx(i.t!.dtype), dims: [...i.t!.shape],
        ...(i.t!.dtype === 'i64' ? { int64Data: i.t!.toArray() } : { floatData: i.t!.toArray() }),
      })),
      input: present.filter((i) => !i.init).map((i) => vi(i.name, i.t!.dtype, i.t!.shape)),
      output: outs.map((o) => vi(o.name, o.dtype, o.shape)),
    },
  }).finish();
}

describe('Reduce ops', () => {
  const x = rand([3, 4, 5], 21);

  it('canonicalizes the opset-13 ReduceMean axes attribute to a constant input', () => {
    const bytes = onnxModel('ReduceMean', [{ name: 'x', t: x }], [{ name: 'y', dtype: 'f32' }], { axes: [-1, 0], keepdims: 0 }, 13);
    const g = importOnnxBytes(bytes, { baseDir: '.', fileName: 'reduce.onnx' });
    const op = g.ops[0]!;
    expect(op.attrs.has('axes')).toBe(false);
    expect(op.inputs).toHaveLength(2);
    expect(op.inputs[1]!.constant!.get().toArray()).toEqual([-1, 0]);
    expect(op.outputs[0]!.type!.shape).toEqual([4]);
    const y = runGraph(g, { x }).outputs.get('y')!;
    const want = Array.from({ length: 4 }, (_, j) => {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) s += x.data[(i * 4 + j) * 5 + k]!;
      return s / 15;
    });
    expect(maxErr(y.data, want)).toBeLessThan(1e-6);
    // the opset-18 form (axes input) gives the same
    const y18 = runOne('ReduceMean', [x, Tensor.vector('i64', [0, 2])], { keepdims: 0 }, { consts: [1] }).out[0]!;
    expect(maxErr(y18.data, want)).toBeLessThan(1e-6);
    // an attribute at opset 18 is an error
    const bad = onnxModel('ReduceMean', [{ name: 'x', t: x }], [{ name: 'y', dtype: 'f32' }], { axes: [1] }, 18);
    expect(() => importOnnxBytes(bad, { baseDir: '.', fileName: 'bad.onnx' })).toThrow(/PIMC0206/);
  });

  it('reduces everything without axes, or nothing with noop_with_empty_axes', () => {
    const all = runOne('ReduceSum', [x], { keepdims: 1 }).out[0]!;
    expect(all.shape).toEqual([1, 1, 1]);
    expect(all.data[0]).toBeCloseTo(x.toArray().reduce((a, b) => a + b, 0), 4);
    const noop = runOne('ReduceSum', [x, Tensor.vector('i64', [])], { noop_with_empty_axes: 1 }, { consts: [1] }).out[0]!;
    expect(noop.toArray()).toEqual(x.toArray());
    const mx = runOne('ReduceMax', [Tensor.from('i32', [2, 3], [1, -7, 4, 9, 2, -3]), Tensor.vector('i64', [1])], { keepdims: 0 }, { consts: [1] }).out[0]!;
    expect(mx.dtype).toBe('i32');
    expect(mx.toArray()).toEqual([4, 9]);
  });

  it('infers shapes when the axes are only known at run time', () => {
    const t = inferOnly('ReduceMean', [{ dtype: 'f32', shape: ['b', 16, 768] }, { dtype: 'i64', shape: [1] }], { keepdims: 0 });
    expect(t[0]!.shape).toHaveLength(2);
    const k = inferOnly('ReduceMean', [{ dtype: 'f32', shape: ['b', 16, 768] }, { dtype: 'i64', shape: [1] }], { keepdims: 1 });
    expect(k[0]!.shape).toHaveLength(3);
  });
});

// ---- RMSNormalization ------------------------------------------------------------

function rmsRef(x: Tensor, scale: Tensor, axis: number, eps: number): number[] {
  const n = x.shape.slice(axis).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let r = 0; r < x.size / n; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x.data[r * n + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) out.push(x.data[r * n + i]! * inv * scale.data[i % scale.size]!);
  }
  return out;
}

describe('RMSNormalization', () => {
  it('matches x / sqrt(mean(x^2) + eps) * scale over the last axis and over several axes', () => {
    const x = rand([2, 3, 8], 31), s8 = rand([8], 32), s38 = rand([3, 8], 33);
    const y = runOne('RMSNormalization', [x, s8]).out[0]!;
    expect(maxErr(y.data, rmsRef(x, s8, 2, 1e-5))).toBeLessThan(1e-5);
    const y2 = runOne('RMSNormalization', [x, s38], { axis: 1, epsilon: F(0.1) }).out[0]!;
    expect(maxErr(y2.data, rmsRef(x, s38, 1, 0.1))).toBeLessThan(1e-5);
  });
});

// ---- RotaryEmbedding ---------------------------------------------------------------

/** Caches for angle = pos * 10000^(-2i/R), [maxPos, R/2]. */
function ropeCaches(maxPos: number, half: number): { cos: Tensor; sin: Tensor; angle: (p: number, i: number) => number } {
  const angle = (p: number, i: number) => p * 10000 ** (-i / half);
  const c: number[] = [], s: number[] = [];
  for (let p = 0; p < maxPos; p++) for (let i = 0; i < half; i++) { c.push(Math.cos(angle(p, i))); s.push(Math.sin(angle(p, i))); }
  return { cos: Tensor.from('f32', [maxPos, half], c), sin: Tensor.from('f32', [maxPos, half], s), angle };
}

/** Rotates one head vector (float64), as the RoPE papers write it. */
function rotateHead(v: number[], pos: number, rdim: number, interleaved: boolean, angle: (p: number, i: number) => number): number[] {
  const out = [...v];
  const half = rdim / 2;
  for (let i = 0; i < half; i++) {
    const [a, b] = interleaved ? [2 * i, 2 * i + 1] : [i, i + half];
    const th = angle(pos, i);
    out[a] = v[a]! * Math.cos(th) - v[b]! * Math.sin(th);
    out[b] = v[a]! * Math.sin(th) + v[b]! * Math.cos(th);
  }
  return out;
}

describe('RotaryEmbedding', () => {
  const [B, H, S, D] = [2, 3, 5, 8];
  const pos = Tensor.from('i64', [B, S], [3, 4, 5, 6, 7, 0, 2, 4, 6, 8]);

  for (const interleaved of [0, 1]) {
    for (const rdim of [0, 4]) {
      it(`4-D with position_ids, interleaved=${interleaved}, rotary_embedding_dim=${rdim}`, () => {
        const R = rdim || D;
        const { cos, sin, angle } = ropeCaches(16, R / 2);
        const x = rand([B, H, S, D], 41);
        const y = runOne('RotaryEmbedding', [x, cos, sin, pos], { interleaved, rotary_embedding_dim: rdim }).out[0]!;
        const want: number[] = [];
        for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let s = 0; s < S; s++) {
          const off = ((b * H + h) * S + s) * D;
          want.push(...rotateHead(Array.from(x.data.subarray(off, off + D)), pos.data[b * S + s]!, R, interleaved === 1, angle));
        }
        expect(maxErr(y.data, want)).toBeLessThan(1e-5);
      });
    }
  }

  it('3-D [batch, seq, heads*head] with num_heads and per-token caches', () => {
    const { angle } = ropeCaches(1, D / 2);
    // caches [B, S, D/2] for positions 10 + b + s
    const c: number[] = [], sn: number[] = [];
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) for (let i = 0; i < D / 2; i++) {
      c.push(Math.cos(angle(10 + b + s, i)));
      sn.push(Math.sin(angle(10 + b + s, i)));
    }
    const cos = Tensor.from('f32', [B, S, D / 2], c), sin = Tensor.from('f32', [B, S, D / 2], sn);
    const x = rand([B, S, H * D], 42);
    for (const interleaved of [0, 1]) {
      const y = runOne('RotaryEmbedding', [x, cos, sin], { interleaved, num_heads: H }).out[0]!;
      const want: number[] = [];
      for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) for (let h = 0; h < H; h++) {
        const off = (b * S + s) * H * D + h * D;
        want.push(...rotateHead(Array.from(x.data.subarray(off, off + D)), 10 + b + s, D, interleaved === 1, angle));
      }
      expect(maxErr(y.data, want)).toBeLessThan(1e-5);
    }
  });
});

// ---- Attention -----------------------------------------------------------------

interface AttnCase {
  q: Tensor; k: Tensor; v: Tensor;
  mask?: Tensor | null; pastK?: Tensor | null; pastV?: Tensor | null;
  attrs?: Record<string, Attr>;
}

/** [B, S, H*D] -> [B, H, S, D] as nested arrays; 4-D tensors as they are. */
function heads(t: Tensor, h: number): number[][][][] {
  const [B, S, HD] = t.rank === 4 ? [t.shape[0]!, t.shape[2]!, t.shape[1]! * t.shape[3]!] : t.shape as [number, number, number];
  const H = t.rank === 4 ? t.shape[1]! : h, D = HD / H;
  const at = (b: number, hh: number, s: number, d: number) => (t.rank === 4 ? t.data[((b * H + hh) * S + s) * D + d]! : t.data[(b * S + s) * HD + hh * D + d]!);
  return Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, hh) => Array.from({ length: S }, (_, s) => Array.from({ length: D }, (_, d) => at(b, hh, s, d)))));
}

/** Attention from plain loops: concat the cache, scores, mask, causal, softmax, weighted sum (float64). */
function attentionRef(c: AttnCase): { y: number[][][][]; presentK: number[][][][]; presentV: number[][][][] } {
  const a = c.attrs ?? {};
  const Q = heads(c.q, a.q_num_heads as number), Kn = heads(c.k, a.kv_num_heads as number), Vn = heads(c.v, a.kv_num_heads as number);
  const pk = c.pastK ? heads(c.pastK, 0) : null, pv = c.pastV ? heads(c.pastV, 0) : null;
  const K = Kn.map((hs, b) => hs.map((rows, h) => [...(pk ? pk[b]![h]! : []), ...rows]));
  const V = Vn.map((hs, b) => hs.map((rows, h) => [...(pv ? pv[b]![h]! : []), ...rows]));
  const Hq = Q[0]!.length, Hkv = K[0]!.length, D = Q[0]![0]![0]!.length;
  const past = pk ? pk[0]![0]!.length : 0;
  const sa = a.scale as AttrValue | undefined;
  const scale = sa?.kind === 'float' ? sa.value : 1 / Math.sqrt(D);
  const maskAt = (b: number, h: number, i: number, t: number): number => {
    const m = c.mask;
    if (!m) return 0;
    const shape = [...new Array<number>(4 - m.rank).fill(1), ...m.shape];
    const idx = [b, h, i, t].map((x, d) => (shape[d] === 1 ? 0 : x));
    if (t >= shape[3]!) return -Infinity;
    const off = ((idx[0]! * shape[1]! + idx[1]!) * shape[2]! + idx[2]!) * shape[3]! + idx[3]!;
    const val = m.data[off]!;
    return m.dtype === 'bool' ? (val ? 0 : -Infinity) : val;
  };
  const y = Q.map((hs, b) => hs.map((rows, h) => rows.map((qrow, i) => {
    const kv = Math.floor((h * Hkv) / Hq);
    const sc = K[b]![kv]!.map((krow, t) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += qrow[d]! * krow[d]!;
      let x = s * scale + maskAt(b, h, i, t);
      if (a.is_causal === 1 && t > i + past) x = -Infinity;
      return x;
    });
    const m = Math.max(...sc);
    const e = sc.map((x) => Math.exp(x - m));
    const z = e.reduce((p, x) => p + x, 0);
    return V[b]![kv]![0]!.map((_, dv) => e.reduce((p, w, t) => p + (w / z) * V[b]![kv]![t]![dv]!, 0));
  })));
  return { y, presentK: K, presentV: V };
}

/** Flattens [B, H, S, D] to the layout of a 4-D or (when threeD) 3-D tensor. */
function flat(x: number[][][][], threeD: boolean): number[] {
  if (!threeD) return x.flat(3);
  const out: number[] = [];
  const [B, H, S] = [x.length, x[0]!.length, x[0]![0]!.length];
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) for (let h = 0; h < H; h++) out.push(...x[b]![h]![s]!);
  return out;
}

function checkAttention(c: AttnCase): Tensor[] {
  const { out } = runOne('Attention', [c.q, c.k, c.v, c.mask ?? null, c.pastK ?? null, c.pastV ?? null], c.attrs ?? {}, { outputs: 3 });
  const ref = attentionRef(c);
  expect(maxErr(out[0]!.data, flat(ref.y, c.q.rank === 3))).toBeLessThan(1e-5);
  expect(maxErr(out[1]!.data, ref.presentK.flat(3))).toBe(0);
  expect(maxErr(out[2]!.data, ref.presentV.flat(3))).toBe(0);
  return out;
}

describe('Attention', () => {
  it('4-D multi-head attention without a mask', () => {
    checkAttention({ q: rand([2, 4, 5, 8], 51), k: rand([2, 4, 6, 8], 52), v: rand([2, 4, 6, 3], 53) });
  });

  it('3-D inputs with q_num_heads and kv_num_heads, and an explicit scale', () => {
    const out = checkAttention({ q: rand([2, 5, 4 * 8], 54), k: rand([2, 5, 4 * 8], 55), v: rand([2, 5, 4 * 6], 56), attrs: { q_num_heads: 4, kv_num_heads: 4, scale: F(0.3) } });
    expect(out[0]!.shape).toEqual([2, 5, 24]);
    expect(out[1]!.shape).toEqual([2, 4, 5, 8]);
  });

  it('is_causal on a decode step: one query attends the whole past of 7', () => {
    const out = checkAttention({
      q: rand([1, 4, 1, 8], 57), k: rand([1, 4, 1, 8], 58), v: rand([1, 4, 1, 8], 59),
      pastK: rand([1, 4, 7, 8], 60), pastV: rand([1, 4, 7, 8], 61), attrs: { is_causal: 1 },
    });
    expect(out[1]!.shape).toEqual([1, 4, 8, 8]);
  });

  it('is_causal on a prefill chunk after a past of 3 aligns the mask to the end', () => {
    checkAttention({
      q: rand([1, 2, 4, 8], 62), k: rand([1, 2, 4, 8], 63), v: rand([1, 2, 4, 8], 64),
      pastK: rand([1, 2, 3, 8], 65), pastV: rand([1, 2, 3, 8], 66), attrs: { is_causal: 1 },
    });
    // query 0 must ignore the keys after past + 0: changing them changes nothing
    const base = { q: rand([1, 1, 2, 4], 67), k: rand([1, 1, 2, 4], 68), v: rand([1, 1, 2, 4], 69), pastK: rand([1, 1, 3, 4], 70), pastV: rand([1, 1, 3, 4], 71) };
    const y1 = runOne('Attention', [base.q, base.k, base.v, null, base.pastK, base.pastV], { is_causal: 1 }, { outputs: 3 }).out[0]!;
    const v2 = Tensor.from('f32', [1, 1, 2, 4], [...base.v.toArray().slice(0, 4), 9, 9, 9, 9]);
    const y2 = runOne('Attention', [base.q, base.k, v2, null, base.pastK, base.pastV], { is_causal: 1 }, { outputs: 3 }).out[0]!;
    expect(Array.from(y2.data.subarray(0, 4))).toEqual(Array.from(y1.data.subarray(0, 4)));
    expect(Array.from(y2.data.subarray(4, 8))).not.toEqual(Array.from(y1.data.subarray(4, 8)));
  });

  it('grouped-query attention: 8 query heads share 2 kv heads', () => {
    checkAttention({ q: rand([2, 8, 3, 4], 72), k: rand([2, 2, 3, 4], 73), v: rand([2, 2, 3, 4], 74), attrs: { is_causal: 1 } });
    checkAttention({ q: rand([1, 3, 8 * 4], 75), k: rand([1, 3, 2 * 4], 76), v: rand([1, 3, 2 * 4], 77), attrs: { q_num_heads: 8, kv_num_heads: 2 } });
  });

  it('a bool mask and a float additive mask (broadcast, with a short key dim padded)', () => {
    const bits = [1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1];
    const boolMask = Tensor.from('bool', [2, 1, 3, 4], bits);
    checkAttention({ q: rand([2, 2, 3, 4], 78), k: rand([2, 2, 4, 4], 79), v: rand([2, 2, 4, 4], 80), mask: boolMask });
    const floatMask = rand([3, 3], 81); // keys 3 (the 4th) padded with -inf
    checkAttention({ q: rand([2, 2, 3, 4], 82), k: rand([2, 2, 2, 4], 83), v: rand([2, 2, 2, 4], 84), pastK: rand([2, 2, 2, 4], 85), pastV: rand([2, 2, 2, 4], 86), mask: floatMask, attrs: { is_causal: 1 } });
  });

  it('infers symbolic cache shapes and the qk_matmul_output', () => {
    const t = inferOnly('Attention', [
      { dtype: 'f32', shape: ['b', 32, 1, 128] }, { dtype: 'f32', shape: ['b', 8, 1, 128] }, { dtype: 'f32', shape: ['b', 8, 1, 128] },
    ], {}, 1);
    expect(t[0]!.shape).toEqual(['b', 32, 1, 128]);
    const g = new Graph('t', new Map([['', 23]]));
    const ins: (Value | null)[] = [['b', 1, 4096], ['b', 1, 1024], ['b', 1, 1024]].map((s, i) => g.addInput(new Value(`i${i}`, { dtype: 'f32', shape: s as Dim[] })));
    ins.push(null, g.addInput(new Value('pk', { dtype: 'f32', shape: ['b', 8, 'past', 128] })), g.addInput(new Value('pv', { dtype: 'f32', shape: ['b', 8, 'past', 128] })));
    const outs = [0, 1, 2, 3].map((i) => new Value(`o${i}`));
    g.addOp(new Op({ name: 'a', type: 'Attention', inputs: ins, outputs: outs, attrs: attrMap({ q_num_heads: 32, kv_num_heads: 8 }) }));
    inferShapes(g);
    expect(outs.map((o) => o.type!.shape)).toEqual([['b', 1, 4096], ['b', 8, 'past + 1', 128], ['b', 8, 'past + 1', 128], ['b', 32, 1, 'past + 1']]);
  });
});

// ---- registry entries -----------------------------------------------------------

describe('compute op definitions', () => {
  const types = ['MatMul', 'Gemm', 'Einsum', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'RMSNormalization',
    'ReduceMean', 'ReduceSum', 'ReduceMax', 'RotaryEmbedding', 'Attention'];
  it('each has a summary, opsets ending at 23 and an example naming the op', () => {
    for (const t of types) {
      const d = lookupOp('', t)!;
      expect(d, t).toBeDefined();
      expect(d.opsets[1]).toBe(23);
      expect(d.summary.length).toBeGreaterThan(10);
      expect(d.example).toContain(`= ${t}(`);
    }
  });

  it('counts 2*M*N*K FLOPs for MatMul', () => {
    const d = lookupOp('', 'MatMul')!;
    const op = new Op({ name: 'm', type: 'MatMul', inputs: [], outputs: [] });
    const cost = d.cost({
      op, attrs: new Attrs(op, d.attrs),
      inputs: [{ dtype: 'f32', shape: [1, 16, 768] }, { dtype: 'f32', shape: [768, 50257] }],
      outputs: [{ dtype: 'f32', shape: [1, 16, 50257] }],
    });
    expect(cost.flops).toBe(2 * 16 * 768 * 50257);
    expect(cost.bytes).toBe(4 * (16 * 768 + 768 * 50257 + 16 * 50257));
  });
});

// ---- ONNX Runtime cross-checks -------------------------------------------------

type OrtIn = { name: string; t: Tensor | null };

async function runOrt(bytes: Uint8Array, ins: OrtIn[], outNames: string[]): Promise<Float32Array[]> {
  const o = ort!;
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const { name, t } of ins) {
    if (!t) continue;
    const shape = [...t.shape];
    feeds[name] = t.dtype === 'i64' ? new o.Tensor('int64', BigInt64Array.from(t.toArray(), (v) => BigInt(v)), shape)
      : t.dtype === 'bool' ? new o.Tensor('bool', Uint8Array.from(t.data as Uint8Array), shape)
        : new o.Tensor('float32', Float32Array.from(t.data as Float32Array), shape);
  }
  const session = await o.InferenceSession.create(bytes);
  try {
    const r = await session.run(feeds);
    return outNames.map((n) => r[n]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Runs a one-node opset-23 model through pimc's importer + interpreter and through ONNX Runtime. */
async function crossCheck(type: string, ins: OrtIn[], outs: string[], attrs: Record<string, Attr>): Promise<void> {
  const bytes = onnxModel(type, ins, outs.map((name) => ({ name, dtype: 'f32' })), attrs, 23);
  const g = importOnnxBytes(bytes, { baseDir: '.', fileName: `${type}.onnx` });
  const feeds = Object.fromEntries(ins.filter((i) => i.t).map((i) => [i.name, i.t!]));
  const mine = runGraph(g, feeds).outputs;
  const theirs = await runOrt(bytes, ins, outs);
  // ONNX Runtime masks with the lowest float where the spec (and pimc) use -inf.
  const lowest = (x: number) => (x < -3e38 ? -Infinity : x);
  outs.forEach((n, i) => {
    expect(maxErr(Array.from(mine.get(n)!.data, lowest), Array.from(theirs[i]!, lowest)), `${type} ${n}`).toBeLessThan(2e-5);
  });
}

describe('against ONNX Runtime (opset 23)', () => {
  withOrt('RMSNormalization', async () => {
    await crossCheck('RMSNormalization', [{ name: 'x', t: rand([2, 3, 16], 91) }, { name: 's', t: rand([16], 92) }], ['y'], { epsilon: F(1e-5) });
  });

  withOrt('RotaryEmbedding, rotate-half and interleaved, full and partial', async () => {
    const pos = Tensor.from('i64', [2, 4], [0, 1, 2, 3, 5, 6, 7, 8]);
    for (const interleaved of [0, 1]) {
      for (const rdim of [0, 8]) {
        const { cos, sin } = ropeCaches(12, (rdim || 16) / 2);
        await crossCheck('RotaryEmbedding', [
          { name: 'x', t: rand([2, 3, 4, 16], 93) }, { name: 'cos', t: cos }, { name: 'sin', t: sin }, { name: 'pos', t: pos },
        ], ['y'], { interleaved, rotary_embedding_dim: rdim });
      }
    }
    const { cos, sin } = ropeCaches(12, 8);
    await crossCheck('RotaryEmbedding', [
      { name: 'x', t: rand([2, 4, 3 * 16], 94) }, { name: 'cos', t: cos }, { name: 'sin', t: sin }, { name: 'pos', t: pos },
    ], ['y'], { num_heads: 3 });
  });

  withOrt('Attention: causal decode with a cache, GQA, masks, 3-D inputs', async () => {
    await crossCheck('Attention', [
      { name: 'q', t: rand([1, 8, 1, 16], 101) }, { name: 'k', t: rand([1, 2, 1, 16], 102) }, { name: 'v', t: rand([1, 2, 1, 16], 103) },
      { name: 'mask', t: null }, { name: 'pk', t: rand([1, 2, 7, 16], 104) }, { name: 'pv', t: rand([1, 2, 7, 16], 105) },
    ], ['y', 'present_k', 'present_v'], { is_causal: 1 });
    await crossCheck('Attention', [
      { name: 'q', t: rand([2, 4, 5, 8], 106) }, { name: 'k', t: rand([2, 4, 5, 8], 107) }, { name: 'v', t: rand([2, 4, 5, 8], 108) },
    ], ['y'], { is_causal: 1 });
    await crossCheck('Attention', [
      { name: 'q', t: rand([2, 5, 4 * 8], 109) }, { name: 'k', t: rand([2, 6, 2 * 8], 110) }, { name: 'v', t: rand([2, 6, 2 * 8], 111) },
      { name: 'mask', t: Tensor.from('bool', [5, 6], Array.from({ length: 30 }, (_, i) => (i % 7 === 3 ? 0 : 1))) },
    ], ['y'], { q_num_heads: 4, kv_num_heads: 2 });
    await crossCheck('Attention', [
      { name: 'q', t: rand([1, 2, 3, 8], 112) }, { name: 'k', t: rand([1, 2, 3, 8], 113) }, { name: 'v', t: rand([1, 2, 3, 8], 114) },
      { name: 'mask', t: rand([1, 2, 3, 5], 115) }, { name: 'pk', t: rand([1, 2, 2, 8], 116) }, { name: 'pv', t: rand([1, 2, 2, 8], 117) },
    ], ['y', 'present_k', 'present_v'], { scale: F(0.25) });
  });

  withOrt('Attention: softcap with a mask, and each qk_matmul_output_mode', async () => {
    for (const mode of [0, 1, 2, 3]) {
      await crossCheck('Attention', [
        { name: 'q', t: rand([1, 2, 3, 8], 118) }, { name: 'k', t: rand([1, 2, 4, 8], 119) }, { name: 'v', t: rand([1, 2, 4, 8], 120) },
        { name: 'mask', t: Tensor.from('bool', [3, 4], [1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0]) },
      ], ['y', 'pk', 'pv', 'qk'], { softcap: F(0.5), qk_matmul_output_mode: mode, scale: F(2) });
    }
  });
});
