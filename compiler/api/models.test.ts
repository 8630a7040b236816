// The bundled exporter-made models through the CLI: `pimc run --check` on every
// test-data set (static and dynamic shapes), `--outputs`, `--print-after`,
// `--timings`, and the demo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/main.js';
import { decodeTensorFile, encodeTensorFile } from '../frontend/tensor-proto.js';

const models = path.resolve(__dirname, '../../examples/models');

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

const sets = fs.readdirSync(models).flatMap((m) =>
  fs.readdirSync(path.join(models, m)).filter((d) => d.startsWith('test_data_set_')).map((d) => [m, d] as const),
);

describe('pimc run --check on the bundled models', () => {
  it('covers static and dynamic-shape models', () => {
    expect(sets.map(([m]) => m)).toEqual(expect.arrayContaining(['bert_encoder', 'gpt2_decode', 'gpt2_prefill', 'gpt2_dynamic_decode', 'llama_dynamic_prefill']));
  });

  for (const [m, set] of sets) {
    it(`${m}/${set} matches PyTorch within 1e-4`, async () => {
      const r = await cli(['run', path.join(models, m, 'model.onnx'), '--inputs', path.join(models, m, set), '--check', '--json']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out);
      expect(doc.schema).toBe('pimc.run/1');
      expect(doc.ok).toBe(true);
      for (const o of doc.outputs) expect(o.maxAbsError).toBeLessThanOrEqual(1e-4);
    });
  }

  it('binds symbolic dims differently per data set', async () => {
    const dims = [];
    for (const set of ['test_data_set_0', 'test_data_set_1']) {
      const r = await cli(['run', path.join(models, 'llama_dynamic_decode/model.onnx'), '--inputs', path.join(models, 'llama_dynamic_decode', set), '--json']);
      dims.push(JSON.parse(r.out).dims);
    }
    expect(dims[0]).not.toEqual(dims[1]);
    expect(Object.keys(dims[0]).sort()).toEqual(['batch', 'past', 'seq']);
  });

  it('exits 1 when results differ from the reference, 2 when inputs do not fit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-diff-'));
    const src = path.join(models, 'gpt2_decode/test_data_set_0');
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    // move one expected logit by 1e-3, ten times the tolerance
    const { name, tensor } = decodeTensorFile(fs.readFileSync(path.join(src, 'output_0.pb')), 'logits');
    tensor.data[7] = tensor.data[7]! + 1e-3;
    fs.writeFileSync(path.join(dir, 'output_0.pb'), encodeTensorFile(name, tensor));
    const r = await cli(['run', path.join(models, 'gpt2_decode/model.onnx'), '--inputs', dir, '--check']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/logits .*FAILED: element 7/);
    // [1, 16] token ids do not fit the [1, 1] input: bad input, not a numeric difference
    fs.copyFileSync(path.join(models, 'gpt2_prefill/test_data_set_0/input_0.pb'), path.join(dir, 'input_0.pb'));
    const r2 = await cli(['run', path.join(models, 'gpt2_decode/model.onnx'), '--inputs', dir, '--check']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/^PIMC0602: input "input_ids" has shape \[1, 16\]/);
  });

  it('writes outputs that read back equal to what it reports', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-out-'));
    const r = await cli(['run', path.join(models, 'gpt2_prefill/model.onnx'), '--inputs', path.join(models, 'gpt2_prefill/test_data_set_0'), '--outputs', out]);
    expect(r.code).toBe(0);
    const got = decodeTensorFile(fs.readFileSync(path.join(out, 'output_0.pb')), 'o');
    const want = decodeTensorFile(fs.readFileSync(path.join(models, 'gpt2_prefill/test_data_set_0/output_0.pb')), 'w');
    expect(got.name).toBe('logits');
    expect(got.tensor.shape).toEqual([1, 16, 1000]);
    let err = 0;
    for (let i = 0; i < want.tensor.size; i++) err = Math.max(err, Math.abs(got.tensor.data[i]! - want.tensor.data[i]!));
    expect(err).toBeLessThan(1e-4);
  });
});

describe('pimc import', () => {
  it('--print-after shows the IR after the named pass, --timings the passes', async () => {
    const r = await cli(['import', path.join(models, 'bert_encoder/model.onnx'), '--print-after', 'fold-constants', '--timings']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('// ----- IR after fold-constants -----');
    expect(r.err).toMatch(/fold-constants\s+[\d.]+\s+\d+/);
    expect(r.out).toMatch(/^graph "torch_jit" \{/);
  });

  it('folding removes the exporter shape subgraphs of a static model', async () => {
    const imported = (await cli(['import', path.join(models, 'bert_encoder/model.onnx'), '--emit', 'ir'])).out;
    const folded = (await cli(['import', path.join(models, 'bert_encoder/model.onnx'), '--emit', 'folded'])).out;
    expect(imported).toMatch(/= Shape\(/);
    expect(imported).toMatch(/= Gather\(%"\/layers.0\/self_attn\/Shape/);
    expect(folded).not.toMatch(/= (Shape|Unsqueeze|Concat|ConstantOfShape)\(/);
    expect(folded).not.toMatch(/= Gather\(%"\/layers.0\/self_attn\/Shape/);
  });

  it('an unknown pass in --print-after is a coded error', async () => {
    const r = await cli(['import', path.join(models, 'bert_encoder/model.onnx'), '--print-after', 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0702: unknown pass "nope"/);
  });

  it('keeps dims symbolic in dynamic models, with no unknown dims left', async () => {
    const r = await cli(['import', path.join(models, 'llama_dynamic_decode/model.onnx')]);
    expect(r.out).toContain('input %past_key_0 : f32[batch, 2, past, 16]');
    expect(r.out).toContain('%present_key_0 : f32[batch, 2, past + seq, 16] = Concat(');
    expect(r.out).not.toMatch(/unk\d/);
  });
});

describe('pimc demo', () => {
  it('imports, folds, runs and checks the bundled GPT-2', async () => {
    const r = await cli(['demo', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.schema).toBe('pimc.demo/1');
    expect(doc.run.ok).toBe(true);
    expect(doc.opsFolded).toBeLessThan(doc.opsImported);
    expect(doc.topTokens).toHaveLength(5);
  });
});
