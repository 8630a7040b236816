// fuse-rope, fuse-kv-cache and fuse-attention on small hand-written graphs:
// each exporter form fuses (named after its anchor, with the same outputs on
// random inputs), and near misses stay as they were.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../ir/graph.js';
import { parseGraph } from '../../../ir/parser.js';
import { Tensor } from '../../../ir/tensor.js';
import { runGraph } from '../../reference/interpreter.js';
import { inferShapes } from '../infer-shapes.js';
import { runPasses } from '../manager.js';
import '../pipelines.js';

// ---- helpers ------------------------------------------------------------------

/** Seeded uniform numbers in [-1, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function parse(body: string, opset = 17): Graph {
  const g = parseGraph(`graph "t" {\n  opset "" ${opset}\n${body}\n}\n`);
  inferShapes(g);
  return g;
}

const ALL = ['fuse-rope', 'fuse-kv-cache', 'fuse-attention', 'dce'];

/** The graph after the given passes (the manager verifies the IR after each). */
function fused(body: string, opset = 17, passes = ALL): Graph {
  const g = parse(body, opset);
  runPasses(g, passes);
  return g;
}

const types = (g: Graph) => g.ops.map((o) => (o.domain ? `${o.domain}.${o.type}` : o.type));
const only = (g: Graph, type: string) => {
  const ops = g.ops.filter((o) => `${o.domain ? o.domain + '.' : ''}${o.type}` === type);
  expect(ops, type).toHaveLength(1);
  return ops[0]!;
};

/** Random inputs: floats in [-2, 2), bools true with probability 3/4 (key 0 always true). */
function inputsFor(g: Graph, seed = 11): Map<string, Tensor> {
  const r = rng(seed);
  const m = new Map<string, Tensor>();
  for (const v of g.inputs) {
    const shape = v.type!.shape as number[];
    const t = new Tensor(v.type!.dtype, shape);
    const last = shape[shape.length - 1] ?? 1;
    for (let i = 0; i < t.size; i++) {
      if (v.type!.dtype === 'bool') t.data[i] = i % last === 0 || r() > -0.5 ? 1 : 0;
      else if (v.type!.dtype === 'i64') t.data[i] = i % last; // position ids 0..seq-1
      else t.data[i] = 2 * r();
    }
    m.set(v.name, t);
  }
  return m;
}

/** Outputs of a and b agree within 1e-5 of their magnitude. */
function expectSameOutputs(a: Graph, b: Graph, seed = 11): void {
  const ins = inputsFor(a, seed);
  const ra = runGraph(a, ins).outputs, rb = runGraph(b, ins).outputs;
  expect([...rb.keys()]).toEqual([...ra.keys()]);
  for (const [name, t] of ra) {
    const u = rb.get(name)!;
    expect(u.shape, name).toEqual(t.shape);
    let mag = 0;
    for (let i = 0; i < t.size; i++) mag = Math.max(mag, Math.abs(t.data[i]!));
    const tol = 1e-5 * Math.max(1e-3, mag);
    let bad = 0;
    for (let i = 0; i < t.size; i++) if (!(Math.abs(t.data[i]! - u.data[i]!) <= tol)) bad++;
    expect(bad, `${name}: elements off by more than ${tol}`).toBe(0);
  }
}

/** Fuses the body and checks the fused graph computes what the original did. */
function fusesTo(body: string, opset = 17, passes = ALL): Graph {
  const g = fused(body, opset, passes);
  expectSameOutputs(parse(body, opset), g);
  return g;
}

// ---- RoPE -------------------------------------------------------------------------

const ROPE_CONSTS = `
  input %x : f32[1, 4, 3, 8]
  input %cos : f32[1, 1, 3, 8]
  input %sin : f32[1, 1, 3, 8]
  const %h : i64[1] = dense [4]
  const %zero : i64[1] = dense [0]
  const %end : i64[1] = dense [9223372036854775807]
  const %last : i64[1] = dense [3]
  const %one : i64[1] = dense [1]`;

/** HF rotate_half: Concat(Neg(x[hi]), x[lo]) with slice bounds given as constants. */
const hfRope = (extraOut = '', hi = ['%h', '%end'], lo = ['%zero', '%h']) => `${ROPE_CONSTS}
  %x2 = Slice(%x, ${hi[0]}, ${hi[1]}, %last, %one)
  %neg = Neg(%x2)
  %x1 = Slice(%x, ${lo[0]}, ${lo[1]}, %last, %one)
  %rot = Concat(%neg, %x1) {axis = -1}
  %xc = Mul(%x, %cos)
  %rs = Mul(%rot, %sin)
  %y = Add(%xc, %rs)
  output %y${extraOut}`;

describe('fuse-rope', () => {
  it('fuses HF rotate_half RoPE into pimc.Rope named after the Add', () => {
    const g = fusesTo(hfRope());
    expect(types(g)).toEqual(['pimc.Rope']);
    const rope = only(g, 'pimc.Rope');
    expect(rope.name).toBe('y');
    expect(rope.inputs.map((v) => v!.name)).toEqual(['x', 'cos', 'sin']);
  });

  it('fuses with the operands of Add and of both Muls swapped', () => {
    const body = `${ROPE_CONSTS}
  %x2 = Slice(%x, %h, %end, %last, %one)
  %neg = Neg(%x2)
  %x1 = Slice(%x, %zero, %h, %last, %one)
  %rot = Concat(%neg, %x1) {axis = 3}
  %xc = Mul(%cos, %x)
  %rs = Mul(%sin, %rot)
  %y = Add(%rs, %xc)
  output %y`;
    expect(types(fusesTo(body))).toEqual(['pimc.Rope']);
  });

  it('fuses halves made by one Split', () => {
    const body = `${ROPE_CONSTS}
  const %halves : i64[2] = dense [4, 4]
  %x1, %x2 = Split(%x, %halves) {axis = -1}
  %neg = Neg(%x2)
  %rot = Concat(%neg, %x1) {axis = -1}
  %xc = Mul(%x, %cos)
  %rs = Mul(%rot, %sin)
  %y = Add(%xc, %rs)
  output %y`;
    expect(types(fusesTo(body))).toEqual(['pimc.Rope']);
  });

  it('reads slice bounds that shape inference knows but folding has not made constants', () => {
    const body = `${ROPE_CONSTS}
  const %three : i64[] = dense [3]
  const %two : i64[] = dense [2]
  %shape = Shape(%x)
  %d = Gather(%shape, %three) {axis = 0}
  %hs = Div(%d, %two)
  %hv = Unsqueeze(%hs, %zero)
  %x2 = Slice(%x, %hv, %end, %last, %one)
  %neg = Neg(%x2)
  %x1 = Slice(%x, %zero, %hv, %last, %one)
  %rot = Concat(%neg, %x1) {axis = -1}
  %xc = Mul(%x, %cos)
  %rs = Mul(%rot, %sin)
  %y = Add(%xc, %rs)
  output %y`;
    expect(types(fusesTo(body, 17, ['fuse-rope', 'dce']))).toEqual(['pimc.Rope']);
  });

  it('leaves mismatched halves alone', () => {
    const pimcOps = (body: string) => fused(body).ops.filter((o) => o.domain === 'pimc');
    expect(pimcOps(hfRope())).toHaveLength(1);
    expect(pimcOps(hfRope('', ['%zero', '%h'], ['%h', '%end']))).toHaveLength(0); // the sign on the wrong half
    expect(pimcOps(hfRope('', ['%h', '%end'], ['%h', '%end']))).toHaveLength(0); // the same half twice
  });

  it('leaves it alone when an intermediate is read elsewhere', () => {
    expect(fused(hfRope(', %neg')).ops.some((o) => o.domain === 'pimc')).toBe(false);
    expect(fused(hfRope(', %xc')).ops.some((o) => o.domain === 'pimc')).toBe(false);
  });

  it('converts opset-23 RotaryEmbedding, sharing the widened tables across calls', () => {
    const body = `
  input %q : f32[2, 4, 3, 8]
  input %k : f32[2, 2, 3, 8]
  input %pos : i64[2, 3]
  input %cos_cache : f32[16, 4]
  input %sin_cache : f32[16, 4]
  %qr = RotaryEmbedding(%q, %cos_cache, %sin_cache, %pos)
  %kr = RotaryEmbedding(%k, %cos_cache, %sin_cache, %pos)
  %il = RotaryEmbedding(%k, %cos_cache, %sin_cache, %pos) {interleaved = 1}
  output %qr, %kr, %il`;
    const g = fusesTo(body, 23);
    expect(types(g).filter((t) => t === 'pimc.Rope')).toHaveLength(2);
    expect(types(g).filter((t) => t === 'Gather')).toHaveLength(2); // one per table, not per call
    expect(types(g)).toContain('RotaryEmbedding'); // interleaved stays
  });

  it('converts RotaryEmbedding whose caches are already per (batch, position)', () => {
    const body = `
  input %x : f32[2, 4, 3, 8]
  input %cos : f32[2, 3, 4]
  input %sin : f32[2, 3, 4]
  %y = RotaryEmbedding(%x, %cos, %sin)
  output %y`;
    expect(types(fusesTo(body, 23))).toEqual(['Concat', 'Unsqueeze', 'Concat', 'Unsqueeze', 'pimc.Rope']);
  });
});

// ---- KV cache ------------------------------------------------------------------------

describe('fuse-kv-cache', () => {
  const body = (axis: number, past = 'past_key') => `
  input %past_key : f32[1, 2, 7, 8]
  input %k : f32[1, 2, 1, 8]
  %kk = Identity(%past_key)
  %present_key = Concat(%${past}, %k) {axis = ${axis}}
  output %present_key`;

  it('turns Concat(past input, new, axis 2) into pimc.KvAppend producing the present output', () => {
    const g = fusesTo(body(2));
    const kv = only(g, 'pimc.KvAppend');
    expect(kv.name).toBe('present_key');
    expect(g.outputs[0]).toBe(kv.outputs[0]);
    expect(g.outputs[0]!.type!.shape).toEqual([1, 2, 8, 8]);
  });

  it('leaves other concats alone', () => {
    expect(types(fused(body(-1).replace('[1, 2, 1, 8]', '[1, 2, 7, 8]')))).not.toContain('pimc.KvAppend');
    expect(types(fused(body(2, 'kk')))).not.toContain('pimc.KvAppend'); // past is not a graph input
  });
});

// ---- attention ---------------------------------------------------------------------------

/** GPT-2 decode step: cache append, Transpose(k), Div by sqrt(d), Where(mask, s, lowest). */
const GPT2_DECODE = `
  input %q : f32[1, 2, 1, 8]
  input %past_key : f32[1, 2, 7, 8]
  input %past_value : f32[1, 2, 7, 8]
  input %k : f32[1, 2, 1, 8]
  input %v : f32[1, 2, 1, 8]
  input %mask : bool[1, 1, 1, 8]
  const %sqrt_d : f32[] = dense [2.828427]
  const %lowest : f32[] = dense [-3.4028235e+38]
  %present_key = Concat(%past_key, %k) {axis = 2}
  %present_value = Concat(%past_value, %v) {axis = 2}
  %kt = Transpose(%present_key) {perm = [0, 1, 3, 2]}
  %s = MatMul(%q, %kt)
  %sd = Div(%s, %sqrt_d)
  %w = Where(%mask, %sd, %lowest)
  %p = Softmax(%w) {axis = -1}
  %y = MatMul(%p, %present_value)
  output %y, %present_key, %present_value`;

/** LLaMA GQA prefill-with-cache: 8 q heads, 2 kv heads repeated by Unsqueeze/Expand/Reshape, additive mask. */
const LLAMA_GQA = `
  input %q : f32[1, 8, 3, 8]
  input %past_key : f32[1, 2, 4, 8]
  input %past_value : f32[1, 2, 4, 8]
  input %k : f32[1, 2, 3, 8]
  input %v : f32[1, 2, 3, 8]
  input %mask : f32[1, 1, 3, 7]
  const %ax2 : i64[1] = dense [2]
  const %rep : i64[5] = dense [1, 2, 4, 7, 8]
  const %heads : i64[4] = dense [1, 8, 7, 8]
  const %sqrt_d : f32[] = dense [2.828427]
  %present_key = Concat(%past_key, %k) {axis = 2}
  %present_value = Concat(%past_value, %v) {axis = 2}
  %ku = Unsqueeze(%present_key, %ax2)
  %ke = Expand(%ku, %rep)
  %kr = Reshape(%ke, %heads)
  %vu = Unsqueeze(%present_value, %ax2)
  %ve = Expand(%vu, %rep)
  %vr = Reshape(%ve, %heads)
  %kt = Transpose(%kr) {perm = [0, 1, 3, 2]}
  %s = MatMul(%q, %kt)
  %sd = Div(%s, %sqrt_d)
  %sm = Add(%sd, %mask)
  %p = Softmax(%sm) {axis = -1}
  %y = MatMul(%p, %vr)
  output %y, %present_key, %present_value`;

/** BERT (torch MHA) with the batch folded away: q scaled first, k transposed by [1, 2, 0] from [seq, heads, d]. */
const BERT = `
  input %q : f32[4, 5, 8]
  input %k_sh : f32[5, 4, 8]
  input %v : f32[4, 5, 8]
  const %sqrt_d : f32[] = dense [2.828427]
  %qs = Div(%q, %sqrt_d)
  %kt = Transpose(%k_sh) {perm = [1, 2, 0]}
  %s = MatMul(%qs, %kt)
  %p = Softmax(%s) {axis = -1}
  %y = MatMul(%p, %v)
  output %y`;

describe('fuse-attention', () => {
  it('fuses a GPT-2 decode step: KvAppend per cache, Attention with a bool mask', () => {
    const g = fusesTo(GPT2_DECODE);
    expect(types(g)).toEqual(['pimc.KvAppend', 'pimc.KvAppend', 'pimc.Attention']);
    const a = only(g, 'pimc.Attention');
    expect(a.name).toBe('p');
    expect(a.inputs.map((v) => v!.name)).toEqual(['q', 'present_key', 'present_value', 'mask']);
    expect(a.attrs.get('mask_mode')?.value).toBe('bool');
    expect(a.attrs.get('scale')?.value).toBe(Math.fround(1 / Math.fround(2.828427)));
  });

  it('fuses grouped-query attention (8 q heads, 2 kv heads) reading the un-repeated cache', () => {
    const g = fusesTo(LLAMA_GQA);
    expect(types(g)).toEqual(['pimc.KvAppend', 'pimc.KvAppend', 'pimc.Attention']);
    const a = only(g, 'pimc.Attention');
    expect(a.inputs.map((v) => v!.name)).toEqual(['q', 'present_key', 'present_value', 'mask']);
    expect(a.attrs.get('mask_mode')?.value).toBe('add');
  });

  it('keeps the repeat ops when something else reads them, still fusing on the un-repeated cache', () => {
    const g = fusesTo(LLAMA_GQA.replace('output %y,', 'output %y, %kr,'));
    expect(only(g, 'pimc.Attention').inputs[1]!.name).toBe('present_key');
    expect(types(g)).toContain('Expand');
  });

  it('fuses rank-3 BERT attention: scale on q, the [1, 2, 0] transpose reduced to [1, 0, 2]', () => {
    const g = fusesTo(BERT);
    expect(types(g)).toEqual(['Transpose', 'pimc.Attention']);
    const t = only(g, 'Transpose');
    expect(t.name).toBe('kt');
    expect(t.attrs.get('perm')?.value).toEqual([1, 0, 2]);
    expect(only(g, 'pimc.Attention').attrs.get('mask_mode')?.value).toBe('none');
  });

  it('fuses masked_fill (Where(cond, fill, s)) by negating the mask', () => {
    const body = GPT2_DECODE.replace('Where(%mask, %sd, %lowest)', 'Where(%mask, %lowest, %sd)');
    const g = fusesTo(body);
    expect(types(g)).toContain('Equal'); // not mask
    // A constant mask that hides nothing disappears.
    const none = fused(body.replace('input %mask : bool[1, 1, 1, 8]', 'const %mask : bool[1, 1, 1, 8] = dense [false, false, false, false, false, false, false, false]'));
    expect(only(none, 'pimc.Attention').inputs).toHaveLength(3);
  });

  it('leaves near misses alone', () => {
    const noAttention = (body: string) => expect(types(fused(body))).not.toContain('pimc.Attention');
    noAttention(GPT2_DECODE.replace('Softmax(%w) {axis = -1}', 'Softmax(%w) {axis = 2}')); // softmax over queries
    noAttention(GPT2_DECODE.replace('output %y,', 'output %y, %sd,')); // scaled scores read elsewhere
    noAttention(GPT2_DECODE.replace('const %sqrt_d : f32[] = dense [2.828427]', `const %sqrt_d : f32[8] = dense [${'2.0, '.repeat(7)}2.0]`)); // per-key scale
    noAttention(LLAMA_GQA.replace('output %y,', 'output %y, %p,')); // probabilities read elsewhere
  });

  it('converts opset-23 Attention: causal decode (sq 1, past 7) with grouped-query heads', () => {
    const body = `
  input %q : f32[1, 8, 1, 8]
  input %k : f32[1, 2, 1, 8]
  input %v : f32[1, 2, 1, 8]
  input %past_key : f32[1, 2, 7, 8]
  input %past_value : f32[1, 2, 7, 8]
  %y, %present_key, %present_value = Attention(%q, %k, %v, none, %past_key, %past_value) {is_causal = 1}
  output %y, %present_key, %present_value`;
    const g = fusesTo(body, 23);
    expect(types(g)).toEqual(['pimc.KvAppend', 'pimc.KvAppend', 'pimc.Attention']);
    expect(only(g, 'pimc.Attention').attrs.get('causal')?.value).toBe(1);
  });

  it('converts causal prefill onto a cache (sq 3, past 4) and prefill without one (present = Identity)', () => {
    const body = (past: boolean) => `
  input %q : f32[2, 4, 3, 8]
  input %k : f32[2, 2, 3, 8]
  input %v : f32[2, 2, 3, 8]
  input %mask : f32[2, 1, 3, ${past ? 7 : 3}]
  ${past ? 'input %past_key : f32[2, 2, 4, 8]\n  input %past_value : f32[2, 2, 4, 8]' : ''}
  %y, %present_key, %present_value = Attention(%q, %k, %v, %mask${past ? ', %past_key, %past_value' : ''}) {is_causal = 1, scale = 0.3}
  output %y, %present_key, %present_value`;
    expect(types(fusesTo(body(true), 23))).toEqual(['pimc.KvAppend', 'pimc.KvAppend', 'pimc.Attention']);
    expect(types(fusesTo(body(false), 23))).toEqual(['Identity', 'Identity', 'pimc.Attention']);
  });

  it('leaves opset-23 Attention with softcap as it is', () => {
    const body = `
  input %q : f32[1, 2, 3, 8]
  input %k : f32[1, 2, 3, 8]
  input %v : f32[1, 2, 3, 8]
  %y = Attention(%q, %k, %v) {softcap = 5.0}
  output %y`;
    expect(types(fused(body, 23))).toEqual(['Attention']);
  });
});

// ---- the op's own semantics ---------------------------------------------------------------

describe('pimc.Rope', () => {
  it('interleaved = 1 rotates pairs (2i, 2i + 1), as RotaryEmbedding does', () => {
    // Full-width tables repeat each pair's angle: cos_full[2i] = cos_full[2i + 1] = cos[i].
    const body = (fused: boolean) => `
  opset "pimc" 1
  input %x : f32[2, 4, 3, 8]
  input %cos : f32[2, 3, 4]
  input %sin : f32[2, 3, 4]
  const %last : i64[1] = dense [-1]
  const %heads : i64[1] = dense [1]
  const %wide : i64[3] = dense [0, 0, 8]
  %cu = Unsqueeze(%cos, %last)
  %cp = Concat(%cu, %cu) {axis = -1}
  %cr = Reshape(%cp, %wide)
  %cf = Unsqueeze(%cr, %heads)
  %su = Unsqueeze(%sin, %last)
  %sp = Concat(%su, %su) {axis = -1}
  %sr = Reshape(%sp, %wide)
  %sf = Unsqueeze(%sr, %heads)
  %y = ${fused ? 'pimc.Rope(%x, %cf, %sf)' : 'RotaryEmbedding(%x, %cos, %sin)'} {interleaved = 1}
  output %y`;
    expectSameOutputs(parse(body(false), 23), parse(body(true), 23));
  });
});

describe('pimc.Attention', () => {
  it('causal = 1 is the end-aligned mask: query i sees keys up to i + skv - sq', () => {
    const body = (causal: boolean) => `
  opset "pimc" 1
  input %q : f32[1, 2, 3, 4]
  input %k : f32[1, 1, 5, 4]
  input %v : f32[1, 1, 5, 4]
  const %tri : bool[3, 5] = dense [true, true, true, false, false, true, true, true, true, false, true, true, true, true, true]
  %y = pimc.Attention(%q, %k, %v${causal ? '' : ', %tri'}) {scale = 0.5, ${causal ? 'causal = 1' : 'mask_mode = "bool"'}}
  output %y`;
    expectSameOutputs(parse(body(false)), parse(body(true)));
  });
});
