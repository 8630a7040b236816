import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTensorFile, onnx } from '../../compiler/frontend/tensor-proto.js';
import type { Tensor } from '../../ir/tensor.js';
import { buildGraph, buildModel, graphSpec, makeTestInputs, type BuildOptions, type BuildResult } from './index.js';
import { GraphBuilder } from './onnx-writer.js';
import { encodeModel, externalSet, saveModel } from './save-model.js';
import { Rng } from './rng.js';
import { collect, normalSource, transposedSource } from './weights.js';

type Ort = typeof import('onnxruntime-node');
type OrtTensor = import('onnxruntime-node').Tensor;
let ort: Ort | undefined;
let ortMissing = '';
try {
  ort = await import('onnxruntime-node');
} catch (e) {
  ortMissing = `onnxruntime-node is unavailable (${(e as Error).message}); ONNX Runtime checks skipped`;
  console.warn(ortMissing);
}
const withOrt = ort ? it : it.skip;

let root = '';
let dirCount = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pimc-builders-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});
const fresh = () => join(root, `m${++dirCount}`);

function toOrt(t: Tensor): OrtTensor {
  const shape = [...t.shape];
  if (t.dtype === 'i64') return new ort!.Tensor('int64', BigInt64Array.from(t.toArray(), (v) => BigInt(v)), shape);
  return new ort!.Tensor('float32', Float32Array.from(t.data as Float32Array), shape);
}

async function readInputs(dir: string): Promise<Record<string, OrtTensor>> {
  const files = (await readdir(dir)).filter((f) => /^input_\d+\.pb$/.test(f)).sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)));
  const feeds: Record<string, OrtTensor> = {};
  for (const f of files) {
    const { name, tensor } = decodeTensorFile(await readFile(join(dir, f)), f);
    feeds[name] = toOrt(tensor);
  }
  return feeds;
}

async function run(modelPath: string, feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
  const session = await ort!.InferenceSession.create(modelPath);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Expected output shapes with test sizes substituted. */
function expectedShapes(r: BuildResult, b: number, s: number, past: number): Record<string, number[]> {
  const c = r.config;
  const hd = c.dModel / c.heads;
  const out: Record<string, number[]> = {};
  for (const name of r.outputs) {
    if (name === 'logits') out[name] = [b, s, c.vocab];
    else if (name === 'last_hidden_state') out[name] = [b, s, c.dModel];
    else out[name] = [b, c.kvHeads, past + s, hd];
  }
  return out;
}

const floats = (t: OrtTensor) => t.data as Float32Array;
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

interface Case { label: string; opts: Omit<BuildOptions, 'outDir'>; b: number; s: number; past: number }
const CASES: Case[] = [];
for (const preset of ['gpt2-tiny', 'llama-tiny'] as const) {
  for (const opset of preset === 'llama-tiny' ? [17, 23] : [17]) {
    CASES.push(
      { label: `${preset} opset ${opset} prefill static`, opts: { preset, opset, batch: 2, seq: 5 }, b: 2, s: 5, past: 0 },
      { label: `${preset} opset ${opset} prefill symbolic`, opts: { preset, opset, testBatch: 3, testSeq: 4 }, b: 3, s: 4, past: 0 },
      { label: `${preset} opset ${opset} decode static`, opts: { preset, opset, phase: 'decode', batch: 2, past: 6 }, b: 2, s: 1, past: 6 },
      { label: `${preset} opset ${opset} decode symbolic`, opts: { preset, opset, phase: 'decode', testBatch: 2, testPast: 9 }, b: 2, s: 1, past: 9 },
    );
  }
}
CASES.push(
  { label: 'bert-tiny static', opts: { preset: 'bert-tiny', batch: 2, seq: 6 }, b: 2, s: 6, past: 0 },
  { label: 'bert-tiny symbolic', opts: { preset: 'bert-tiny', testBatch: 3, testSeq: 5 }, b: 3, s: 5, past: 0 },
  { label: 'bert-tiny without token_type_ids', opts: { preset: 'bert-tiny', tokenTypeIds: false }, b: 1, s: 8, past: 0 },
);

describe('models run in ONNX Runtime on their test data', () => {
  for (const c of CASES) {
    withOrt(c.label, async () => {
      const r = await buildModel({ ...c.opts, outDir: fresh(), testData: true });
      const out = await run(r.modelPath, await readInputs(r.testDataDir!));
      const want = expectedShapes(r, c.b, c.s, c.past);
      expect(Object.keys(out).sort()).toEqual(Object.keys(want).sort());
      for (const [name, dims] of Object.entries(want)) {
        expect(out[name]!.dims, name).toEqual(dims);
        expect(floats(out[name]!).every(Number.isFinite), `${name} is finite`).toBe(true);
      }
    });
  }
});

describe('decode agrees with prefill', () => {
  const variants = [
    { preset: 'gpt2-tiny', opset: 17 },
    { preset: 'llama-tiny', opset: 17 },
    { preset: 'llama-tiny', opset: 23 },
  ];
  for (const v of variants) {
    withOrt(`${v.preset} opset ${v.opset}`, async () => {
      const prefill = await buildModel({ ...v, seed: 7, outDir: fresh() });
      const decode = await buildModel({ ...v, seed: 7, phase: 'decode', outDir: fresh() });
      const n = 6;
      const batch = 2;
      const vocab = prefill.config.vocab;
      const rng = new Rng(3, 'tokens');
      const tokens = Array.from({ length: batch }, () => Array.from({ length: n + 1 }, () => rng.int(vocab)));
      const llama = prefill.config.family === 'llama';
      const feed = (len: number, from: number) => {
        const ids = tokens.flatMap((row) => row.slice(from, from + len).map(BigInt));
        const f: Record<string, OrtTensor> = { input_ids: new ort!.Tensor('int64', BigInt64Array.from(ids), [batch, len]) };
        if (llama) {
          const pos = tokens.flatMap(() => Array.from({ length: len }, (_, j) => BigInt(from + j)));
          f.position_ids = new ort!.Tensor('int64', BigInt64Array.from(pos), [batch, len]);
        }
        return f;
      };
      const full = await run(prefill.modelPath, feed(n + 1, 0));
      const head = await run(prefill.modelPath, feed(n, 0));
      const step = feed(1, n);
      for (const name of decode.inputs.filter((i) => i.startsWith('past_'))) step[name] = head[name.replace('past_', 'present_')]!;
      const dec = await run(decode.modelPath, step);

      const V = vocab;
      const fullLogits = floats(full.logits!);
      const want = new Float32Array(batch * V);
      for (let b = 0; b < batch; b++) want.set(fullLogits.subarray((b * (n + 1) + n) * V, (b * (n + 1) + n + 1) * V), b * V);
      expect(dec.logits!.dims).toEqual([batch, 1, V]);
      expect(maxDiff(floats(dec.logits!), want)).toBeLessThanOrEqual(1e-4);
      // The decode step's cache is the prefill's cache of all n + 1 tokens.
      expect(maxDiff(floats(dec.present_key_1!), floats(full.present_key_1!))).toBeLessThanOrEqual(1e-5);
      expect(maxDiff(floats(dec.present_value_0!), floats(full.present_value_0!))).toBeLessThanOrEqual(1e-5);
    });
  }

  withOrt('llama opset 23 (RMSNormalization, RotaryEmbedding, Attention) equals opset 17', async () => {
    for (const phase of ['prefill', 'decode'] as const) {
      const a = await buildModel({ preset: 'llama-tiny', phase, opset: 17, outDir: fresh(), testData: true });
      const b = await buildModel({ preset: 'llama-tiny', phase, opset: 23, outDir: fresh(), testData: true });
      const outA = await run(a.modelPath, await readInputs(a.testDataDir!));
      const outB = await run(b.modelPath, await readInputs(b.testDataDir!));
      for (const name of a.outputs) expect(maxDiff(floats(outA[name]!), floats(outB[name]!)), name).toBeLessThanOrEqual(1e-4);
    }
  });

  withOrt('bert without token_type_ids equals bert with zero token types', async () => {
    const a = await buildModel({ preset: 'bert-tiny', outDir: fresh(), testData: true });
    const b = await buildModel({ preset: 'bert-tiny', tokenTypeIds: false, outDir: fresh(), testData: true });
    const outA = await run(a.modelPath, await readInputs(a.testDataDir!));
    const outB = await run(b.modelPath, await readInputs(b.testDataDir!));
    expect(maxDiff(floats(outA.last_hidden_state!), floats(outB.last_hidden_state!))).toBeLessThanOrEqual(1e-6);
  });
});

describe('external data', () => {
  it('puts initializers of at least the threshold in one aligned .data file', async () => {
    const r = await buildModel({ preset: 'gpt2-tiny', externalData: 'always', outDir: fresh() });
    expect(r.dataPath).toBe(`${r.modelPath}.data`);
    const modelSize = (await stat(r.modelPath)).size;
    const dataSize = (await stat(r.dataPath!)).size;
    expect(modelSize).toBeLessThan(64 * 1024);
    expect(dataSize).toBeGreaterThan(400 * 1024);
    const m = onnx.ModelProto.decode(await readFile(r.modelPath));
    const data = await readFile(r.dataPath!);
    const inline = onnx.ModelProto.decode(encodeModel(buildGraph(graphSpec({ preset: 'gpt2-tiny' })).built));
    const inlineInits = inline.graph?.initializer ?? [];
    for (const [i, t] of (m.graph?.initializer ?? []).entries()) {
      const name = t.name ?? '';
      const entries = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      const want = inlineInits[i]?.rawData ?? new Uint8Array();
      expect(inlineInits[i]?.name).toBe(name);
      if (want.length < 1024) {
        expect(t.dataLocation, name).not.toBe(onnx.TensorProto.DataLocation.EXTERNAL);
        continue;
      }
      expect(t.dataLocation, name).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
      expect(entries.location).toBe('model.onnx.data');
      const offset = Number(entries.offset);
      expect(offset % 64).toBe(0);
      expect(Number(entries.length)).toBe(want.length);
      expect(Buffer.compare(data.subarray(offset, offset + want.length), Buffer.from(want))).toBe(0);
    }
  });

  withOrt('a model with external data runs like the inline one', async () => {
    const ext = await buildModel({ preset: 'llama-tiny', externalData: 'always', outDir: fresh(), testData: true });
    const inl = await buildModel({ preset: 'llama-tiny', externalData: 'never', outDir: fresh(), testData: true });
    expect(inl.dataPath).toBeUndefined();
    const a = await run(ext.modelPath, await readInputs(ext.testDataDir!));
    const b = await run(inl.modelPath, await readInputs(inl.testDataDir!));
    expect(maxDiff(floats(a.logits!), floats(b.logits!))).toBe(0);
  });

  it("'auto' goes external only for large models; saveModel streams many chunks", async () => {
    const big = { name: 'w', parameter: true, source: normalSource([3 << 20], 1, 'w') };
    const small = { name: 'b', parameter: true, source: normalSource([8], 1, 'b') };
    expect(externalSet([big, small], {}).size).toBe(0);
    expect([...externalSet([big, small], { autoExternalBytes: 1 << 20 })]).toEqual(['w']);
    expect([...externalSet([big, small], { externalData: 'always', externalDataThreshold: 16 })]).toEqual(['w', 'b']);

    const g = new GraphBuilder();
    const x = g.input('x', 'f32', ['n']);
    g.initializer('w', big.source);
    g.root.op('Identity', [x], {}, 'y');
    g.output('y', 'f32', ['n']);
    const progress: number[] = [];
    const path = join(fresh() + '-save.onnx');
    const saved = await saveModel(g.build(), path, { externalData: 'always', onProgress: (done) => progress.push(done) });
    expect(progress.length).toBe(3);
    expect(saved.dataBytes).toBe(12 << 20);
    expect(Buffer.compare(await readFile(saved.dataPath!), Buffer.from(collect(big.source)))).toBe(0);
    expect((await readdir(root)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('determinism', () => {
  it('the same options give byte-identical files', async () => {
    const opts = { preset: 'llama-tiny', phase: 'decode', externalData: 'always', testData: true, seed: 5 } as const;
    const a = await buildModel({ ...opts, outDir: fresh() });
    const b = await buildModel({ ...opts, outDir: fresh() });
    for (const rel of ['model.onnx', 'model.onnx.data', 'test_data_set_0/input_0.pb', 'test_data_set_0/input_2.pb']) {
      const fa = await readFile(join(a.modelPath, '..', rel));
      const fb = await readFile(join(b.modelPath, '..', rel));
      expect(Buffer.compare(fa, fb), rel).toBe(0);
    }
    const c = await buildModel({ ...opts, seed: 6, outDir: fresh() });
    expect(Buffer.compare(await readFile(a.dataPath!), await readFile(c.dataPath!))).not.toBe(0);
  });
});

describe('graphs, configs and weights', () => {
  const opsOf = (opts: Omit<BuildOptions, 'outDir'>) => buildGraph(graphSpec(opts)).built.model.graph!.node!;

  it('writes the exporter patterns of each family', () => {
    const gpt2 = opsOf({ preset: 'gpt2-tiny', phase: 'decode' });
    const types = (nodes: typeof gpt2) => new Set(nodes.map((n) => n.opType));
    expect([...types(gpt2)]).toEqual(expect.arrayContaining(['LayerNormalization', 'Split', 'Where', 'Tanh', 'Pow', 'Range', 'Slice']));
    expect(gpt2.find((n) => n.name === '/transformer/h.0/attn/c_attn/MatMul')?.output).toEqual(['/transformer/h.0/attn/c_attn/MatMul_output_0']);
    expect(gpt2.find((n) => n.output?.includes('present_key_1'))?.opType).toBe('Concat');
    const noPresent = buildGraph(graphSpec({ preset: 'gpt2-tiny', emitPresent: false }));
    expect(noPresent.outputs.map((o) => o.name)).toEqual(['logits']);
    const names = gpt2.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    const bert = opsOf({ preset: 'bert-tiny' });
    expect([...types(bert)]).toEqual(expect.arrayContaining(['Erf', 'Cast', 'Softmax', 'LayerNormalization']));
    expect(bert.filter((n) => n.opType === 'LayerNormalization').length).toBe(1 + 2 * 2);
    const llama = opsOf({ preset: 'llama-tiny', phase: 'decode' });
    expect([...types(llama)]).toEqual(expect.arrayContaining(['ReduceMean', 'Reciprocal', 'Neg', 'Expand', 'Sigmoid', 'Greater']));
    const reduce = llama.find((n) => n.opType === 'ReduceMean')!;
    expect(reduce.input).toHaveLength(1);
    expect(reduce.attribute!.map((a) => a.name).sort()).toEqual(['axes', 'keepdims']);
    const llama23 = opsOf({ preset: 'llama-tiny', phase: 'decode', opset: 23 });
    expect(types(llama23).has('ReduceMean')).toBe(false);
    const attn = llama23.find((n) => n.opType === 'Attention')!;
    expect(attn.input).toEqual(expect.arrayContaining(['past_key_0', 'past_value_0']));
    expect(attn.output!.slice(1)).toEqual(['present_key_0', 'present_value_0']);
    expect(llama23.filter((n) => n.opType === 'RotaryEmbedding')).toHaveLength(4);
    expect(llama23.filter((n) => n.opType === 'RMSNormalization')).toHaveLength(5);
  });

  it('counts parameters like HF', () => {
    const count = (preset: string) =>
      buildGraph(graphSpec({ preset })).built.initializers.filter((e) => e.parameter).reduce((s, e) => s + e.source.dims.reduce((a, b) => a * b, 1), 0);
    expect(count('gpt2-small')).toBe(124_439_808);
    expect(count('bert-base')).toBe(109_482_240 - (768 * 768 + 768)); // BertModel without the pooler
    expect(count('llama2-7b')).toBe(6_738_415_616);
  });

  it('rejects bad configurations', () => {
    expect(() => graphSpec({ preset: 'bert-tiny', phase: 'decode' })).toThrow(/encoder/);
    expect(() => graphSpec({ preset: 'llama-tiny', heads: 3 })).toThrow(/multiple/);
    expect(() => graphSpec({ family: 'gpt2', layers: 1, dModel: 64, heads: 2 })).toThrow(/vocab/);
    expect(() => graphSpec({ preset: 'gpt2-tiny', seq: 33 })).toThrow(/position/);
    expect(() => graphSpec({ preset: 'llama-tiny', phase: 'decode', past: 64 })).toThrow(/position/);
    expect(() => graphSpec({ preset: 'gpt2-tiny', batch: 'two words' })).toThrow(/identifier/);
    expect(() => graphSpec({ preset: 'gpt2-tiny', opset: 13 })).toThrow(/opset/);
    expect(() => graphSpec({ preset: 'nope' })).toThrow(/unknown preset/);
    expect(graphSpec({ family: 'llama', layers: 1, dModel: 64, heads: 4, vocab: 10 }).config.ffn).toBe(256);
  });

  it('generates seeded weights and inputs', () => {
    const a = new Float32Array(collect(normalSource([20000], 1, 'k', 0, 1)).buffer);
    const b = new Float32Array(collect(normalSource([20000], 1, 'k', 0, 1)).buffer);
    expect(a).toEqual(b);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    const t = new Float32Array(collect(transposedSource(normalSource([3, 5], 2, 'm'))).buffer);
    const m = new Float32Array(collect(normalSource([3, 5], 2, 'm')).buffer);
    expect(t[4 * 3 + 1]).toBe(m[1 * 5 + 4]);
    const inputs = makeTestInputs(buildGraph(graphSpec({ preset: 'llama-tiny', phase: 'decode' })).inputs, { vocab: 128, past: 4 });
    expect(inputs.map((i) => i.name).slice(0, 3)).toEqual(['input_ids', 'position_ids', 'past_key_0']);
    expect(inputs[1]!.tensor.toArray()).toEqual([4]);
    expect(inputs[0]!.tensor.toArray().every((v) => v >= 0 && v < 128)).toBe(true);
    expect(inputs[2]!.tensor.shape).toEqual([1, 2, 4, 16]);
  });
});
