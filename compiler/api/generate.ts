// `pimc generate`: greedy decoding with a decode-step model (inputs
// input_ids [batch, seq] and past_* caches [batch, heads, past, d]; outputs
// logits and the present_* caches), on the simulated machine and on the
// reference interpreter side by side.
//
// 1. The reference decodes greedily on its own: prompt first (past empty),
//    then one token per step, its caches carried from step to step.
// 2. The machine is teacher-forced with the reference's tokens, so its logits
//    can be compared step by step; it carries its own caches (the present
//    outputs it computed become its next past inputs).
// 3. At every step the machine's logits must be within the FP16 tolerance of
//    the reference's (depth x 2^-11 x max|logit|, compiler/api/verify.ts).
//    Its greedy token must equal the reference's wherever the reference's
//    top-1/top-2 margin exceeds twice that tolerance; where it does not, the
//    step is numerically undecidable, reported as such, not as wrong
//    (DESIGN.md, verification tolerances).
//
// Each step is compiled for its own sizes and simulated whole. The caches
// stay where the placement put them: in the NPU's DRAM, in the expander
// (inputs and outputs that only PNM ops touch are homed there: no link
// traffic carries them, compiler/codegen/hetero.ts), or in the HBM-PIM banks,
// which go from step to step with the weights and every appended token in
// place (KV regions planned for the last step's length; docs/runtime.md,
// "Decoding"). The host keeps its own copy of every cache too: the decode
// model's present_* outputs.

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import { runGraph } from '../reference/interpreter.js';
import { loadModel } from './model.js';
import { simulateModel, type SimulateReport } from './simulate.js';
import { opDepths } from './verify.js';

export const GENERATE_SCHEMA = 'pimc.generate/1';
const U16 = 2 ** -11;

export interface GenerateOptions {
  hw?: string;
  promptIds: readonly number[];
  /** Decode steps after the prompt's step: steps + 1 tokens in all. */
  steps: number;
  /**
   * Keep the HBM-PIM banks from step to step (default true): KV regions are
   * planned for the last step's length, so every decode step lays the banks
   * out alike and finds its weights and caches where the previous step left
   * them. false: every step lays them out afresh from the host's copies.
   */
  carryBanks?: boolean;
  onProgress?: (step: number, total: number) => void;
}

export interface GenerateStep {
  step: number;
  /** The reference's greedy token, and the machine's on the same context. */
  token: number;
  machineToken: number;
  /** Reference logits' top-1 minus top-2. */
  margin: number;
  maxLogitError: number;
  tolerance: number;
  status: 'match' | 'undecidable' | 'mismatch' | 'logits outside tolerance';
  /** Simulated time of the machine's step. */
  seconds: number;
  /** The HBM-PIM banks came from the previous step as it left them (weights and appended caches in place). */
  carried: boolean;
}

export interface GenerateReport {
  schema: typeof GENERATE_SCHEMA;
  model: string;
  hardware: string;
  prompt: number[];
  tokens: number[];
  steps: GenerateStep[];
  ok: boolean;
  /** Mean simulated seconds of the decode steps (after the prompt). */
  secondsPerToken: number;
}

const argmax = (x: ArrayLike<number>, from: number, n: number) => {
  let best = from;
  for (let i = from + 1; i < from + n; i++) if (x[i]! > x[best]!) best = i;
  return best - from;
};

/** Reference top-1 minus top-2 over the last position's logits. */
function margin(x: ArrayLike<number>, from: number, n: number): number {
  let a = -Infinity;
  let b = -Infinity;
  for (let i = from; i < from + n; i++) {
    const v = x[i]!;
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return a - b;
}

function emptyCaches(g: Graph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const v of g.inputs) {
    if (v.name === 'input_ids') continue;
    if (!/past/i.test(v.name)) fail('PIMC0601', `model input ${q(v.name)}: pimc generate needs a decode model whose inputs are input_ids and past_* caches`);
    out.set(v.name, new Tensor(v.type!.dtype, v.type!.shape.map((d) => (typeof d === 'number' ? d : /past/i.test(d) ? 0 : 1))));
  }
  return out;
}

export function generateTokens(model: string, o: GenerateOptions): GenerateReport {
  if (o.promptIds.length === 0) fail('PIMC0703', '--prompt-ids needs at least one token id');
  const reference = loadModel(model, { stage: 'folded' }).graph;
  if (!reference.inputs.some((v) => v.name === 'input_ids')) fail('PIMC0601', `model ${q(model)} has no input_ids input`);
  const presentOf = (past: string) => past.replace(/past/i, 'present');
  for (const v of reference.inputs) {
    if (v.name !== 'input_ids' && !reference.outputs.some((x) => x.name === presentOf(v.name))) fail('PIMC0601', `model ${q(model)} has input ${q(v.name)} but no output ${q(presentOf(v.name))} to carry it`);
  }
  let refCaches = emptyCaches(reference);
  let simCaches = new Map(refCaches);
  const tokens: number[] = [];
  const steps: GenerateStep[] = [];
  let hardware = o.hw ?? 'npu';
  let ids = [...o.promptIds];
  const carry = o.carryBanks ?? true;
  // every cache holds at most the prompt and the generated tokens but the last
  const kvCapacity = carry ? o.promptIds.length + o.steps : undefined;
  let banks: SimulateReport['carry'];
  for (let step = 0; step <= o.steps; step++) {
    const feeds = (caches: Map<string, Tensor>) => new Map([['input_ids', Tensor.from('i64', [1, ids.length], ids)], ...caches]);
    const ref = runGraph(reference, feeds(refCaches)).outputs;
    const sim = simulateModel(loadModel(model, { stage: 'onnx' }).graph, { hw: o.hw, inputs: feeds(simCaches), kvCapacity, ...(carry && banks ? { carry: banks } : {}) });
    banks = sim.carry;
    hardware = sim.hardware;
    const want = ref.get('logits')!;
    const got = sim.outputs.get('logits')!;
    const vocab = want.shape[want.shape.length - 1]!;
    const last = want.size - vocab;
    let err = 0;
    let scale = 0;
    for (let i = 0; i < want.size; i++) {
      err = Math.max(err, Math.abs(got.data[i]! - want.data[i]!));
      scale = Math.max(scale, Math.abs(want.data[i]!));
    }
    const logits = sim.graph.outputs.find((v) => v.name === 'logits')!;
    const tolerance = (opDepths(sim.graph).get(logits) ?? 0) * U16 * scale;
    const token = argmax(want.data, last, vocab);
    const machineToken = argmax(got.data, last, vocab);
    const m = margin(want.data, last, vocab);
    const status: GenerateStep['status'] = err > tolerance ? 'logits outside tolerance'
      : token === machineToken ? 'match' : m <= 2 * tolerance ? 'undecidable' : 'mismatch';
    steps.push({ step, token, machineToken, margin: m, maxLogitError: err, tolerance, status, seconds: sim.run.seconds, carried: sim.carried });
    tokens.push(token);
    refCaches = new Map([...refCaches.keys()].map((k) => [k, ref.get(presentOf(k))!] as const));
    simCaches = new Map([...simCaches.keys()].map((k) => [k, sim.outputs.get(presentOf(k))!] as const));
    ids = [token];
    o.onProgress?.(step + 1, o.steps + 1);
  }
  const decode = steps.slice(1);
  return {
    schema: GENERATE_SCHEMA,
    model,
    hardware,
    prompt: [...o.promptIds],
    tokens,
    steps,
    ok: steps.every((s) => s.status === 'match' || s.status === 'undecidable'),
    secondsPerToken: decode.length ? decode.reduce((a, s) => a + s.seconds, 0) / decode.length : steps[0]!.seconds,
  };
}
