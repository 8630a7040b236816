// Issue [5/6]: the placement's PNM estimate and the CXL-PNM simulator agree.
// Decode attention of LLaMA-style shapes (head dim 128; LLaMA-2-7B's 32
// heads, and 32 query heads over 8 KV heads as in grouped-query LLaMAs) at
// KV lengths 1k, 8k and 32k, batch 1 and 16: the lowering's descriptors run
// on the simulator (timing only: checked and timed, not computed, on sparse
// memory, because 32k x 16 streams gigabytes) and the simulated doorbell
// (host writes, units, completion poll) must be within 25% of CostModel's
// estimate for the PNM engine.
import { describe, expect, it } from 'vitest';
import { lowerOnePnmOp } from '../../backends/cxl-pnm/lower/harness.js';
import { F } from '../../backends/npu/lower/harness.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import { PnmMemory } from '../../runtime-sim/pnm/memory.js';
import { runPnm } from '../../runtime-sim/pnm/sim.js';
import { analyzeOps } from '../analysis/op-costs.js';
import type { Binding } from '../analysis/scenario.js';
import { CostModel } from './cost-model.js';

const hw = loadHardware('npu+hbm-pim+cxl-pnm');
const cost = new CostModel(hw);
const binding: Binding = { phase: 'decode', batch: 1, kvLen: 0, env: new Map(), batchScale: 1, notes: [] };

describe.each([
  ['LLaMA-2-7B heads (32 / 32)', 32, 32],
  ['grouped-query (32 / 8)', 32, 8],
])('decode attention on CXL-PNM, %s', (_name, hq, hkv) => {
  for (const batch of [1, 16]) {
    for (const kv of [1024, 8192, 32768]) {
      it(`batch ${batch}, KV ${kv}: simulated within 25% of the estimate`, () => {
        const types = [[batch, hq, 1, 128], [batch, hkv, kv, 128], [batch, hkv, kv, 128]].map((shape) => ({ dtype: 'f32' as const, shape }));
        const { graph, op, ctx, program } = lowerOnePnmOp('Attention', 'pimc', types, { scale: F(Math.fround(1 / Math.sqrt(128))) }, { hw: 'npu+hbm-pim+cxl-pnm' });
        const sim = runPnm(program, new PnmMemory(ctx.hw), { hw: ctx.hw, functional: false });
        const work = analyzeOps(graph, binding).find((w) => w.op === op)!;
        const estimate = cost.estimate(work, 'pnm').seconds;
        const ratio = sim.seconds / estimate;
        expect(ratio, `simulated ${(sim.seconds * 1e6).toFixed(1)} us, estimated ${(estimate * 1e6).toFixed(1)} us`).toBeGreaterThan(0.8);
        expect(ratio, `simulated ${(sim.seconds * 1e6).toFixed(1)} us, estimated ${(estimate * 1e6).toFixed(1)} us`).toBeLessThan(1.25);
      });
    }
  }
});
