// The programmatic API: what the CLI does, as typed functions from the package
// root — checked through the built package entry (`import 'pimc'`), which is
// what users import.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

const root = path.resolve(__dirname, '../..');
const model = path.join(root, 'examples/models/gpt2_prefill/model.onnx');

describe('the programmatic API', () => {
  it('loads, prints, parses and runs a model', () => {
    const { graph, timings } = api.loadModel(model, { stage: 'folded' });
    expect(timings.map((t) => t.pass)).toEqual([...api.pipeline('fold')]);
    const text = api.printGraph(graph);
    expect(api.printGraph(api.parseGraph(text, { baseDir: path.dirname(model) }))).toBe(text);
    const r = api.runModel(graph, { inputs: path.join(path.dirname(model), 'test_data_set_0'), check: true });
    expect(r.ok).toBe(true);
    expect(r.outputs[0]!.maxAbsError).toBeLessThan(1e-4);
  });

  it('runs a pass list of the caller\'s choosing, verifying after each', () => {
    const g = api.importOnnxFile(model);
    const before = g.ops.length;
    const t = api.runPasses(g, ['fold-constants', 'dce']);
    expect(t).toHaveLength(2);
    expect(g.ops.length).toBeLessThan(before);
    expect(() => api.runPasses(g, ['no-such-pass'])).toThrow(/^PIMC0702/);
  });

  it('is what the package root exports once built', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      "const p = await import('pimc'); console.log(JSON.stringify(['loadModel','runModel','runConformance','printGraph','parseGraph','demo','runCli'].map(k => typeof p[k])))"],
      { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(Array(7).fill('function'));
  });
});
