// pimc generate: 16 greedy decode steps on the simulated machine match the
// reference interpreter's tokens on the GPT-2 and LLaMA-style decode models
// (logits within the FP16 tolerance at every step).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/main.js';
import { generateTokens } from './generate.js';

const models = path.resolve(__dirname, '../../examples/models');

describe('pimc generate', () => {
  for (const [m, hw] of [['gpt2_dynamic_decode', 'npu+hbm-pim'], ['llama_dynamic_decode', 'npu+hbm-pim'], ['llama_dynamic_decode', 'npu']] as const) {
    it(`${m} on ${hw}: 16 steps, every token equal to the reference's`, () => {
      const r = generateTokens(path.join(models, m, 'model.onnx'), { hw, promptIds: [5, 17, 42], steps: 16 });
      expect(r.steps).toHaveLength(17);
      for (const s of r.steps) {
        expect(s.maxLogitError, `step ${s.step}`).toBeLessThanOrEqual(s.tolerance);
        expect(s.maxLogitError, `step ${s.step}: FP16 leaves a trace`).toBeGreaterThan(0);
        expect(s.status, `step ${s.step}`).toBe('match');
      }
      expect(r.ok).toBe(true);
      expect(r.secondsPerToken).toBeGreaterThan(0);
    }, 120_000);
  }

  it.each(['llama_dynamic_decode', 'gpt2_dynamic_decode'])('%s on npu+hbm-pim: the banks carry weights and KV caches from step to step, with the same numbers as laying them out afresh', (m) => {
    const file = path.join(models, m, 'model.onnx');
    const carried = generateTokens(file, { hw: 'npu+hbm-pim', promptIds: [5, 17, 42], steps: 6 });
    const fresh = generateTokens(file, { hw: 'npu+hbm-pim', promptIds: [5, 17, 42], steps: 6, carryBanks: false });
    // the prompt's step and the first decode step lay the banks out differently (3 rows per GEMV vector, then 1); from then on the layout repeats
    expect(carried.steps.map((x) => x.carried)).toEqual([false, false, true, true, true, true, true]);
    expect(fresh.steps.every((x) => !x.carried)).toBe(true);
    expect(carried.tokens).toEqual(fresh.tokens);
    expect(carried.steps.map((x) => x.maxLogitError)).toEqual(fresh.steps.map((x) => x.maxLogitError));
    expect(carried.ok).toBe(true);
  }, 120_000);

  it('bad input: a model without past caches, an empty prompt: coded errors', async () => {
    const err = async (args: string[]) => {
      let e = '';
      const code = await runCli(args, { out: () => {}, err: (t) => (e += t), interactive: false });
      return { code, e };
    };
    const bert = await err(['generate', path.join(models, 'bert_encoder', 'model.onnx'), '--prompt-ids', '1,2']);
    expect(bert.code).toBe(2);
    expect(bert.e).toMatch(/^PIMC0601: /);
    const empty = await err(['generate', path.join(models, 'gpt2_dynamic_decode', 'model.onnx'), '--prompt-ids', ',']);
    expect(empty.code).toBe(2);
    expect(empty.e).toMatch(/^PIMC0703: --prompt-ids/);
  });
});
