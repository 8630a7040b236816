// Graph pieces shared by the families, each spelled the way torch.onnx.export
// writes the PyTorch code quoted beside it (operand order included: the
// exporter keeps Python's order, so `0.5 * x` is Mul(Constant, x)).

import type { DType } from '../../ir/dtype.js';
import type { BuiltModel, Dim, Scope } from './onnx-writer.js';
import type { ModelConfig } from './presets.js';

export type Phase = 'prefill' | 'decode';

/** What a family builder needs besides the model shape. */
export interface GraphSpec {
  config: ModelConfig;
  phase: Phase;
  batch: Dim;
  /** Prefill sequence length (decode always uses 1). */
  seq: Dim;
  /** Decode KV-cache length. */
  past: Dim;
  seed: number;
  opset: number;
  /** Prefill also outputs present_key_i / present_value_i. */
  emitPresent: boolean;
  /** BERT takes token_type_ids as an input. */
  tokenTypeIds: boolean;
}

export type InputRole = 'input_ids' | 'position_ids' | 'attention_mask' | 'token_type_ids' | 'past_key' | 'past_value';

export interface ValueSpec {
  name: string;
  dtype: DType;
  dims: Dim[];
}

export interface InputSpec extends ValueSpec {
  role: InputRole;
}

export interface FamilyGraph {
  built: BuiltModel;
  inputs: InputSpec[];
  outputs: ValueSpec[];
}

/** float32's lowest value, torch.finfo(torch.float32).min, HF's mask fill value. */
export const F32_LOWEST = -3.4028234663852886e38;
/** Slice's "to the end" (saturated to INT64_MAX when written). */
export const INT64_MAX = 2 ** 63;

/** a + b for dims: a number when both are, else a dim_param expression. */
export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return `${a} + ${b}`;
}

/** Unsqueeze(x, axes): axes is an input from opset 13, an attribute before. */
export function unsqueeze(s: Scope, x: string, axes: number[]): string {
  return s.g.opset >= 13 ? s.op('Unsqueeze', [x, s.i64(axes)]) : s.op('Unsqueeze', [x], { axes });
}

/** `t.size(i)`: Gather(Shape(t), i), a 0-d int64. */
export function sizeOf(s: Scope, shape: string, index: number): string {
  return s.op('Gather', [shape, s.i64(index)], { axis: 0 });
}

/**
 * A shape vector for view/reshape/expand: ints are Constants, dynamic sizes
 * (0-d int64 values) are unsqueezed, all Concat'ed on axis 0.
 */
export function shapeVector(s: Scope, parts: readonly (string | number)[]): string {
  const pieces = parts.map((p) => (typeof p === 'number' ? s.i64([p]) : unsqueeze(s, p, [0])));
  return s.op('Concat', pieces, { axis: 0 });
}

/** `F.linear(x, W, b)`: MatMul with the pre-transposed weight, then Add(bias, .). */
export function linear(s: Scope, x: string, weight: string, bias?: string): string {
  const mm = s.op('MatMul', [x, weight]);
  return bias === undefined ? mm : s.op('Add', [bias, mm]);
}

/** `nn.LayerNorm`: the opset-17 LayerNormalization op. */
export function layerNorm(s: Scope, x: string, weight: string, bias: string, eps: number, out?: string): string {
  return s.op('LayerNormalization', [x, weight, bias], { axis: -1, epsilon: eps }, out);
}

/** `ReduceMean(x, dim=axes, keepdim=True)`: axes an attribute up to opset 17, an input from 18. */
export function reduceMean(s: Scope, x: string, axes: number[]): string {
  return s.g.opset >= 18
    ? s.op('ReduceMean', [x, s.i64(axes)], { keepdims: 1 })
    : s.op('ReduceMean', [x], { axes, keepdims: 1 });
}

/**
 * HF NewGELUActivation (GPT-2):
 * `0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))`
 */
export function geluTanh(s: Scope, x: string): string {
  const half = s.op('Mul', [s.f32(0.5), x]);
  const cube = s.op('Pow', [x, s.f32(3.0)]);
  const inner = s.op('Add', [x, s.op('Mul', [s.f32(0.044715), cube])]);
  const t = s.op('Tanh', [s.op('Mul', [s.f32(Math.sqrt(2 / Math.PI)), inner])]);
  return s.op('Mul', [half, s.op('Add', [s.f32(1.0), t])]);
}

/** torch's erf GELU (F.gelu, approximate='none') at opset < 20: Div, Erf, Add, Mul, Mul. */
export function geluErf(s: Scope, x: string): string {
  const erf = s.op('Erf', [s.op('Div', [x, s.f32(Math.SQRT2)])]);
  const plus1 = s.op('Add', [erf, s.f32(1.0)]);
  return s.op('Mul', [s.op('Mul', [x, plus1]), s.f32(0.5)]);
}

/** torch's SiLU at opset < 20: Mul(x, Sigmoid(x)). */
export function silu(s: Scope, x: string): string {
  return s.op('Mul', [x, s.op('Sigmoid', [x])]);
}

/**
 * HF LlamaRMSNorm:
 * `variance = x.pow(2).mean(-1, keepdim=True); x = x * torch.rsqrt(variance + eps); return weight * x`
 * (rsqrt exports as Reciprocal(Sqrt)). From opset 23, the RMSNormalization op.
 */
export function rmsNorm(s: Scope, x: string, weight: string, eps: number, useOp: boolean): string {
  if (useOp) return s.op('RMSNormalization', [x, weight], { axis: -1, epsilon: eps });
  const variance = reduceMean(s, s.op('Pow', [x, s.f32(2.0)]), [-1]);
  const r = s.op('Reciprocal', [s.op('Sqrt', [s.op('Add', [variance, s.f32(eps)])])]);
  return s.op('Mul', [weight, s.op('Mul', [x, r])]);
}

/**
 * `x.view(x.size()[:-1] + (heads, hd)).permute(0, 2, 1, 3)` (GPT-2 _split_heads,
 * BERT transpose_for_scores): [b, s, heads*hd] -> [b, heads, s, hd].
 */
export function splitHeads(s: Scope, x: string, heads: number, hd: number, out?: string): string {
  const shape = s.op('Shape', [x]);
  const b = sizeOf(s, shape, 0);
  const n = sizeOf(s, shape, 1);
  const r = s.op('Reshape', [x, shapeVector(s, [b, n, heads, hd])], { allowzero: 0 });
  return s.op('Transpose', [r], { perm: [0, 2, 1, 3] }, out);
}

/**
 * `x.permute(0, 2, 1, 3).contiguous().view(x.size()[:-2] + (d,))` (GPT-2
 * _merge_heads, BERT context layer): [b, heads, s, hd] -> [b, s, d].
 */
export function mergeHeads(s: Scope, x: string, d: number): string {
  const t = s.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  const shape = s.op('Shape', [t]);
  const b = sizeOf(s, shape, 0);
  const n = sizeOf(s, shape, 1);
  return s.op('Reshape', [t, shapeVector(s, [b, n, d])], { allowzero: 0 });
}

/** `torch.matmul(q, k.transpose(-1, -2)) / sqrt(hd)`. */
export function scaledScores(s: Scope, q: string, k: string, hd: number): string {
  const kt = s.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  return s.op('Div', [s.op('MatMul', [q, kt]), s.f32(Math.sqrt(hd))]);
}

/** `torch.arange(start, end)` for positions: Range(start, end, 1) on int64 scalars. */
export function range(s: Scope, start: string, end: string): string {
  return s.op('Range', [start, end, s.i64(1)]);
}
