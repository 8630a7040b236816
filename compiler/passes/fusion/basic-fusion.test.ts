// fuse-linear, fuse-layernorm, fuse-rmsnorm, fuse-gelu, fuse-silu on small
// hand-written graphs: each exporter form fuses (named after its anchor, with
// the same outputs on random inputs), and near misses stay as they were.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../ir/graph.js';
import { parseGraph } from '../../../ir/parser.js';
import { printGraph } from '../../../ir/printer.js';
import { Attrs, defOf } from '../../../ir/registry.js';
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

const rand = rng(7);

/** A `const` line with random values (or `fill`) of the shape. */
function konst(name: string, shape: number[], fill?: number): string {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => (fill ?? Math.round(rand() * 1000) / 1000).toString());
  return `const %${name} : f32[${shape.join(', ')}] = dense [${vals.join(', ')}]`;
}

/** A scalar f32 constant. */
const scalar = (name: string, v: number) => `const %${name} : f32[] = dense [${v}]`;

function parse(body: string, opset = 17): Graph {
  const g = parseGraph(`graph "t" {\n  opset "" ${opset}\n${body}\n}\n`);
  inferShapes(g);
  return g;
}

/** The ops of a graph as `domain.Type` (ONNX ops bare). */
const types = (g: Graph) => g.ops.map((o) => (o.domain ? `${o.domain}.${o.type}` : o.type));

/** Random inputs for the graph, symbolic dims set to 2, values in [-3, 3). */
function inputsFor(g: Graph): Map<string, Tensor> {
  const r = rng(11);
  const m = new Map<string, Tensor>();
  for (const v of g.inputs) {
    const shape = v.type!.shape.map((d) => (typeof d === 'number' ? d : 2));
    const t = new Tensor(v.type!.dtype, shape);
    for (let i = 0; i < t.size; i++) t.data[i] = 3 * r();
    m.set(v.name, t);
  }
  return m;
}

/** Outputs of a and b agree within 1e-5 of their magnitude (NaN where the other has NaN). */
function expectSameOutputs(a: Graph, b: Graph): void {
  const ins = inputsFor(a);
  const ra = runGraph(a, ins).outputs;
  const rb = runGraph(b, ins).outputs;
  expect([...rb.keys()]).toEqual([...ra.keys()]);
  for (const [name, t] of ra) {
    const u = rb.get(name)!;
    expect(u.shape, name).toEqual(t.shape);
    let mag = 0;
    for (let i = 0; i < t.size; i++) if (!Number.isNaN(t.data[i])) mag = Math.max(mag, Math.abs(t.data[i]!));
    const tol = 1e-5 * Math.max(1, mag);
    let bad = 0;
    for (let i = 0; i < t.size; i++) {
      const x = t.data[i]!, y = u.data[i]!;
      if (Number.isNaN(x) ? !Number.isNaN(y) : !(Math.abs(x - y) <= tol)) bad++;
    }
    expect(bad, `${name}: elements off by more than ${tol}`).toBe(0);
  }
}

/** The fused op's own inference gives the types the replaced ops' results had. */
function expectInferenceAgrees(g: Graph): void {
  const before = g.ops.flatMap((o) => o.outputs.map((v) => [v, v.type] as const));
  for (const o of g.ops) if (o.domain === 'pimc') for (const v of o.outputs) v.type = undefined;
  inferShapes(g);
  for (const [v, t] of before) expect(v.type, v.name).toEqual(t);
}

/**
 * Runs `passes` on a copy of the graph in `body`; checks the result verifies,
 * prints and parses back the same, infers the same types and computes the same
 * outputs. Returns the fused graph and the pass's change count.
 */
function fuseBody(body: string, passes: string[], opset = 17): { g: Graph; changed: number } {
  const orig = parse(body, opset);
  const g = parse(body, opset);
  const changed = runPasses(g, passes).reduce((s, t) => s + t.changed, 0);
  expect(printGraph(parseGraph(printGraph(g)))).toBe(printGraph(g));
  expectInferenceAgrees(g);
  expectSameOutputs(orig, g);
  return { g, changed };
}

/** The line printing the op that produces `value`. */
function lineOf(g: Graph, value: string): string {
  return printGraph(g).split('\n').find((l) => l.trimStart().startsWith(`%${value} `))!.trim();
}

// ---- fuse-linear ------------------------------------------------------------

describe('fuse-linear', () => {
  const L = ['fuse-linear'];
  const head = ['input %x : f32[batch, 3, 8]', konst('w', [8, 4]), konst('b', [4])].join('\n');

  it('MatMul + Add(bias, mm) becomes Linear named after the MatMul, keeping the Add result', () => {
    const { g, changed } = fuseBody(`${head}\n%mm = MatMul(%x, %w)\n%y = Add(%b, %mm)\noutput %y`, L);
    expect(changed).toBe(1);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 4] = pimc.Linear(%x, %w, %b) name "mm"');
  });

  it('takes the bias as the first or second operand, [N] or [1, 1, N]', () => {
    const { g } = fuseBody(`${head}\n${konst('b3', [1, 1, 4])}\n%mm = MatMul(%x, %w)\n%y = Add(%mm, %b3)\noutput %y`, L);
    expect(lineOf(g, 'y')).toContain('= pimc.Linear(%x, %w, %b3)');
  });

  it('a MatMul by a constant matrix without Add becomes a Linear without bias', () => {
    const { g } = fuseBody(`${head}\n%y = MatMul(%x, %w)\noutput %y`, L);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 4] = pimc.Linear(%x, %w) name "y"');
  });

  it('leaves the Add when the product is read elsewhere too, or is a graph output', () => {
    const shared = fuseBody(`${head}\n%mm = MatMul(%x, %w)\n%y = Add(%mm, %b)\n%z = Relu(%mm)\noutput %y, %z`, L).g;
    expect(types(shared)).toEqual(['pimc.Linear', 'Add', 'Relu']);
    const out = fuseBody(`${head}\n%mm = MatMul(%x, %w)\n%y = Add(%mm, %b)\noutput %y, %mm`, L).g;
    expect(types(out)).toEqual(['pimc.Linear', 'Add']);
  });

  it('does not take a residual (non-constant) or a full-matrix Add as the bias', () => {
    const res = fuseBody(`${head}\ninput %r : f32[batch, 3, 4]\n%mm = MatMul(%x, %w)\n%y = Add(%mm, %r)\noutput %y`, L).g;
    expect(types(res)).toEqual(['pimc.Linear', 'Add']);
    const full = fuseBody(`${head}\n${konst('bf', [3, 4])}\n%mm = MatMul(%x, %w)\n%y = Add(%mm, %bf)\noutput %y`, L).g;
    expect(types(full)).toEqual(['pimc.Linear', 'Add']);
  });

  it('leaves activation x activation and batched-weight MatMuls alone', () => {
    const aa = fuseBody('input %q : f32[2, 4, 3, 8]\ninput %k : f32[2, 4, 8, 3]\n%s = MatMul(%q, %k)\noutput %s', L);
    expect(aa.changed).toBe(0);
    expect(types(aa.g)).toEqual(['MatMul']);
    const batched = fuseBody(`input %x : f32[2, 3, 8]\n${konst('w3', [2, 8, 4])}\n%y = MatMul(%x, %w3)\noutput %y`, L);
    expect(types(batched.g)).toEqual(['MatMul']);
  });

  it('Gemm with alpha 1, beta 1, transA 0 and a constant B becomes Linear with its transB', () => {
    const body = ['input %a : f32[5, 8]', konst('bt', [4, 8]), konst('c', [4])].join('\n');
    const { g } = fuseBody(`${body}\n%y = Gemm(%a, %bt, %c) {alpha = 1.0, beta = 1.0, transB = 1}\noutput %y`, L);
    expect(lineOf(g, 'y')).toBe('%y : f32[5, 4] = pimc.Linear(%a, %bt, %c) {transB = 1} name "y"');
    const noC = fuseBody(`input %a : f32[5, 8]\n${konst('w', [8, 4])}\n%y = Gemm(%a, %w)\noutput %y`, L).g;
    expect(lineOf(noC, 'y')).toBe('%y : f32[5, 4] = pimc.Linear(%a, %w) name "y"');
  });

  it('leaves Gemm with alpha 2, beta 0.5, transA 1, a full C or a non-constant B', () => {
    const body = ['input %a : f32[5, 8]', 'input %at : f32[8, 5]', 'input %bi : f32[8, 4]', konst('w', [8, 4]), konst('c', [4]), konst('cf', [5, 4])].join('\n');
    for (const gemm of [
      'Gemm(%a, %w, %c) {alpha = 2.0}',
      'Gemm(%a, %w, %c) {beta = 0.5}',
      'Gemm(%at, %w, %c) {transA = 1}',
      'Gemm(%a, %w, %cf)',
      'Gemm(%a, %bi, %c)',
    ]) {
      const { changed } = fuseBody(`${body}\n%y = ${gemm}\noutput %y`, L);
      expect(changed, gemm).toBe(0);
    }
  });

  it('counts 2 * rows * K * N FLOPs', () => {
    const { g } = fuseBody(`${head}\n%mm = MatMul(%x, %w)\n%y = Add(%b, %mm)\noutput %y`, L);
    const op = g.ops[0]!;
    const def = defOf(op);
    const cost = def.cost({
      op,
      attrs: new Attrs(op, def.attrs),
      inputs: [{ dtype: 'f32', shape: [2, 3, 8] }, { dtype: 'f32', shape: [8, 4] }, { dtype: 'f32', shape: [4] }],
      outputs: [{ dtype: 'f32', shape: [2, 3, 4] }],
    });
    expect(cost.flops).toBe(2 * 6 * 8 * 4);
    expect(cost.bytes).toBe(4 * (48 + 32 + 4 + 24));
  });
});

// ---- fuse-layernorm ------------------------------------------------------------

describe('fuse-layernorm', () => {
  const N = ['fuse-layernorm'];
  const params = ['input %x : f32[batch, 3, 8]', konst('gamma', [8]), konst('beta', [8]), 'const %axes : i64[1] = dense [-1]', scalar('two', 2), scalar('eps', 1e-5)].join('\n');
  /** The decomposition; `sq` squares %d, `tail` follows %n (the normalized value). */
  const decomposed = (sq: string, tail: string, axes = '%axes') =>
    `${params}\n%mean = ReduceMean(%x, ${axes}) {keepdims = 1}\n%d = Sub(%x, %mean)\n%sq = ${sq}\n%var = ReduceMean(%sq, ${axes}) {keepdims = 1}\n` +
    `%ve = Add(%var, %eps)\n%sd = Sqrt(%ve)\n%n = Div(%d, %sd)\n${tail}`;

  it('LayerNormalization with one used output becomes LayerNorm', () => {
    const { g } = fuseBody(`${params}\n%y = LayerNormalization(%x, %gamma, %beta) {epsilon = 1e-06}\noutput %y`, N);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 8] = pimc.LayerNorm(%x, %gamma, %beta) {axis = -1, epsilon = 1e-06} name "y"');
  });

  it('leaves LayerNormalization whose Mean output is read', () => {
    const { changed } = fuseBody(`${params}\n%y, %m, %inv = LayerNormalization(%x, %gamma, %beta)\noutput %y, %m`, N);
    expect(changed).toBe(0);
  });

  it('the decomposition with Pow, scale and bias becomes LayerNorm named after the first ReduceMean', () => {
    const { g, changed } = fuseBody(decomposed('Pow(%d, %two)', '%s = Mul(%n, %gamma)\n%y = Add(%s, %beta)\noutput %y'), N);
    expect(changed).toBe(1);
    expect(types(g)).toEqual(['pimc.LayerNorm']);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 8] = pimc.LayerNorm(%x, %gamma, %beta) {axis = -1, epsilon = 1e-05} name "mean"');
  });

  it('takes Mul(d, d) and constants as either operand', () => {
    const body = decomposed('Mul(%d, %d)', '%s = Mul(%gamma, %n)\n%y = Add(%beta, %s)\noutput %y').replace('Add(%var, %eps)', 'Add(%eps, %var)');
    expect(types(fuseBody(body, N).g)).toEqual(['pimc.LayerNorm']);
  });

  it('without scale and bias, the scale is a constant of ones', () => {
    const { g } = fuseBody(decomposed('Pow(%d, %two)', 'output %n'), N);
    expect(lineOf(g, 'n')).toMatch(/^%n : f32\[batch, 3, 8\] = pimc\.LayerNorm\(%x, %"mean\/ones"\)/);
  });

  it('normalizes over the two trailing axes when ReduceMean reduces both', () => {
    const body = decomposed('Pow(%d, %two)', 'output %n', '%axes2').replace('input %x', 'const %axes2 : i64[2] = dense [1, 2]\ninput %x');
    expect(lineOf(fuseBody(body, N).g, 'n')).toContain('{axis = -2, epsilon = 1e-05}');
  });

  it('leaves near misses: a non-trailing axis, d or var read elsewhere, a cube, no keepdims', () => {
    const misses = [
      decomposed('Pow(%d, %two)', 'output %n', '%ax1').replace('input %x', 'const %ax1 : i64[1] = dense [1]\ninput %x'),
      decomposed('Pow(%d, %two)', 'output %n, %d'),
      decomposed('Pow(%d, %two)', '%z = Relu(%var)\noutput %n, %z'),
      decomposed('Pow(%d, %three)', 'output %n').replace('input %x', `${scalar('three', 3)}\ninput %x`),
      decomposed('Pow(%d, %two)', 'output %n').replace('%var = ReduceMean(%sq, %axes) {keepdims = 1}', '%v0 = ReduceMean(%sq, %axes) {keepdims = 0}\n%var = Unsqueeze(%v0, %axes)'),
    ];
    for (const m of misses) expect(fuseBody(m, N).changed).toBe(0);
  });
});

// ---- fuse-rmsnorm ----------------------------------------------------------------

describe('fuse-rmsnorm', () => {
  const R = ['fuse-rmsnorm'];
  const params = ['input %x : f32[batch, 3, 8]', konst('w', [8]), 'const %axes : i64[1] = dense [-1]', scalar('two', 2), scalar('one', 1), scalar('eps', 1e-6)].join('\n');
  const chain = (sq: string, inv: string, tail: string) =>
    `${params}\n%sq = ${sq}\n%ms = ReduceMean(%sq, %axes) {keepdims = 1}\n%me = Add(%ms, %eps)\n%r = Sqrt(%me)\n${inv}\n${tail}`;
  // torch: x.pow(2).mean(-1, keepdim=True); torch.rsqrt as Div(1, Sqrt); self.weight * (...)
  const torch = chain('Pow(%x, %two)', '%inv = Div(%one, %r)\n%n = Mul(%x, %inv)', '%y = Mul(%w, %n)\noutput %y');

  it('the PyTorch export form becomes RMSNorm named after the Pow', () => {
    const { g, changed } = fuseBody(torch, R);
    expect(changed).toBe(1);
    expect(types(g)).toEqual(['pimc.RMSNorm']);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 8] = pimc.RMSNorm(%x, %w) {axis = -1, epsilon = 1e-06} name "sq"');
  });

  it('the HF form (Reciprocal, operands the other way round) and x*x / Div(x, r) forms', () => {
    const hf = chain('Pow(%x, %two)', '%inv = Reciprocal(%r)\n%n = Mul(%inv, %x)', '%y = Mul(%n, %w)\noutput %y');
    expect(types(fuseBody(hf, R).g)).toEqual(['pimc.RMSNorm']);
    const div = chain('Mul(%x, %x)', '%n = Div(%x, %r)', '%y = Mul(%w, %n)\noutput %y');
    expect(types(fuseBody(div, R).g)).toEqual(['pimc.RMSNorm']);
  });

  it('without a weight Mul the scale is ones; a non-row weight Mul stays outside', () => {
    const bare = fuseBody(chain('Pow(%x, %two)', '%inv = Reciprocal(%r)\n%n = Mul(%x, %inv)', 'output %n'), R).g;
    expect(lineOf(bare, 'n')).toContain('= pimc.RMSNorm(%x, %"sq/ones")');
    const full = chain('Pow(%x, %two)', '%inv = Reciprocal(%r)\n%n = Mul(%x, %inv)', `${konst('wf', [2, 3, 8])}\n%y = Mul(%n, %wf)\noutput %y`).replace('batch, 3, 8]', '2, 3, 8]');
    expect(types(fuseBody(full, R).g)).toEqual(['pimc.RMSNorm', 'Mul']);
  });

  it('RMSNormalization (opset 23) becomes RMSNorm, writing the ONNX default epsilon', () => {
    const { g } = fuseBody(`${params}\n%y = RMSNormalization(%x, %w)\noutput %y`, R, 23);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 8] = pimc.RMSNorm(%x, %w) {axis = -1, epsilon = 1e-05} name "y"');
  });

  it('leaves near misses: Div(2, r), a non-constant epsilon, intermediates read elsewhere, Mul(w, inv)', () => {
    const misses = [
      torch.replace('Div(%one, %r)', 'Div(%two, %r)'),
      torch.replace('Add(%ms, %eps)', 'Add(%ms, %e)').replace('input %x', 'input %e : f32[]\ninput %x'),
      torch.replace('output %y', 'output %y, %ms'),
      torch.replace('output %y', '%z = Relu(%r)\noutput %y, %z'),
      torch.replace('Mul(%x, %inv)', 'Mul(%w, %inv)'),
    ];
    for (const m of misses) expect(fuseBody(m, R).changed).toBe(0);
  });
});

// ---- fuse-gelu ----------------------------------------------------------------

describe('fuse-gelu', () => {
  const G = ['fuse-gelu'];
  const consts = [scalar('sqrt2', 1.4142135), scalar('isqrt2', 0.70710677), scalar('one', 1), scalar('half', 0.5), scalar('c', 0.044715),
    scalar('k', 0.7978846), scalar('three', 3)].join('\n');
  const head = `input %x : f32[batch, 3, 16]\n${consts}`;
  // torch nn.GELU: Div -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5)
  const torchErf = `${head}\n%a = Div(%x, %sqrt2)\n%e = Erf(%a)\n%t = Add(%e, %one)\n%m = Mul(%x, %t)\n%y = Mul(%m, %half)\noutput %y`;
  // GPT-2 gelu_new written x*x*x: 0.5 * (x * (1 + tanh(k * (x + c * x^3))))
  const gpt2 = `${head}\n%x2 = Mul(%x, %x)\n%x3 = Mul(%x, %x2)\n%cx = Mul(%c, %x3)\n%s = Add(%x, %cx)\n%u = Mul(%k, %s)\n%th = Tanh(%u)\n` +
    '%t = Add(%one, %th)\n%m = Mul(%x, %t)\n%y = Mul(%half, %m)\noutput %y';

  it('the torch erf form becomes Gelu named after the Div', () => {
    const { g, changed } = fuseBody(torchErf, G);
    expect(changed).toBe(1);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 16] = pimc.Gelu(%x) {approximate = "none"} name "a"');
  });

  it('the HF erf form: (x * 0.5) * (1 + erf(x * 1/sqrt 2))', () => {
    const hf = `${head}\n%h = Mul(%x, %half)\n%a = Mul(%isqrt2, %x)\n%e = Erf(%a)\n%t = Add(%one, %e)\n%y = Mul(%h, %t)\noutput %y`;
    expect(lineOf(fuseBody(hf, G).g, 'y')).toContain('= pimc.Gelu(%x) {approximate = "none"} name "a"');
  });

  it('the GPT-2 tanh form (x*x*x) becomes Gelu tanh named after the first Mul', () => {
    const { g } = fuseBody(gpt2, G);
    expect(types(g)).toEqual(['pimc.Gelu']);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 16] = pimc.Gelu(%x) {approximate = "tanh"} name "x2"');
  });

  it('the HF gelu_new form: (0.5 * x) * (1 + tanh(k * (x + c * pow(x, 3)))), and (x * t) * 0.5 groupings', () => {
    const hf = `${head}\n%h = Mul(%half, %x)\n%p = Pow(%x, %three)\n%cx = Mul(%c, %p)\n%s = Add(%x, %cx)\n%u = Mul(%k, %s)\n%th = Tanh(%u)\n` +
      '%t = Add(%one, %th)\n%y = Mul(%h, %t)\noutput %y';
    expect(lineOf(fuseBody(hf, G).g, 'y')).toContain('= pimc.Gelu(%x) {approximate = "tanh"} name "p"');
    const halfFirst = gpt2.replace('%m = Mul(%x, %t)\n%y = Mul(%half, %m)', '%m = Mul(%t, %half)\n%y = Mul(%m, %x)').replace('Mul(%x, %x2)', 'Mul(%x2, %x)');
    expect(types(fuseBody(halfFirst, G).g)).toEqual(['pimc.Gelu']);
  });

  it('fuses chained GELUs in one run, the second reading the first one\'s result', () => {
    const erf = (x: string, p: string) =>
      `%${p}a = Div(%${x}, %sqrt2)\n%${p}e = Erf(%${p}a)\n%${p}t = Add(%${p}e, %one)\n%${p}m = Mul(%${x}, %${p}t)\n%${p}y = Mul(%${p}m, %half)`;
    const { g, changed } = fuseBody(`${head}\n${erf('x', 'p')}\n${erf('py', 'q')}\noutput %qy`, G);
    expect(changed).toBe(2);
    expect(lineOf(g, 'qy')).toBe('%qy : f32[batch, 3, 16] = pimc.Gelu(%py) {approximate = "none"} name "qa"');
  });

  it('Gelu (opset 20) becomes pimc.Gelu with its approximate', () => {
    const { g } = fuseBody('input %x : f32[2, 5]\n%y = Gelu(%x) {approximate = "tanh"}\noutput %y', G, 20);
    expect(lineOf(g, 'y')).toBe('%y : f32[2, 5] = pimc.Gelu(%x) {approximate = "tanh"} name "y"');
  });

  it('leaves near misses: wrong constants, a read intermediate, another input in the product', () => {
    const misses = [
      torchErf.replace('dense [1.4142135]', 'dense [1.5]'),
      torchErf.replace('dense [0.5]', 'dense [0.25]'),
      torchErf.replace('output %y', 'output %y, %e'),
      torchErf.replace('Mul(%x, %t)', 'Mul(%z, %t)').replace('input %x', 'input %z : f32[batch, 3, 16]\ninput %x'),
      gpt2.replace('dense [0.044715]', 'dense [0.04]'),
      gpt2.replace('dense [0.7978846]', 'dense [0.8]'),
      gpt2.replace('output %y', 'output %y, %x2'),
    ];
    for (const m of misses) expect(fuseBody(m, G).changed).toBe(0);
  });
});

// ---- fuse-silu ----------------------------------------------------------------

describe('fuse-silu', () => {
  const S = ['fuse-silu'];
  const head = 'input %g : f32[batch, 3, 8]\ninput %u : f32[batch, 3, 8]';

  it('Mul(x, Sigmoid(x)) in either order becomes Silu named after the Sigmoid', () => {
    for (const mul of ['Mul(%g, %s)', 'Mul(%s, %g)']) {
      const { g } = fuseBody(`${head}\n%s = Sigmoid(%g)\n%y = ${mul}\noutput %y`, S);
      expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 8] = pimc.Silu(%g) name "s"');
    }
  });

  it('Silu(g) * up becomes SwiGLU named after the Mul', () => {
    const { g, changed } = fuseBody(`${head}\n%s = Sigmoid(%g)\n%a = Mul(%g, %s)\n%y = Mul(%a, %u)\noutput %y`, S);
    expect(changed).toBe(2);
    expect(lineOf(g, 'y')).toBe('%y : f32[batch, 3, 8] = pimc.SwiGLU(%g, %u) name "y"');
  });

  it('keeps Silu alone when its result is read twice, or up would broadcast', () => {
    const twice = fuseBody(`${head}\n%s = Sigmoid(%g)\n%a = Mul(%g, %s)\n%y = Mul(%a, %u)\n%z = Relu(%a)\noutput %y, %z`, S).g;
    expect(types(twice)).toEqual(['pimc.Silu', 'Mul', 'Relu']);
    const bcast = fuseBody(`${head}\ninput %ub : f32[1, 1, 8]\n%s = Sigmoid(%g)\n%a = Mul(%g, %s)\n%y = Mul(%a, %ub)\noutput %y`, S).g;
    expect(types(bcast)).toEqual(['pimc.Silu', 'Mul']);
  });

  it('leaves Mul(y, Sigmoid(x)) and a Sigmoid read elsewhere', () => {
    expect(fuseBody(`${head}\n%s = Sigmoid(%g)\n%y = Mul(%u, %s)\noutput %y`, S).changed).toBe(0);
    expect(fuseBody(`${head}\n%s = Sigmoid(%g)\n%y = Mul(%g, %s)\noutput %y, %s`, S).changed).toBe(0);
  });

  it('a LLaMA MLP reads Linear, Linear, SwiGLU, Linear after fuse-linear and fuse-silu', () => {
    const body = ['input %h : f32[batch, 3, 8]', konst('wg', [8, 16]), konst('wu', [8, 16]), konst('wd', [16, 8]),
      '%gate = MatMul(%h, %wg)', '%sg = Sigmoid(%gate)', '%act = Mul(%gate, %sg)', '%up = MatMul(%h, %wu)',
      '%prod = Mul(%act, %up)', '%down = MatMul(%prod, %wd)', 'output %down'].join('\n');
    const { g } = fuseBody(body, ['fuse-linear', 'fuse-silu']);
    expect(types(g)).toEqual(['pimc.Linear', 'pimc.Linear', 'pimc.SwiGLU', 'pimc.Linear']);
  });
});
