// Bundles: what `pimc compile` writes is everything `pimc simulate` needs.
// A bundle simulated from disk gives bit for bit the outputs, and step for
// step the timeline, of the same model compiled and simulated in memory
// (NPU programs, PIM streams and work, PNM descriptors and link copies all
// went through their binary forms and back); it is written all or nothing;
// and whatever is wrong with one on disk is a coded error naming the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileToBundle } from '../api/compile.js';
import { loadModel } from '../api/model.js';
import { simulateBundle } from '../api/simulate-bundle.js';
import { simulateModel } from '../api/simulate.js';
import type { Device } from '../../runtime-sim/hardware/types.js';
import { bundleFiles, writeBundleFiles } from './write.js';

const models = path.resolve(__dirname, '../../examples/models');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-bundle-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

/** Attention and KV appends on pnm, the rest on the NPU (the PNM path is exercised whatever the optimum is). */
function attentionOnPnm(m: string): Map<string, Device> {
  const fused = loadModel(path.join(models, m, 'model.onnx'), { stage: 'fused' }).graph;
  return new Map(fused.ops.filter((op) => op.type === 'Attention' || op.type === 'KvAppend').map((op) => [op.name, 'pnm' as const]));
}

describe('a bundle runs exactly what was compiled', () => {
  const cases: { m: string; hw: string; pnm?: boolean; weights: 'embed' | 'reference' }[] = [
    { m: 'bert_encoder', hw: 'npu+hbm-pim', weights: 'embed' },
    { m: 'gpt2_decode', hw: 'npu+hbm-pim', weights: 'reference' },
    { m: 'llama_dynamic_decode', hw: 'npu+hbm-pim', weights: 'embed' },
    { m: 'gpt2_decode', hw: 'npu+hbm-pim+cxl-pnm', pnm: true, weights: 'embed' },
  ];
  for (const c of cases) {
    it(`${c.m} on ${c.hw}${c.pnm ? ' (attention on pnm)' : ''}, weights ${c.weights}: same outputs and timeline as in memory`, () => {
      const file = path.join(models, c.m, 'model.onnx');
      const inputs = path.join(models, c.m, 'test_data_set_0');
      const pins = c.pnm ? attentionOnPnm(c.m) : undefined;
      const placement = pins ? (op: { name: string }) => pins.get(op.name) : 'optimal' as const;
      const dir = path.join(tmp, `${c.m}-${c.hw}`);
      const r = compileToBundle(file, dir, { hw: c.hw, inputs, placement, weights: c.weights });
      expect(r.weights.mode).toBe(c.weights);
      // referenced: the model's raw initializers stay in its file; only constants the compiler made are embedded
      const man = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { weights: { tensors: { from: { kind: string } }[] } };
      const kinds = man.weights.tensors.map((w) => w.from.kind);
      if (c.weights === 'embed') expect(new Set(kinds)).toEqual(new Set(['image']));
      else expect(kinds.filter((k) => k === 'file').length).toBeGreaterThan(kinds.length / 2);
      if (c.pnm) {
        expect(r.steps.pnm).toBeGreaterThan(0);
        // the KV caches' homes are in the expander, in and out
        const io = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { inputs: { name: string; pnm?: object }[]; outputs: { name: string; pnm?: object }[] };
        for (const x of [...io.inputs, ...io.outputs]) expect(!!x.pnm, x.name).toBe(/past|present/.test(x.name));
      }
      if (c.hw !== 'npu') expect(r.placement.pim ?? r.placement.pnm).toBeGreaterThan(0);

      const { report, outputs } = simulateBundle(dir, { inputs });
      const direct = simulateModel(file, { hw: c.hw, inputs, placement: pins ? (op) => pins.get(op.name) : 'optimal' });
      expect(report.seconds).toBe(direct.run.seconds);
      expect(report.timeline).toEqual(direct.run.timeline);
      for (const [name, t] of direct.outputs) expect(sameBits(outputs.get(name)!.data, t.data), name).toBe(true);
      // and the numbers are right: every output within the FP16 tolerance of the test data
      expect(report.checks.length).toBe(direct.graph.outputs.length);
      for (const x of report.checks) expect(x.maxAbsError, x.name).toBeLessThanOrEqual(x.tolerance);
      expect(report.ok).toBe(true);
    });
  }

  it('timing only: the same time, no outputs, neither weights nor inputs read', () => {
    const m = 'gpt2_decode';
    const dir = path.join(tmp, 'timing');
    compileToBundle(path.join(models, m, 'model.onnx'), dir, { hw: 'npu+hbm-pim', inputs: path.join(models, m, 'test_data_set_0'), weights: 'embed' });
    const full = simulateBundle(dir, { inputs: path.join(models, m, 'test_data_set_0') }).report;
    fs.rmSync(path.join(dir, 'weights.bin'));
    const timed = simulateBundle(dir, { functional: false });
    expect(timed.report.seconds).toBe(full.seconds);
    expect(timed.outputs.size).toBe(0);
    expect(timed.report.checks).toEqual([]);
  });
});

describe('outputs of a run', () => {
  it('writes output_N.pb and a Perfetto trace with a thread per device and the NPU engines', () => {
    const m = 'gpt2_decode';
    const inputs = path.join(models, m, 'test_data_set_0');
    const dir = path.join(tmp, 'outs');
    compileToBundle(path.join(models, m, 'model.onnx'), dir, { hw: 'npu+hbm-pim', inputs });
    const trace = path.join(tmp, 'run.trace.json');
    const outDir = path.join(tmp, 'outputs');
    const { report } = simulateBundle(dir, { inputs, trace, outputs: outDir });
    expect(fs.readdirSync(outDir).sort()).toEqual(report.checks.map((_, i) => `output_${i}.pb`).sort());
    const events = (JSON.parse(fs.readFileSync(trace, 'utf8')) as { traceEvents: { name: string; ph: string; pid: number; args?: { name?: string } }[] }).traceEvents;
    const threads = events.filter((e) => e.name === 'thread_name' && e.pid === 1).map((e) => e.args!.name);
    expect(threads).toEqual(expect.arrayContaining(['npu', 'pim']));
    expect(events.filter((e) => e.ph === 'X' && e.pid === 1)).toHaveLength(report.timeline.length);
    expect(events.some((e) => e.ph === 'X' && e.pid === 2)).toBe(true);
  });
});

describe('bad bundles are coded errors', () => {
  const m = 'bert_encoder';
  const inputs = path.join(models, m, 'test_data_set_0');
  const fresh = (name: string, weights: 'embed' | 'reference' = 'embed') => {
    const dir = path.join(tmp, name);
    compileToBundle(path.join(models, m, 'model.onnx'), dir, { hw: 'npu+hbm-pim', inputs, weights });
    return dir;
  };

  it('not a bundle: PIMC1301', () => {
    expect(() => simulateBundle(models, { inputs })).toThrow(/PIMC1301/);
  });

  it('another format version: PIMC1302', () => {
    const dir = fresh('version');
    const f = path.join(dir, 'manifest.json');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"pimc.bundle/1"', '"pimc.bundle/99"'));
    expect(() => simulateBundle(dir, { inputs })).toThrow(/PIMC1302/);
  });

  it('a program with one byte changed, or missing: PIMC1303 naming the file', () => {
    const dir = fresh('corrupt');
    const npu = path.join(dir, 'npu', fs.readdirSync(path.join(dir, 'npu'))[0]!);
    const bytes = fs.readFileSync(npu);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(npu, bytes);
    expect(() => simulateBundle(dir, { inputs })).toThrow(new RegExp(`PIMC1303.*${path.basename(npu).replace(/\./g, '\\.')}.*corrupt`));
    fs.rmSync(npu);
    expect(() => simulateBundle(dir, { inputs })).toThrow(/PIMC1303.*misses/);
  });

  it('referenced weights whose model file changed: PIMC1304', () => {
    const copy = path.join(tmp, 'model-copy');
    fs.mkdirSync(copy, { recursive: true });
    fs.copyFileSync(path.join(models, m, 'model.onnx'), path.join(copy, 'model.onnx'));
    const dir = path.join(tmp, 'ref');
    compileToBundle(path.join(copy, 'model.onnx'), dir, { hw: 'npu+hbm-pim', inputs, weights: 'reference' });
    expect(simulateBundle(dir, { inputs }).report.ok).toBe(true);
    fs.appendFileSync(path.join(copy, 'model.onnx'), Buffer.from([0]));
    expect(() => simulateBundle(dir, { inputs })).toThrow(/PIMC1304.*compile again/);
    fs.rmSync(path.join(copy, 'model.onnx'));
    expect(() => simulateBundle(dir, { inputs })).toThrow(/PIMC1304.*found neither/);
  });

  it('inputs of other sizes than compiled for: PIMC0602', async () => {
    const { Tensor } = await import('../../ir/tensor.js');
    const dir = fresh('sizes');
    const man = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { inputs: { name: string; dtype: 'f32'; shape: number[] }[] };
    const feeds = new Map(man.inputs.map((x) => [x.name, new Tensor(x.dtype, [...x.shape.slice(0, -1), x.shape.at(-1)! + 1])]));
    expect(() => simulateBundle(dir, { inputs: feeds })).toThrow(/PIMC0602.*compiled for/);
  });
});

describe('writing is all or nothing', () => {
  const m = 'bert_encoder';
  const inputs = path.join(models, m, 'test_data_set_0');

  it('a write that fails leaves neither a bundle nor a temporary folder', () => {
    const parent = path.join(tmp, 'atomic');
    fs.mkdirSync(parent, { recursive: true });
    // the second file cannot be created: its folder name is taken by the first file
    const files = new Map<string, Uint8Array>([['a', new Uint8Array([1])], ['a/b', new Uint8Array([2])]]);
    expect(() => writeBundleFiles(path.join(parent, 'out'), files)).toThrow(/PIMC0104/);
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it('replaces an existing bundle, refuses anything else', () => {
    const dir = path.join(tmp, 'replace');
    compileToBundle(path.join(models, m, 'model.onnx'), dir, { hw: 'npu', inputs });
    compileToBundle(path.join(models, m, 'model.onnx'), dir, { hw: 'npu+hbm-pim', inputs });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).hardware.name).toBe('npu+hbm-pim');
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('replace.'))).toEqual([]);
    const other = path.join(tmp, 'not-a-bundle');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    expect(() => compileToBundle(path.join(models, m, 'model.onnx'), other, { hw: 'npu', inputs })).toThrow(/PIMC1305/);
    expect(fs.readdirSync(other)).toEqual(['notes.txt']);
  });

  it('the manifest lists every other file with its size and checksum', async () => {
    const { compileModel } = await import('../api/compile.js');
    const c = compileModel(path.join(models, m, 'model.onnx'), { hw: 'npu+hbm-pim', inputs });
    const files = bundleFiles(c.code, { model: m, hw: c.hw, dims: c.dims, weights: 'embed' }, path.join(tmp, 'x'));
    const man = JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as { files: Record<string, { bytes: number }> };
    expect(Object.keys(man.files).sort()).toEqual([...files.keys()].filter((f) => f !== 'manifest.json').sort());
    for (const [f, rec] of Object.entries(man.files)) expect(rec.bytes, f).toBe(files.get(f)!.length);
  });
});
