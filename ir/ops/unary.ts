// Elementwise math on one tensor: Sqrt, Reciprocal, Neg, Exp, Log, Erf, Tanh,
// Sigmoid, Relu, Cos, Sin, Gelu. Each computes in doubles and rounds once on
// store (to f32, or to f16/bf16 through the storage rules).

import { dimSub } from '../dimexpr.js';
import type { DType } from '../dtype.js';
import { registerOp, type Attrs, type AttrSpec, type InferContext } from '../registry.js';
import type { Dim, TensorType } from '../types.js';
import { elementwiseCost, inputType, need, op, unaryKernel, type Unary } from './support.js';

const FLOATS: readonly DType[] = ['f32', 'f16', 'bf16', 'f64'];
const SIGNED: readonly DType[] = [...FLOATS, 'i8', 'i16', 'i32', 'i64'];
const NUMERIC: readonly DType[] = [...SIGNED, 'u8', 'u16', 'u32', 'u64'];

// ---- erf -----------------------------------------------------------------

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ONE_OVER_SQRT_PI = 1 / Math.sqrt(Math.PI);

/** erfc(a) for a >= 2.5, by its continued fraction (see erf). */
function erfcTail(a: number): number {
  let k = 0;
  for (let n = 60; n >= 1; n--) k = n / 2 / (a + k);
  return (Math.exp(-a * a) * ONE_OVER_SQRT_PI) / (a + k);
}

/**
 * erf(x) to about 1e-15 relative in doubles (float32 needs 6e-8).
 * - |x| < 2.5: erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n (2x^2)^n x / (1*3*...*(2n+1)).
 *   Every term is positive, so there is no cancellation (the plain Maclaurin
 *   series alternates and loses digits as |x| grows).
 * - 2.5 <= |x| < 6: 1 - erfc(x), erfc from its continued fraction
 *   exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated
 *   bottom-up; 60 levels converge to double precision for x >= 2.5.
 * - |x| >= 6: erfc(6) ~ 2e-17 is below half an ulp of 1, so erf is +-1.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(a)) return NaN;
  if (a < 2.5) {
    const twoX2 = 2 * x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= twoX2 / (2 * n + 1);
      sum += term;
      if (Math.abs(term) <= Math.abs(sum) * 1e-17) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
  }
  if (a >= 6) return Math.sign(x);
  const r = 1 - erfcTail(a);
  return x < 0 ? -r : r;
}

/**
 * 1 - erf(x) without the cancellation of computing it that way for large x
 * (GELU's negative tail is x * erfc(|x|/sqrt 2) / 2, a tiny number).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x < 2.5 ? 1 - erf(x) : erfcTail(x);
}

// ---- gelu ----------------------------------------------------------------

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), written with erfc to stay accurate for x << 0. */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x * SQRT_HALF);
}

/** The tanh approximation (approximate = "tanh"), as in GPT-2's "gelu_new". */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

// ---- the ops ---------------------------------------------------------------

interface UnaryDef {
  type: string;
  summary: string;
  opsets: [number, number];
  /** Element types ONNX allows for the op (its type constraint T). */
  dtypes: readonly DType[];
  /** FLOPs per element: 1 for a compare or negate; transcendental ones count their polynomial. */
  flops: number;
  /** Integer inputs go through it too; the result is truncated (and wrapped) on store. */
  f: Unary;
  attrs?: Record<string, AttrSpec>;
  /** Picks the function from the attributes (Gelu's approximate); also checks them at inference. */
  pick?: (attrs: Attrs) => Unary;
  symbolic?: (ctx: InferContext) => (Dim[] | undefined)[];
  example?: string;
}

function checkDtype(ctx: InferContext, type: string, allowed: readonly DType[]): TensorType {
  const x = inputType(ctx, 0);
  if (!allowed.includes(x.dtype)) ctx.error(`${type} does not take ${x.dtype} (allowed: ${allowed.join(', ')})`);
  return x;
}

function unary(d: UnaryDef): void {
  registerOp(op({
    type: d.type,
    summary: d.summary,
    opsets: d.opsets,
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: d.attrs ?? {},
    infer: (ctx) => {
      d.pick?.(ctx.attrs);
      return [checkDtype(ctx, d.type, d.dtypes)];
    },
    ...(d.symbolic ? { symbolic: d.symbolic } : {}),
    run: (ctx, inputs) => {
      const x = need(ctx, inputs, 0);
      return [unaryKernel(x, x.dtype, d.pick ? d.pick(ctx.attrs) : d.f)];
    },
    cost: elementwiseCost(d.flops),
    example: d.example ?? `%y : f32[2, 3] = ${d.type}(%x)`,
  }));
}

unary({ type: 'Sqrt', summary: 'square root (NaN below zero)', opsets: [6, 23], dtypes: FLOATS, flops: 4, f: Math.sqrt });
unary({ type: 'Reciprocal', summary: '1 / x elementwise', opsets: [6, 23], dtypes: FLOATS, flops: 4, f: (x) => 1 / x });
unary({
  type: 'Neg',
  summary: '-x (signed integers wrap like the hardware: -(-128) is -128 in int8)',
  opsets: [6, 23],
  dtypes: SIGNED,
  flops: 1,
  f: (x) => -x,
  // Exporters negate shape elements (e.g. a Slice end counted from the back).
  symbolic: (ctx) => [ctx.symbolicInput(0)?.map((v) => dimSub(0, v))],
});
unary({ type: 'Exp', summary: 'e ** x', opsets: [6, 23], dtypes: FLOATS, flops: 8, f: Math.exp });
unary({ type: 'Log', summary: 'natural logarithm (-inf at 0, NaN below)', opsets: [6, 23], dtypes: FLOATS, flops: 8, f: Math.log });
unary({ type: 'Erf', summary: 'the error function', opsets: [9, 23], dtypes: NUMERIC, flops: 16, f: erf });
unary({ type: 'Tanh', summary: 'hyperbolic tangent', opsets: [6, 23], dtypes: FLOATS, flops: 10, f: Math.tanh });
unary({
  type: 'Sigmoid',
  summary: '1 / (1 + exp(-x))',
  opsets: [6, 23],
  dtypes: FLOATS,
  flops: 10,
  // exp(-x) overflows to Infinity for very negative x, and 1/Infinity is the right 0.
  f: (x) => 1 / (1 + Math.exp(-x)),
});
unary({ type: 'Relu', summary: 'max(x, 0)', opsets: [6, 23], dtypes: SIGNED, flops: 1, f: (x) => (x < 0 ? 0 : x) });
unary({ type: 'Cos', summary: 'cosine (radians)', opsets: [7, 23], dtypes: FLOATS, flops: 8, f: Math.cos });
unary({ type: 'Sin', summary: 'sine (radians)', opsets: [7, 23], dtypes: FLOATS, flops: 8, f: Math.sin });
unary({
  type: 'Gelu',
  summary: 'x * Phi(x), exact (erf) or with the tanh approximation',
  opsets: [20, 23],
  dtypes: FLOATS,
  flops: 20,
  f: gelu,
  attrs: { approximate: { kind: 'string', default: 'none' } },
  pick: (attrs) => {
    const mode = attrs.string('approximate', 'none');
    if (mode === 'none') return gelu;
    if (mode === 'tanh') return geluTanh;
    return attrs.error(`approximate must be "none" or "tanh", got ${JSON.stringify(mode)}`);
  },
  example: '%y : f32[2, 3] = Gelu(%x) {approximate = "tanh"}',
});
