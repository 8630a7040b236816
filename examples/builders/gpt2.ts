// GPT-2 (HF GPT2LMHeadModel) as torch.onnx.export writes it with dynamic axes.
//
// Inputs: input_ids i64[batch, seq]; decode adds past_key_i / past_value_i
// f32[batch, heads, past, hd]. Outputs: logits f32[batch, seq, vocab], and
// present_key_i / present_value_i (decode; prefill when emitPresent).
// Pre-LN blocks: LayerNormalization, Conv1D c_attn (MatMul + Add) split into
// q/k/v, heads by Reshape/Transpose with Shape subgraphs, causal mask sliced
// from the bool buffer "attn.bias" and applied by Where with float32's lowest
// value, Softmax, merge heads, c_proj; MLP with the tanh GELU spelled out; a
// tied LM head materialized as the transposed embedding.

import { GraphBuilder, type Scope } from './onnx-writer.js';
import {
  addDims, F32_LOWEST, geluTanh, layerNorm, linear, mergeHeads, range, scaledScores, sizeOf, splitHeads, unsqueeze,
  type FamilyGraph, type GraphSpec, type InputSpec, type ValueSpec,
} from './patterns.js';
import { headDim } from './presets.js';
import { computedBool, init, transposedSource, type TensorSource } from './weights.js';

export function buildGpt2(spec: GraphSpec): FamilyGraph {
  const { config: c, seed } = spec;
  const g = new GraphBuilder({ opset: spec.opset });
  const decode = spec.phase === 'decode';
  const seq = decode ? 1 : spec.seq;
  const hd = headDim(c);
  const d = c.dModel;
  const kvLen = decode ? addDims(spec.past, 1) : seq;

  const inputs: InputSpec[] = [{ name: 'input_ids', dtype: 'i64', dims: [spec.batch, seq], role: 'input_ids' }];
  if (decode) {
    for (let i = 0; i < c.layers; i++) {
      for (const kind of ['key', 'value'] as const) {
        inputs.push({ name: `past_${kind}_${i}`, dtype: 'f32', dims: [spec.batch, c.heads, spec.past, hd], role: `past_${kind}` });
      }
    }
  }
  for (const i of inputs) g.input(i.name, i.dtype, i.dims);

  // Parameters in HF's order and names; Conv1D weights are stored [in, out] already.
  const param = (name: string, src: TensorSource) => g.initializer(name, src);
  const wteSrc = init.weight([c.vocab, d], seed, 'transformer.wte.weight');
  const wte = param('transformer.wte.weight', wteSrc);
  const wpe = param('transformer.wpe.weight', init.weight([c.maxPositions, d], seed, 'transformer.wpe.weight', 0.01));
  // The causal-mask buffer: every layer registers the same tril, deduplicated by the exporter.
  const maxPos = c.maxPositions;
  const causal = g.initializer(
    'transformer.h.0.attn.bias',
    computedBool([1, 1, maxPos, maxPos], (i) => i % maxPos <= Math.floor(i / maxPos) % maxPos),
    false,
  );

  const top = g.scope('/transformer');
  // position_ids = torch.arange(past_length, input_shape[-1] + past_length).unsqueeze(0)
  const seqLen = sizeOf(top, top.op('Shape', ['input_ids']), 1);
  let positions: string;
  if (decode) {
    const pastLen = sizeOf(top, top.op('Shape', ['past_key_0']), 2);
    positions = range(top, pastLen, top.op('Add', [seqLen, pastLen]));
  } else {
    positions = range(top, top.i64(0), seqLen);
  }
  const positionIds = unsqueeze(top, positions, [0]);
  const tokenEmb = top.sub('wte').op('Gather', [wte, 'input_ids']);
  const posEmb = top.sub('wpe').op('Gather', [wpe, positionIds]);
  let h = top.op('Add', [tokenEmb, posEmb]);

  const outputs: ValueSpec[] = [{ name: 'logits', dtype: 'f32', dims: [spec.batch, seq, c.vocab] }];
  const presents = decode || spec.emitPresent;
  for (let i = 0; i < c.layers; i++) {
    const p = `transformer.h.${i}`;
    const s = top.sub(`h.${i}`);
    // Parameters named as in HF's state dict; `std` overrides the weight init (GPT-2 scales c_proj).
    const w = (name: string, dims: number[], kind: keyof typeof init, std?: number) =>
      param(`${p}.${name}`, kind === 'weight' ? init.weight(dims, seed, `${p}.${name}`, std) : init[kind](dims, seed, `${p}.${name}`));
    const ln1 = layerNorm(s.sub('ln_1'), h, w('ln_1.weight', [d], 'normWeight'), w('ln_1.bias', [d], 'normBias'), c.normEps);
    const cAttnW = w('attn.c_attn.weight', [d, 3 * d], 'weight');
    const cAttnB = w('attn.c_attn.bias', [3 * d], 'bias');
    const cProjW = w('attn.c_proj.weight', [d, d], 'weight', 0.02 / Math.sqrt(2 * c.layers));
    const cProjB = w('attn.c_proj.bias', [d], 'bias');
    const attn = attention(s.sub('attn'), ln1, i, presents, decode, { cAttnW, cAttnB, cProjW, cProjB, causal, heads: c.heads, hd, d });
    h = s.op('Add', [attn, h]);
    const ln2 = layerNorm(s.sub('ln_2'), h, w('ln_2.weight', [d], 'normWeight'), w('ln_2.bias', [d], 'normBias'), c.normEps);
    const mlp = s.sub('mlp');
    const fc = linear(mlp.sub('c_fc'), ln2, w('mlp.c_fc.weight', [d, c.ffn], 'weight'), w('mlp.c_fc.bias', [c.ffn], 'bias'));
    const act = geluTanh(mlp.sub('act'), fc);
    const proj = linear(
      mlp.sub('c_proj'), act,
      w('mlp.c_proj.weight', [c.ffn, d], 'weight', 0.02 / Math.sqrt(2 * c.layers)),
      w('mlp.c_proj.bias', [d], 'bias'),
    );
    h = s.op('Add', [h, proj]);
    if (presents) {
      for (const kind of ['key', 'value']) {
        outputs.push({ name: `present_${kind}_${i}`, dtype: 'f32', dims: [spec.batch, c.heads, kvLen, hd] });
      }
    }
  }
  const lnF = top.sub('ln_f');
  const hf = layerNorm(lnF, h, param('transformer.ln_f.weight', init.normWeight([d], seed, 'transformer.ln_f.weight')),
    param('transformer.ln_f.bias', init.normBias([d], seed, 'transformer.ln_f.bias')), c.normEps);
  // lm_head shares wte; the exporter folds wte^T into its own initializer.
  const lmHead = g.matmulWeight(transposedSource(wteSrc), false);
  g.scope('/lm_head').op('MatMul', [hf, lmHead], {}, 'logits');

  for (const o of outputs) g.output(o.name, o.dtype, o.dims);
  return { built: g.build(), inputs, outputs };
}

interface AttnWeights {
  cAttnW: string;
  cAttnB: string;
  cProjW: string;
  cProjB: string;
  causal: string;
  heads: number;
  hd: number;
  d: number;
}

/** HF GPT2Attention.forward (eager attention). */
function attention(s: Scope, x: string, layer: number, presents: boolean, decode: boolean, w: AttnWeights): string {
  const qkv = linear(s.sub('c_attn'), x, w.cAttnW, w.cAttnB);
  // query, key, value = self.c_attn(hidden_states).split(self.split_size, dim=2)
  const [q0, k0, v0] = s.ops('Split', [qkv, s.i64([w.d, w.d, w.d])], 3, { axis: 2 }) as [string, string, string];
  const q = splitHeads(s, q0, w.heads, w.hd);
  const presentK = `present_key_${layer}`;
  const presentV = `present_value_${layer}`;
  let k = splitHeads(s, k0, w.heads, w.hd, presents && !decode ? presentK : undefined);
  let v = splitHeads(s, v0, w.heads, w.hd, presents && !decode ? presentV : undefined);
  if (decode) {
    // key = torch.cat((past_key, key), dim=-2); present = (key, value)
    k = s.op('Concat', [`past_key_${layer}`, k], { axis: 2 }, presentK);
    v = s.op('Concat', [`past_value_${layer}`, v], { axis: 2 }, presentV);
  }
  let scores = scaledScores(s, q, k, w.hd);
  // causal_mask = self.bias[:, :, key_length - query_length : key_length, :key_length]
  const qLen = sizeOf(s, s.op('Shape', [q]), 2);
  const kLen = sizeOf(s, s.op('Shape', [k]), 2);
  const start = unsqueeze(s, s.op('Sub', [kLen, qLen]), [0]);
  const rows = s.op('Slice', [w.causal, start, unsqueeze(s, kLen, [0]), s.i64([2]), s.i64([1])]);
  const mask = s.op('Slice', [rows, s.i64([0]), unsqueeze(s, kLen, [0]), s.i64([3]), s.i64([1])]);
  // attn_weights = torch.where(causal_mask, attn_weights, mask_value)
  scores = s.op('Where', [mask, scores, s.f32(F32_LOWEST)]);
  const probs = s.op('Softmax', [scores], { axis: -1 });
  const ctx = mergeHeads(s, s.op('MatMul', [probs, v]), w.d);
  return linear(s.sub('c_proj'), ctx, w.cProjW, w.cProjB);
}
