// Textual IR: printer and parser, round trips, error codes, and a fuzz test that
// bad text only ever gives a PimcError.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { dimAdd, dimMul } from './dimexpr.js';
import { PimcError } from './diagnostics.js';
import { bf16FromBits, f16FromBits } from './dtype.js';
import { ConstantData, Graph, Op, Value, type AttrValue } from './graph.js';
import { parseGraph } from './parser.js';
import { formatFloat, printGraph } from './printer.js';
import { tensorToRaw } from './raw.js';
import { registerOp } from './registry.js';
import { Tensor } from './tensor.js';
import { verifyGraph } from './verifier.js';

// The registered ONNX ops used here have int attributes only; this op, in a domain
// of its own, carries every attribute kind so that all of them can round-trip.
registerOp({
  type: 'AttrZoo',
  domain: 'texttest',
  summary: 'test-only op with one attribute of each kind',
  opsets: [1, 1],
  inputs: [0, Infinity],
  outputs: [1, Infinity],
  attrs: {
    f: { kind: 'float' }, i: { kind: 'int' }, s: { kind: 'string' }, fs: { kind: 'floats' },
    is: { kind: 'ints' }, ss: { kind: 'strings' }, t: { kind: 'tensor' }, name: { kind: 'int' },
  },
  infer: () => [],
  run: () => [],
  cost: () => ({ flops: 0, bytes: 0 }),
  example: '%y = texttest.AttrZoo(%x) {f = 1.0}',
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-text-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** print -> parse -> print must give the same text; returns the text. */
function roundTrip(g: Graph, opts: { baseDir?: string } = {}): string {
  const text = printGraph(g);
  const again = printGraph(parseGraph(text, opts));
  expect(again).toBe(text);
  return text;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim());
}

function op(g: Graph, type: string, name: string, inputs: (Value | null)[], outs: Value[], extra: { attrs?: [string, AttrValue][]; device?: string; domain?: string } = {}): Value[] {
  g.addOp(new Op({ name, type, domain: extra.domain, inputs, outputs: outs, attrs: new Map(extra.attrs ?? []), device: extra.device }));
  return outs;
}

/** Code and message of what parseGraph throws. */
function parseError(text: string, opts = {}): PimcError {
  try {
    parseGraph(text, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(PimcError);
    return e as PimcError;
  }
  throw new Error('expected parseGraph to fail');
}

/** A small GPT-ish graph exercising names, dims, constants, devices and `none`. */
function sampleGraph(): Graph {
  const g = new Graph('main_graph', new Map([['', 17], ['pimc', 1]]));
  const ids = g.addInput(new Value('input_ids', { dtype: 'i64', shape: [1, 1] }));
  const past = g.addInput(new Value('past_key_0', { dtype: 'f32', shape: ['batch', 4, 'past', 64] }));
  const w = g.addConstant(new Value('onnx::Add_0'), ConstantData.of(Tensor.from('f32', [5], [1e-5, 0.1, -0, Infinity, NaN])));
  const shape = g.addConstant(new Value('c0'), ConstantData.of(Tensor.vector('i64', [1, 16, -1])));
  const half = g.addConstant(new Value('half'), ConstantData.of(Tensor.scalar('f32', 0.5)));
  g.addConstant(new Value('big'), ConstantData.of(new Tensor('f32', [4, 8])));
  g.addConstant(new Value('mask'), ConstantData.of(Tensor.from('bool', [3], [1, 0, 1])));
  g.addConstant(new Value('h'), ConstantData.of(Tensor.from('f16', [2], [0.1, 65504])));
  g.addConstant(new Value('b'), ConstantData.of(Tensor.from('bf16', [2], [0.1, -3.5])));
  g.addConstant(new Value('d'), ConstantData.of(Tensor.from('f64', [3], [0.1, 1e-7, 2])));
  g.addConstant(new Value('i64max'), ConstantData.of(Tensor.scalar('i64', 2 ** 63)));
  const [s] = op(g, 'Shape', '/Shape', [past], [new Value('/h.0/attn/Shape_output_0', { dtype: 'i64', shape: [2] })],
    { attrs: [['start', { kind: 'int', value: 1 }], ['end', { kind: 'int', value: -1 }]] });
  const grown = { dtype: 'f32' as const, shape: ['batch', 4, dimAdd('past', 1), dimMul(dimMul(2, 'batch'), 'seq')] };
  const [r] = op(g, 'Reshape', '/h.0/attn/Reshape', [past, shape], [new Value('/h.0/attn/MatMul_output_0', grown)], { device: 'pim' });
  const [a] = op(g, 'Add', 'add', [r!, w], [new Value('sum')]);
  op(g, 'Mul', 'mul', [a!, null], [new Value('y', { dtype: 'f32', shape: [] })], { device: 'npu' });
  op(g, 'Pow', 'pow', [half, ids], [new Value('p')]);
  g.outputs = [a!, s!];
  return g;
}

describe('printer', () => {
  it('prints the documented layout, and reads back to the same text', () => {
    const text = roundTrip(sampleGraph());
    const l = lines(text);
    expect(l[0]).toBe('graph "main_graph" {');
    expect(l.slice(1, 3)).toEqual(['opset "" 17', 'opset "pimc" 1']);
    expect(l).toContain('input %input_ids : i64[1, 1]');
    expect(l).toContain('input %past_key_0 : f32[batch, 4, past, 64]');
    expect(l).toContain('const %"onnx::Add_0" : f32[5] = dense [1e-05, 0.1, -0.0, inf, nan]');
    expect(l).toContain('const %c0 : i64[3] = dense [1, 16, -1]');
    expect(l).toContain('const %half : f32[] = dense [0.5]');
    expect(l).toContain('const %big : f32[4, 8] = elided');
    expect(l).toContain('const %mask : bool[3] = dense [true, false, true]');
    expect(l).toContain('const %h : f16[2] = dense [0.1, 65500.0]'); // 65500 rounds to half's max, 65504
    expect(l).toContain('const %b : bf16[2] = dense [0.1, -3.5]');
    expect(l).toContain('const %d : f64[3] = dense [0.1, 1e-7, 2.0]');
    expect(l).toContain('const %i64max : i64[] = dense [9223372036854775808]');
    expect(l).toContain('%"/h.0/attn/Shape_output_0" : i64[2] = Shape(%past_key_0) {end = -1, start = 1} name "/Shape"');
    expect(l).toContain('%"/h.0/attn/MatMul_output_0" : f32[batch, 4, past + 1, 2*batch*seq] = Reshape(%past_key_0, %c0) name "/h.0/attn/Reshape" on pim');
    expect(l).toContain('%sum = Add(%"/h.0/attn/MatMul_output_0", %"onnx::Add_0") name "add"');
    expect(l).toContain('%y : f32[] = Mul(%sum, none) name "mul" on npu');
    expect(l[l.length - 3]).toBe('output %sum, %"/h.0/attn/Shape_output_0"');
    expect(l[l.length - 2]).toBe('}');
  });

  it('keeps statement order: header, opsets by domain, inputs, constants, ops, output', () => {
    const text = printGraph(sampleGraph());
    const kinds = lines(text).filter((x) => x).map((x) => x.split(' ')[0]!.replace(/^%.*/, 'op'));
    const order = ['graph', 'opset', 'input', 'const', 'op', 'output', '}'];
    const firsts = order.map((k) => kinds.indexOf(k));
    expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
    expect(kinds.lastIndexOf('const')).toBeLessThan(kinds.indexOf('op'));
  });

  it('omits the output line when there are no outputs, and honours elideAbove', () => {
    const g = new Graph('g');
    g.addConstant(new Value('k'), ConstantData.of(Tensor.vector('i32', [1, 2, 3])));
    expect(printGraph(g)).toBe('graph "g" {\n  opset "" 17\n  const %k : i32[3] = dense [1, 2, 3]\n}\n');
    expect(printGraph(g, { elideAbove: 2 })).toContain('const %k : i32[3] = elided');
    expect(printGraph(parseGraph(printGraph(g, { elideAbove: 2 })))).toContain('const %k : i32[3] = elided');
  });

  it('writes floats in the shortest form that reads back exactly', () => {
    expect(formatFloat(1e-5, 'f32')).toBe('1e-05');
    expect(formatFloat(0.1, 'f32')).toBe('0.1');
    expect(formatFloat(1, 'f32')).toBe('1.0');
    expect(formatFloat(100, 'f32')).toBe('100.0');
    expect(formatFloat(-0, 'f32')).toBe('-0.0');
    expect(formatFloat(3.4028234663852886e38, 'f32')).toBe('3.4028235e+38');
    expect(formatFloat(1e16, 'f32')).toBe('1e+16');
    expect(formatFloat(0.0001, 'f32')).toBe('0.0001');
    expect(formatFloat(-Infinity, 'f16')).toBe('-inf');
    expect(formatFloat(NaN, 'bf16')).toBe('nan');
    expect(formatFloat(f16FromBits(1), 'f16')).toBe('6e-08'); // smallest half subnormal
    expect(formatFloat(0.1, 'f64')).toBe('0.1');
    expect(formatFloat(3, 'f64')).toBe('3.0');
  });

  it('float round trip is exact for every format (property)', () => {
    const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
    const back = (s: string) => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : Number(s));
    fc.assert(fc.property(fc.float(), (x) => same(Math.fround(back(formatFloat(x, 'f32'))), x)), { numRuns: 5000 });
    fc.assert(fc.property(fc.double(), (x) => same(back(formatFloat(x, 'f64')), x)), { numRuns: 5000 });
    for (let bits = 0; bits < 0x10000; bits++) {
      const h = f16FromBits(bits);
      const b = bf16FromBits(bits);
      if (!same(Tensor.from('f16', [1], [back(formatFloat(h, 'f16'))]).at(0), h)) throw new Error(`f16 bits ${bits}`);
      if (!same(Tensor.from('bf16', [1], [back(formatFloat(b, 'bf16'))]).at(0), b)) throw new Error(`bf16 bits ${bits}`);
    }
  });

  it('prints every attribute kind, typed empty lists and domains', () => {
    const g = new Graph('attrs', new Map([['', 17], ['texttest', 1]]));
    const x = g.addInput(new Value('x', { dtype: 'f32', shape: [2] }));
    const attrs: [string, AttrValue][] = [
      ['f', { kind: 'float', value: Math.fround(1e-5) }],
      ['i', { kind: 'int', value: -3 }],
      ['s', { kind: 'string', value: 'a "quoted" name\n' }],
      ['fs', { kind: 'floats', value: [1, 2.5, Math.fround(0.1), Infinity, NaN] }],
      ['is', { kind: 'ints', value: [] }],
      ['ss', { kind: 'strings', value: ['a', ''] }],
      ['t', { kind: 'tensor', value: Tensor.vector('f32', [1, 2]) }],
      ['name', { kind: 'int', value: 7 }],
    ];
    op(g, 'AttrZoo', 'zoo', [x], [new Value('y')], { attrs, domain: 'texttest' });
    op(g, 'AttrZoo', 'zoo2', [], [new Value('z')], { domain: 'texttest', attrs: [['fs', { kind: 'floats', value: [] }], ['ss', { kind: 'strings', value: [] }]] });
    const text = roundTrip(g);
    expect(text).toContain('%y = texttest.AttrZoo(%x) {f = 1e-05, fs = [1.0, 2.5, 0.1, inf, nan], i = -3, is = ints[], name = 7, '
      + 's = "a \\"quoted\\" name\\n", ss = ["a", ""], t = tensor f32[2] dense [1.0, 2.0]} name "zoo"');
    expect(text).toContain('%z = texttest.AttrZoo() {fs = floats[], ss = strings[]} name "zoo2"');
    const parsed = parseGraph(text).ops[0]!;
    expect(parsed.domain).toBe('texttest');
    expect(parsed.attrs.get('f')).toEqual({ kind: 'float', value: Math.fround(1e-5) });
    expect(parsed.attrs.get('i')).toEqual({ kind: 'int', value: -3 });
    expect(parsed.attrs.get('is')).toEqual({ kind: 'ints', value: [] });
  });

  it('quotes dims that are not dimexpr canonical forms, and values with odd names', () => {
    const g = new Graph('weird \u2028 "graph"');
    const v = g.addInput(new Value('seq*batch', { dtype: 'f32', shape: ['seq*batch', 'N', '3', -0] }));
    const u = g.addInput(new Value('', undefined));
    op(g, 'Add', '', [v, u], [new Value('ünï cødé')]);
    const text = roundTrip(g);
    expect(text).toContain('input %"seq*batch" : f32["seq*batch", N, "3", 0]');
    expect(text).toContain('input %""\n');
    const g2 = parseGraph(text);
    expect(g2.name).toBe('weird \u2028 "graph"');
    expect(g2.inputs[0]!.type!.shape).toEqual(['seq*batch', 'N', '3', 0]);
  });
});

describe('parser', () => {
  it('builds a graph the verifier accepts, with types, names, devices and none', () => {
    const g = parseGraph(`# a comment line
graph "g" {   # trailing comment
  opset "" 17
  input %x : f32[batch, past + 1]
  const %two : f32[] = dense [2]
  %y : f32[batch, past + 1] = Pow(%x, %two) name "pow" on pim
  %z = Add(%y, none)
  %w = Add(%z, %z)
  output %w
}`);
    expect(g.inputs[0]!.type).toEqual({ dtype: 'f32', shape: ['batch', 'past + 1'] });
    expect(g.constants[0]!.constant!.get().toArray()).toEqual([2]);
    expect(g.ops.map((o) => [o.name, o.device])).toEqual([['pow', 'pim'], ['z', undefined], ['w', undefined]]);
    expect(g.ops[1]!.inputs[1]).toBeNull();
    expect(g.ops[1]!.outputs[0]!.type).toBeUndefined();
    expect(g.ops[1]!.inputs[0]).toBe(g.ops[0]!.outputs[0]);
    expect(g.outputs[0]!.producer).toBe(g.ops[2]);
    expect(g.opsets).toEqual(new Map([['', 17]]));
    g.ops[1]!.inputs[1] = g.ops[0]!.outputs[0]!; // `none` is for optional inputs; Add has none
    expect(() => verifyGraph(g)).not.toThrow();
  });

  it('reads file constants lazily, just their byte range', () => {
    const t = Tensor.from('f32', [2, 3], [1, -2, 0.5, 1e-5, 3, 4]);
    const raw = tensorToRaw(t);
    const bytes = new Uint8Array(8 + raw.length);
    bytes.set([9, 9, 9, 9, 9, 9, 9, 9]);
    bytes.set(raw, 8);
    fs.writeFileSync(path.join(tmp, 'w.bin'), bytes);
    const text = `graph "g" {\n  const %w : f32[2, 3] = file "w.bin" offset 8 length 24\n  output %w\n}\n`;
    const g = parseGraph(text, { baseDir: tmp });
    expect(g.baseDir).toBe(tmp);
    const c = g.constants[0]!.constant!;
    expect(c.source).toEqual({ kind: 'file', path: 'w.bin', offset: 8, length: 24 });
    expect(c.loaded).toBe(false);
    expect(Array.from(c.get().data)).toEqual(Array.from(t.data));
    // Small enough to print inline; with elideAbove 0 it stays a file reference.
    expect(printGraph(g)).toContain('const %w : f32[2, 3] = dense [1.0, -2.0, 0.5, 1e-05, 3.0, 4.0]');
    expect(printGraph(parseGraph(text, { baseDir: tmp }), { elideAbove: 0 })).toBe(text);
  });

  it('reports a missing weight file as PIMC0301 naming it, when the data is read', () => {
    const g = parseGraph('graph "g" {\n  const %w : f32[2] = file "nope.bin" offset 0 length 8\n}', { baseDir: tmp });
    expect(() => g.constants[0]!.constant!.get()).toThrow(/PIMC0301.*nope\.bin/);
    // The printer falls back to the reference instead of failing.
    expect(printGraph(g)).toContain('file "nope.bin" offset 0 length 8');
  });

  it('reports a byte range past the end of the file as PIMC0303', () => {
    fs.writeFileSync(path.join(tmp, 'short.bin'), new Uint8Array(4));
    const g = parseGraph('graph "g" {\n  const %w : f32[2] = file "short.bin" offset 0 length 8\n}', { baseDir: tmp });
    expect(() => g.constants[0]!.constant!.get()).toThrow(/PIMC0303/);
  });

  it('reads the example in docs/ir-text.md', () => {
    const doc = fs.readFileSync(new URL('../docs/ir-text.md', import.meta.url), 'utf8');
    const example = /```\n(graph [\s\S]*?)```/.exec(doc)![1]!;
    const g = parseGraph(example);
    expect(g.ops.map((o) => o.type)).toEqual(['Shape', 'Reshape', 'Add']);
    expect(printGraph(g, { elideAbove: 0 })).toContain('const %"onnx::MatMul_1" : f32[256, 768] = file "model.onnx" offset 1234 length 786432');
  });

  it('gives elided constants no data', () => {
    const g = parseGraph('graph "g" {\n  const %big : f32[1000, 256] = elided\n}');
    const c = g.constants[0]!.constant!;
    expect(c.source.kind).toBe('elided');
    expect(c.available).toBe(false);
    expect(c.shape).toEqual([1000, 256]);
  });

  it('parses 10k ops quickly', () => {
    const g = new Graph('chain');
    let v = g.addInput(new Value('x', { dtype: 'f32', shape: ['batch', 768] }));
    for (let i = 0; i < 10_000; i++) [v] = op(g, 'Add', `/layer.${i}/Add`, [v, v], [new Value(`/layer.${i}/Add_output_0`, { dtype: 'f32', shape: ['batch', 768] })]);
    g.outputs = [v];
    const text = printGraph(g);
    // Best of two, so that a cold JIT or a busy machine does not decide the result.
    let best = Infinity;
    for (let k = 0; k < 2; k++) {
      const t0 = performance.now();
      expect(parseGraph(text).ops.length).toBe(10_000);
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(1000);
  });
});

describe('parse errors', () => {
  const LOC = /at line \d+:\d+/;
  const cases: [string, string, string, RegExp?][] = [
    ['syntax', 'graph "g" {\n  input %x f32[2]\n}', 'PIMC0501', /line 2:/],
    ['stray character', 'graph "g" {\n  input %x : f32[2] @\n}', 'PIMC0501', /"@" at line 2:21/],
    ['unterminated string', 'graph "g {\n}', 'PIMC0501'],
    ['end of input', 'graph "g" {\n  input %x : f32[2]', 'PIMC0501', /end of input/],
    ['text after the graph', 'graph "g" {\n}\nmore', 'PIMC0501', /line 3:1/],
    ['unknown dtype', 'graph "g" {\n  input %x : f33[2]\n}', 'PIMC0501', /element type "f33" at line 2:14/],
    ['bad dim', 'graph "g" {\n  input %x : f32[a b]\n}', 'PIMC0501', /dimension/],
    ['dense count', 'graph "g" {\n  const %c : f32[2] = dense [1.0]\n}', 'PIMC0501', /1 element\(s\), f32\[2\] needs 2 at line 2:29/],
    ['int literal for float', 'graph "g" {\n  const %c : i32[1] = dense [1.5]\n}', 'PIMC0501'],
    ['int out of range', 'graph "g" {\n  const %c : i8[1] = dense [300]\n}', 'PIMC0501', /out of range/],
    ['symbolic const', 'graph "g" {\n  const %c : f32[n] = elided\n}', 'PIMC0501'],
    ['file length', 'graph "g" {\n  const %c : f32[2] = file "w" offset 0 length 7\n}', 'PIMC0501', /8 bytes/],
    ['duplicate value', 'graph "g" {\n  input %x : f32[2]\n  input %x : f32[2]\n}', 'PIMC0501', /defined twice.*line 3:9/],
    ['untyped empty list', 'graph "g" {\n  input %x : f32[2]\n  %y = texttest.AttrZoo(%x) {is = []}\n}', 'PIMC0501'],
    ['unknown value', 'graph "g" {\n  input %x : f32[2]\n  %y = Add(%x, %"nope")\n}', 'PIMC0502', /unknown value %"nope" at line 3:16/],
    ['use before definition', 'graph "g" {\n  %y = Add(%z, %z)\n  %z = Add(%y, %y)\n}', 'PIMC0502', /line 2:12/],
    ['own output', 'graph "g" {\n  %y = Add(%y, %y)\n}', 'PIMC0502'],
    ['unknown output', 'graph "g" {\n  output %q\n}', 'PIMC0502', /line 2:10/],
    ['unknown op', 'graph "g" {\n  input %x : f32[2]\n  %y = Frobnicate(%x)\n}', 'PIMC0503', /Frobnicate at line 3:8/],
    ['unknown domain', 'graph "g" {\n  input %x : f32[2]\n  %y = nope.Add(%x, %x)\n}', 'PIMC0503'],
    ['unknown attribute', 'graph "g" {\n  input %x : f32[2]\n  %y = Add(%x, %x) {axis = 1}\n}', 'PIMC0503', /"axis" at line 3:21/],
  ];
  for (const [what, text, code, msg] of cases) {
    it(`${what}: ${code} with line:col`, () => {
      const e = parseError(text);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(LOC);
      expect(e.message).not.toContain('\n');
      if (msg) expect(e.message).toMatch(msg);
    });
  }

  it('names the file when given', () => {
    expect(parseError('graph "g" {', { fileName: 'm.pimc' }).message).toMatch(/at line 1:12 in "m\.pimc"/);
  });

  it('never throws anything but a PimcError, whatever the text (2,000 mutations)', () => {
    const g = sampleGraph();
    const x = g.inputs[1]!;
    const w = g.addConstant(new Value('w'), new ConstantData('f32', [64], { kind: 'file', path: 'missing.bin', offset: 0, length: 256 }, undefined));
    op(g, 'AttrZoo', 'zoo', [x, w, null], [new Value('z')], {
      domain: 'texttest',
      device: 'pim',
      attrs: [['f', { kind: 'float', value: 1e-5 }], ['fs', { kind: 'floats', value: [1, NaN] }], ['is', { kind: 'ints', value: [] }],
        ['s', { kind: 'string', value: 's' }], ['t', { kind: 'tensor', value: Tensor.vector('i64', [1, 2]) }]],
    });
    const base = printGraph(g);
    expect(() => parseGraph(base)).not.toThrow();
    const pieces = ['%', '"', '{', '}', '[', ']', '(', ')', ',', ':', '=', '#', '-', '+', '*', '.', '\n', ' ', '\\', 'e', 'inf', 'none',
      'dense', 'tensor', 'ints[]', 'f32', '1', '-1', '1.5e+3', '%x', '%"a b"', 'on', 'name', 'input', 'const', 'output', 'Add', '\u2028', '\0'];
    const tokens = (s: string) => s.match(/%"(?:[^"\\]|\\.)*"|"(?:[^"\\]|\\.)*"|%?[\w.]+|\s+|./g) ?? [];
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), piece: fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 3 })) }),
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), piece: fc.constantFrom(...pieces) }),
      fc.record({ kind: fc.constant('dropToken' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('dupToken' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    const apply = (text: string, m: { kind: string; at: number; len?: number; piece?: string }) => {
      const at = text.length ? m.at % text.length : 0;
      switch (m.kind) {
        case 'delete': return text.slice(0, at) + text.slice(at + (m.len ?? 1));
        case 'insert': return text.slice(0, at) + m.piece + text.slice(at);
        case 'replace': return text.slice(0, at) + m.piece + text.slice(at + 1);
        case 'truncate': return text.slice(0, at);
        default: {
          const toks = tokens(text);
          const i = toks.length ? m.at % toks.length : 0;
          if (m.kind === 'dropToken') toks.splice(i, 1);
          else toks.splice(i, 0, toks[i] ?? '');
          return toks.join('');
        }
      }
    };
    let parsed = 0;
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
      const text = ms.reduce(apply, base);
      let g: Graph;
      try {
        g = parseGraph(text, { baseDir: tmp });
      } catch (e) {
        if (!(e instanceof PimcError)) throw e;
        expect(e.message).not.toContain('\n');
        expect(e.message).toMatch(/at line \d+:\d+/);
        return;
      }
      parsed++;
      // Whatever parsed must print and read back to the same text.
      const p = printGraph(g);
      expect(printGraph(parseGraph(p, { baseDir: tmp }))).toBe(p);
    }), { numRuns: 2000, seed: 20240611 });
    expect(parsed).toBeGreaterThan(0);
  });
});

describe('file constants stay inside the base folder', () => {
  const text = (loc: string) => `graph "g" {\n  opset "" 17\n  const %w : f32[2] = file ${JSON.stringify(loc)} offset 0 length 8\n  output %w\n}\n`;
  it('refuses an absolute path or a .. that leaves, at parse time, with the location', () => {
    for (const loc of ['/etc/passwd', '../w.bin', 'a/../../w.bin']) {
      let err: unknown;
      try {
        parseGraph(text(loc));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PimcError);
      expect((err as PimcError).message).toMatch(/^PIMC0302: .* at line 3:\d+$/);
    }
  });

  it('refuses a link out of the folder when the data is read', () => {
    const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-ir-link-'));
    const inner = path.join(outer, 'in');
    fs.mkdirSync(inner);
    fs.writeFileSync(path.join(outer, 'secret.bin'), new Uint8Array(8));
    fs.symlinkSync(path.join(outer, 'secret.bin'), path.join(inner, 'w.bin'));
    const g = parseGraph(text('w.bin'), { baseDir: inner });
    expect(() => g.constants[0]!.constant!.get()).toThrow(/^PIMC0302: .*link/);
  });
});
