// BERT (HF BertModel, encoder only) as torch.onnx.export writes it with dynamic axes.
//
// Inputs: input_ids i64[batch, seq], attention_mask i64[batch, seq],
// token_type_ids i64[batch, seq] (unless disabled: then the zeros buffer is
// sliced and expanded, as HF does). Output: last_hidden_state f32[batch, seq, d].
// Embeddings (word + token type + position from Range), LayerNorm; the
// extended mask (1 - mask[:, None, None, :]) * lowest; post-LN layers with
// separate q/k/v Linear (MatMul + Add), heads by Shape subgraphs, scores / sqrt(hd)
// + mask, Softmax, output dense + residual + LayerNorm, erf GELU FFN.

import { GraphBuilder, type Scope } from './onnx-writer.js';
import {
  F32_LOWEST, geluErf, layerNorm, linear, mergeHeads, range, scaledScores, sizeOf, splitHeads, unsqueeze,
  type FamilyGraph, type GraphSpec, type InputSpec, type ValueSpec,
} from './patterns.js';
import { headDim } from './presets.js';
import { init, zerosI64 } from './weights.js';

export function buildBert(spec: GraphSpec): FamilyGraph {
  if (spec.phase !== 'prefill') throw new Error('bert is an encoder: only phase "prefill" exists');
  const { config: c, seed } = spec;
  const g = new GraphBuilder({ opset: spec.opset });
  const d = c.dModel;
  const hd = headDim(c);
  const dims = [spec.batch, spec.seq];
  const inputs: InputSpec[] = [
    { name: 'input_ids', dtype: 'i64', dims, role: 'input_ids' },
    { name: 'attention_mask', dtype: 'i64', dims, role: 'attention_mask' },
  ];
  if (spec.tokenTypeIds) inputs.push({ name: 'token_type_ids', dtype: 'i64', dims, role: 'token_type_ids' });
  for (const i of inputs) g.input(i.name, i.dtype, i.dims);

  const param = (name: string, kind: keyof typeof init, shape: number[]) => g.initializer(name, init[kind](shape, seed, name));
  const wordEmb = param('embeddings.word_embeddings.weight', 'weight', [c.vocab, d]);
  const posEmb = param('embeddings.position_embeddings.weight', 'weight', [c.maxPositions, d]);
  const typeEmb = param('embeddings.token_type_embeddings.weight', 'weight', [c.typeVocab, d]);

  // extended_attention_mask = (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
  const root = g.root;
  const m4 = unsqueeze(root, unsqueeze(root, 'attention_mask', [1]), [2]);
  const mf = root.op('Cast', [m4], { to: 1 });
  const extMask = root.op('Mul', [root.op('Sub', [root.f32(1.0), mf]), root.f32(F32_LOWEST)]);

  // BertEmbeddings
  const e = g.scope('/embeddings');
  const idsShape = e.op('Shape', ['input_ids']);
  const seqLen = sizeOf(e, idsShape, 1);
  let tokenTypes = 'token_type_ids';
  if (!spec.tokenTypeIds) {
    // buffered_token_type_ids[:, :seq_length].expand(input_shape[0], seq_length)
    const buf = g.initializer('embeddings.token_type_ids', zerosI64([1, c.maxPositions]), false);
    const sliced = e.op('Slice', [buf, e.i64([0]), unsqueeze(e, seqLen, [0]), e.i64([1]), e.i64([1])]);
    tokenTypes = e.op('Expand', [sliced, e.op('Shape', ['input_ids'])]);
  }
  const positionIds = unsqueeze(e, range(e, e.i64(0), seqLen), [0]);
  const words = e.sub('word_embeddings').op('Gather', [wordEmb, 'input_ids']);
  const types = e.sub('token_type_embeddings').op('Gather', [typeEmb, tokenTypes]);
  let h = e.op('Add', [words, types]);
  h = e.op('Add', [h, e.sub('position_embeddings').op('Gather', [posEmb, positionIds])]);
  h = layerNorm(e.sub('LayerNorm'), h, param('embeddings.LayerNorm.weight', 'normWeight', [d]),
    param('embeddings.LayerNorm.bias', 'normBias', [d]), c.normEps);

  for (let i = 0; i < c.layers; i++) {
    const p = `encoder.layer.${i}`;
    const s = g.scope(`/encoder/layer.${i}`);
    const lin = (name: string, inDim: number, outDim: number) => ({
      w: g.matmulWeight(init.weight([inDim, outDim], seed, `${p}.${name}.weight`)),
      b: param(`${p}.${name}.bias`, 'bias', [outDim]),
    });
    const ln = (name: string) => ({ w: param(`${p}.${name}.weight`, 'normWeight', [d]), b: param(`${p}.${name}.bias`, 'normBias', [d]) });
    const last = i === c.layers - 1;

    // BertSelfAttention + BertSelfOutput
    const ctx = selfAttention(s.sub('attention').sub('self'), h, extMask, {
      q: lin('attention.self.query', d, d), k: lin('attention.self.key', d, d), v: lin('attention.self.value', d, d),
    }, c.heads, hd, d);
    const ao = s.sub('attention').sub('output');
    const dense = lin('attention.output.dense', d, d);
    const aNorm = ln('attention.output.LayerNorm');
    const attnOut = layerNorm(ao.sub('LayerNorm'), ao.op('Add', [linear(ao.sub('dense'), ctx, dense.w, dense.b), h]),
      aNorm.w, aNorm.b, c.normEps);

    // BertIntermediate + BertOutput
    const inter = lin('intermediate.dense', d, c.ffn);
    const act = geluErf(s.sub('intermediate').sub('intermediate_act_fn'),
      linear(s.sub('intermediate').sub('dense'), attnOut, inter.w, inter.b));
    const o = s.sub('output');
    const out = lin('output.dense', c.ffn, d);
    const oNorm = ln('output.LayerNorm');
    h = layerNorm(o.sub('LayerNorm'), o.op('Add', [linear(o.sub('dense'), act, out.w, out.b), attnOut]),
      oNorm.w, oNorm.b, c.normEps, last ? 'last_hidden_state' : undefined);
  }
  const outputs: ValueSpec[] = [{ name: 'last_hidden_state', dtype: 'f32', dims: [spec.batch, spec.seq, d] }];
  for (const o of outputs) g.output(o.name, o.dtype, o.dims);
  return { built: g.build(), inputs, outputs };
}

interface Linear { w: string; b: string }

/** HF BertSelfAttention.forward: query first, then key and value through transpose_for_scores. */
function selfAttention(
  s: Scope, x: string, mask: string, w: { q: Linear; k: Linear; v: Linear }, heads: number, hd: number, d: number,
): string {
  const mixedQuery = linear(s.sub('query'), x, w.q.w, w.q.b);
  const k = splitHeads(s, linear(s.sub('key'), x, w.k.w, w.k.b), heads, hd);
  const v = splitHeads(s, linear(s.sub('value'), x, w.v.w, w.v.b), heads, hd);
  const q = splitHeads(s, mixedQuery, heads, hd);
  const scores = s.op('Add', [scaledScores(s, q, k, hd), mask]);
  const probs = s.op('Softmax', [scores], { axis: -1 });
  return mergeHeads(s, s.op('MatMul', [probs, v]), d);
}
