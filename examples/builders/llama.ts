// LLaMA (HF LlamaForCausalLM, eager attention) as torch.onnx.export writes it
// with dynamic axes; Mi:dm-7B has the same shape.
//
// Inputs: input_ids i64[batch, seq], position_ids i64[batch, seq]; decode adds
// past_key_i / past_value_i f32[batch, kv_heads, past, hd]. Outputs: logits,
// and present_key_i / present_value_i (decode; prefill when emitPresent).
// Opset 17: RMSNorm decomposed (Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul,
// Mul); q/k/v MatMul without bias; rotate-half RoPE from cos/sin tables
// gathered by position_ids; KV concat; repeat_kv (Unsqueeze, Expand, Reshape)
// for grouped-query attention; scores / sqrt(hd) + an additive causal mask
// built once from Range comparisons; Softmax; SwiGLU MLP with SiLU as
// Mul(x, Sigmoid(x)). Opset 23: RMSNormalization, RotaryEmbedding and
// Attention (is_causal, with the KV cache as its past/present) instead.

import { GraphBuilder, type Scope } from './onnx-writer.js';
import {
  addDims, F32_LOWEST, INT64_MAX, linear, range, rmsNorm, scaledScores, shapeVector, silu, sizeOf, unsqueeze,
  type FamilyGraph, type GraphSpec, type InputSpec, type ValueSpec,
} from './patterns.js';
import { headDim, type ModelConfig } from './presets.js';
import { computedF32, init } from './weights.js';

export function buildLlama(spec: GraphSpec): FamilyGraph {
  const { config: c, seed } = spec;
  const g = new GraphBuilder({ opset: spec.opset });
  const newOps = spec.opset >= 23;
  const decode = spec.phase === 'decode';
  const seq = decode ? 1 : spec.seq;
  const hd = headDim(c);
  const d = c.dModel;
  const kvLen = decode ? addDims(spec.past, 1) : seq;

  const inputs: InputSpec[] = [
    { name: 'input_ids', dtype: 'i64', dims: [spec.batch, seq], role: 'input_ids' },
    { name: 'position_ids', dtype: 'i64', dims: [spec.batch, seq], role: 'position_ids' },
  ];
  if (decode) {
    for (let i = 0; i < c.layers; i++) {
      for (const kind of ['key', 'value'] as const) {
        inputs.push({ name: `past_${kind}_${i}`, dtype: 'f32', dims: [spec.batch, c.kvHeads, spec.past, hd], role: `past_${kind}` });
      }
    }
  }
  for (const i of inputs) g.input(i.name, i.dtype, i.dims);

  const embed = g.initializer('model.embed_tokens.weight', init.weight([c.vocab, d], seed, 'model.embed_tokens.weight'));
  const rope = ropeTables(g, c, newOps);

  const m = g.scope('/model');
  let h = m.sub('embed_tokens').op('Gather', [embed, 'input_ids']);
  const mask = newOps ? '' : causalMask(m, decode);

  const presents = decode || spec.emitPresent;
  const outputs: ValueSpec[] = [{ name: 'logits', dtype: 'f32', dims: [spec.batch, seq, c.vocab] }];
  for (let i = 0; i < c.layers; i++) {
    const p = `model.layers.${i}`;
    const s = m.sub(`layers.${i}`);
    const normW = (name: string) => g.initializer(`${p}.${name}.weight`, init.normWeight([d], seed, `${p}.${name}.weight`));
    const lin = (name: string, inDim: number, outDim: number) =>
      g.matmulWeight(init.weight([inDim, outDim], seed, `${p}.${name}.weight`));

    const x = rmsNorm(s.sub('input_layernorm'), h, normW('input_layernorm'), c.normEps, newOps);
    const w = {
      q: lin('self_attn.q_proj', d, c.heads * hd),
      k: lin('self_attn.k_proj', d, c.kvHeads * hd),
      v: lin('self_attn.v_proj', d, c.kvHeads * hd),
      o: lin('self_attn.o_proj', c.heads * hd, d),
    };
    const attn = selfAttention(s.sub('self_attn'), x, i, { c, w, rope, mask, decode, presents, newOps });
    h = s.op('Add', [h, attn]);

    const y = rmsNorm(s.sub('post_attention_layernorm'), h, normW('post_attention_layernorm'), c.normEps, newOps);
    const mlp = s.sub('mlp');
    // down_proj(act_fn(gate_proj(x)) * up_proj(x))
    const gate = silu(mlp.sub('act_fn'), linear(mlp.sub('gate_proj'), y, lin('mlp.gate_proj', d, c.ffn)));
    const up = linear(mlp.sub('up_proj'), y, lin('mlp.up_proj', d, c.ffn));
    const down = linear(mlp.sub('down_proj'), mlp.op('Mul', [gate, up]), lin('mlp.down_proj', c.ffn, d));
    h = s.op('Add', [h, down]);
    if (presents) {
      for (const kind of ['key', 'value']) {
        outputs.push({ name: `present_${kind}_${i}`, dtype: 'f32', dims: [spec.batch, c.kvHeads, kvLen, hd] });
      }
    }
  }
  const normW = g.initializer('model.norm.weight', init.normWeight([d], seed, 'model.norm.weight'));
  const hn = rmsNorm(m.sub('norm'), h, normW, c.normEps, newOps);
  const lmHead = g.matmulWeight(init.weight([d, c.vocab], seed, 'lm_head.weight'));
  g.scope('/lm_head').op('MatMul', [hn, lmHead], {}, 'logits');

  for (const o of outputs) g.output(o.name, o.dtype, o.dims);
  return { built: g.build(), inputs, outputs };
}

interface RopeTables { cos: string; sin: string }

/**
 * HF LlamaRotaryEmbedding tables, in float32 like torch computes them:
 * inv_freq = 1 / theta^(arange(0, hd, 2) / hd); freqs = outer(t, inv_freq).
 * Opset 17: cos/sin of cat(freqs, freqs), [maxpos, hd], the cos_cached /
 * sin_cached buffers. Opset 23: RotaryEmbedding's caches, [maxpos, hd / 2].
 */
function ropeTables(g: GraphBuilder, c: ModelConfig, half: boolean): RopeTables {
  const hd = headDim(c);
  const f = Math.fround;
  const invFreq = Array.from({ length: hd / 2 }, (_, i) => f(1 / f(c.ropeTheta ** f((2 * i) / hd))));
  const width = half ? hd / 2 : hd;
  const angle = (k: number) => f(Math.floor(k / width) * invFreq[(k % width) % (hd / 2)]!);
  const dims = [c.maxPositions, width];
  const prefix = half ? 'model.rotary_emb' : 'model.layers.0.self_attn.rotary_emb';
  const suffix = half ? 'cache' : 'cached';
  return {
    cos: g.initializer(`${prefix}.cos_${suffix}`, computedF32(dims, (k) => Math.cos(angle(k))), false),
    sin: g.initializer(`${prefix}.sin_${suffix}`, computedF32(dims, (k) => Math.sin(angle(k))), false),
  };
}

/**
 * The additive causal mask, built once in LlamaModel from the cache position:
 * `cache_position = arange(past, past + seq)`;
 * `mask = where(arange(kv_len) > cache_position.reshape(-1, 1), finfo.min, 0)[None, None]`.
 */
function causalMask(m: Scope, decode: boolean): string {
  const seqLen = sizeOf(m, m.op('Shape', ['input_ids']), 1);
  const pastLen = decode ? sizeOf(m, m.op('Shape', ['past_key_0']), 2) : m.i64(0);
  const kvLen = decode ? m.op('Add', [pastLen, seqLen]) : seqLen;
  const cachePosition = range(m, pastLen, kvLen);
  const keyPosition = range(m, m.i64(0), kvLen);
  const future = m.op('Greater', [keyPosition, unsqueeze(m, cachePosition, [1])]);
  const mask = m.op('Where', [future, m.f32(F32_LOWEST), m.f32(0)]);
  return unsqueeze(m, mask, [0, 1]);
}

interface AttnContext {
  c: ModelConfig;
  w: { q: string; k: string; v: string; o: string };
  rope: RopeTables;
  mask: string;
  decode: boolean;
  presents: boolean;
  newOps: boolean;
}

/** HF LlamaAttention.forward. */
function selfAttention(s: Scope, x: string, layer: number, a: AttnContext): string {
  const { c } = a;
  const hd = headDim(c);
  const presentK = `present_key_${layer}`;
  const presentV = `present_value_${layer}`;
  const prefillPresent = a.presents && !a.decode;
  // bsz, q_len, _ = hidden_states.size()
  const shape = s.op('Shape', [x]);
  const bsz = sizeOf(s, shape, 0);
  const qLen = sizeOf(s, shape, 1);
  const q0 = linear(s.sub('q_proj'), x, a.w.q);
  const k0 = linear(s.sub('k_proj'), x, a.w.k);
  const v0 = linear(s.sub('v_proj'), x, a.w.v);
  // x.view(bsz, q_len, heads, hd).transpose(1, 2)
  const heads = (t: string, n: number, out?: string) =>
    s.op('Transpose', [s.op('Reshape', [t, shapeVector(s, [bsz, qLen, n, hd])], { allowzero: 0 })], { perm: [0, 2, 1, 3] }, out);
  const q = heads(q0, c.heads);
  const k = heads(k0, c.kvHeads);
  let v = heads(v0, c.kvHeads, prefillPresent && !a.newOps ? presentV : undefined);

  let out: string;
  if (a.newOps) {
    const rot = (t: string) => s.op('RotaryEmbedding', [t, a.rope.cos, a.rope.sin, 'position_ids'], { interleaved: 0 });
    const past = a.decode ? [`past_key_${layer}`, `past_value_${layer}`] : [];
    const outs = a.presents ? [null, presentK, presentV] : 1;
    const qkv = [rot(q), rot(k), v];
    out = s.ops('Attention', past.length > 0 ? [...qkv, '', ...past] : qkv, outs, {
      is_causal: 1, q_num_heads: c.heads, kv_num_heads: c.kvHeads,
    })[0]!;
  } else {
    // cos = cos[position_ids].unsqueeze(1); q_embed = (q * cos) + (rotate_half(q) * sin)
    const cos = unsqueeze(s, s.op('Gather', [a.rope.cos, 'position_ids'], { axis: 0 }), [1]);
    const sin = unsqueeze(s, s.op('Gather', [a.rope.sin, 'position_ids'], { axis: 0 }), [1]);
    const qr = applyRope(s, q, cos, sin, hd);
    let kr = applyRope(s, k, cos, sin, hd, prefillPresent ? presentK : undefined);
    if (a.decode) {
      kr = s.op('Concat', [`past_key_${layer}`, kr], { axis: 2 }, presentK);
      v = s.op('Concat', [`past_value_${layer}`, v], { axis: 2 }, presentV);
    }
    const kAll = repeatKv(s, kr, c);
    const vAll = repeatKv(s, v, c);
    const scores = s.op('Add', [scaledScores(s, qr, kAll, hd), a.mask]);
    const probs = s.op('Softmax', [scores], { axis: -1 });
    out = s.op('MatMul', [probs, vAll]);
  }
  // attn_output.transpose(1, 2).contiguous().reshape(bsz, q_len, hidden_size)
  const t = s.op('Transpose', [out], { perm: [0, 2, 1, 3] });
  const merged = s.op('Reshape', [t, shapeVector(s, [bsz, qLen, c.dModel])], { allowzero: 0 });
  return linear(s.sub('o_proj'), merged, a.w.o);
}

/** (x * cos) + (rotate_half(x) * sin), rotate_half(x) = cat((-x[..., hd/2:], x[..., :hd/2]), dim=-1). */
function applyRope(s: Scope, x: string, cos: string, sin: string, hd: number, out?: string): string {
  const xc = s.op('Mul', [x, cos]);
  const x1 = s.op('Slice', [x, s.i64([0]), s.i64([hd / 2]), s.i64([3]), s.i64([1])]);
  const x2 = s.op('Slice', [x, s.i64([hd / 2]), s.i64([INT64_MAX]), s.i64([3]), s.i64([1])]);
  const rotated = s.op('Concat', [s.op('Neg', [x2]), x1], { axis: -1 });
  return s.op('Add', [xc, s.op('Mul', [rotated, sin])], {}, out);
}

/**
 * HF repeat_kv: `x[:, :, None, :, :].expand(b, kv_heads, n_rep, slen, hd).reshape(b, kv_heads * n_rep, slen, hd)`;
 * the identity when n_rep is 1.
 */
function repeatKv(s: Scope, x: string, c: ModelConfig): string {
  const nRep = c.heads / c.kvHeads;
  if (nRep === 1) return x;
  const hd = headDim(c);
  const shape = s.op('Shape', [x]);
  const b = sizeOf(s, shape, 0);
  const slen = sizeOf(s, shape, 2);
  const expanded = s.op('Expand', [unsqueeze(s, x, [2]), shapeVector(s, [b, c.kvHeads, nRep, slen, hd])]);
  return s.op('Reshape', [expanded, shapeVector(s, [b, c.heads, slen, hd])], { allowzero: 0 });
}
