// Element type conversion: Cast (target from the `to` attribute) and CastLike
// (target from a second tensor's type).
//
// Conversions follow numpy's astype, which the ONNX reference uses:
// - float -> integer truncates toward zero; out-of-range values wrap like a
//   typed-array store (ONNX leaves them undefined, so no saturation);
// - anything -> bool is "not zero" (NaN is true);
// - -> f16 / bf16 rounds the exact value once, to nearest even (see roundToFloat);
// - int64 <-> uint64 reinterpret the two's-complement bits, as C does.

import { dtypeFromOnnx, onnxTypeName, type DType } from '../dtype.js';
import { registerOp, type Attrs } from '../registry.js';
import { Tensor } from '../tensor.js';
import { inputType, movementCost, need, op, type Unary } from './support.js';

const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

/**
 * Rounds a double to the nearest binary float with `mant` fraction bits and
 * exponents down to `emin` (subnormals below), ties to even. The exponent is
 * not capped: callers turn results past their format's largest finite value
 * into infinity. Rounding the double directly
 * avoids the double rounding of going through float32 first (f64 -> f32 ->
 * f16 can land on a tie that the exact value does not have).
 */
export function roundToFloat(x: number, mant: number, emin: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  // log2 may be one off right next to a power of two
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const quantum = 2 ** (Math.max(e, emin) - mant);
  const y = a / quantum; // exact: scaling by a power of two
  let n = Math.floor(y);
  const rest = y - n;
  if (rest > 0.5 || (rest === 0.5 && n % 2 === 1)) n++;
  const v = n * quantum;
  return x < 0 ? -v : v;
}

const F16_MAX = 65504;
const BF16_MAX = (2 - 2 ** -7) * 2 ** 127;

function toF16(v: number): number {
  const r = roundToFloat(v, 10, -14);
  return Math.abs(r) > F16_MAX ? (r > 0 ? Infinity : -Infinity) : r;
}

function toBf16(v: number): number {
  const r = roundToFloat(v, 7, -126);
  return Math.abs(r) > BF16_MAX ? (r > 0 ? Infinity : -Infinity) : r;
}

/** The element conversion into dtype `to` (storing into `to`'s typed array does the rest). */
function converter(to: DType): Unary {
  switch (to) {
    case 'f16': return toF16;
    case 'bf16': return toBf16;
    case 'bool': return (v) => (v !== 0 ? 1 : 0);
    // 64-bit integers live in Float64Array, which would keep fractions and
    // negative "unsigned" values: truncate and wrap here.
    case 'i64': return (v) => {
      const t = Number.isFinite(v) ? Math.trunc(v) : 0;
      return t >= TWO_63 && t < TWO_64 ? t - TWO_64 : t;
    };
    case 'u64': return (v) => {
      const t = Number.isFinite(v) ? Math.trunc(v) : 0;
      return t < 0 && t >= -TWO_63 ? t + TWO_64 : t;
    };
    // f32/f64 round on store; the narrower integer arrays truncate and wrap on store.
    default: return (v) => v;
  }
}

/** x converted to dtype `to` (x itself when it already is). */
export function castTensor(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  const out = new Tensor(to, x.shape);
  const od = out.data, xd = x.data;
  const f = converter(to);
  for (let i = 0; i < od.length; i++) od[i] = f(xd[i]!);
  return out;
}

function castTarget(attrs: Attrs): DType {
  const code = attrs.int('to');
  const d = dtypeFromOnnx(code);
  if (!d) return attrs.error(`cannot cast to ${onnxTypeName(code)}, an element type pimc does not support`, 'PIMC0205');
  return d;
}

// `saturate` (opset 19) and `round_mode` (opset 21) only concern float8
// targets, which pimc does not have; they are accepted and have no effect.
const FLOAT8_ATTRS = {
  saturate: { kind: 'int', default: 1 },
  round_mode: { kind: 'string', default: 'up' },
} as const;

registerOp(op({
  type: 'Cast',
  summary: 'converts elements to the type given by `to` (an ONNX TensorProto data type code)',
  opsets: [6, 23],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: { to: { kind: 'int', required: true }, ...FLOAT8_ATTRS },
  infer: (ctx) => [{ dtype: castTarget(ctx.attrs), shape: inputType(ctx, 0).shape }],
  // Exporters cast shape vectors (int64 <-> int32); the values stay the same dims.
  symbolic: (ctx) => [ctx.symbolicInput(0)],
  run: (ctx, inputs) => [castTensor(need(ctx, inputs, 0), castTarget(ctx.attrs))],
  cost: movementCost,
  example: '%y : f16[2, 3] = Cast(%x) {to = 10}',
}));

registerOp(op({
  type: 'CastLike',
  summary: 'converts elements to the element type of the second input',
  opsets: [15, 23],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: { ...FLOAT8_ATTRS },
  infer: (ctx) => [{ dtype: inputType(ctx, 1).dtype, shape: inputType(ctx, 0).shape }],
  symbolic: (ctx) => [ctx.symbolicInput(0)],
  run: (ctx, inputs) => [castTensor(need(ctx, inputs, 0), need(ctx, inputs, 1).dtype)],
  // The second input's values are never read.
  cost: (ctx) => movementCost({ ...ctx, inputs: ctx.inputs.slice(0, 1) }),
  example: '%y : f16[2, 3] = CastLike(%x, %like)',
}));
