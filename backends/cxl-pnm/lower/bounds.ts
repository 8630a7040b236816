// Error bounds of the PNM kernels against the reference interpreter, derived
// from the arithmetic (DESIGN.md, "Verification tolerances"); the tests state
// them per op and so can `verify`. Notation:
//   u   = 2^-24  FP32 unit roundoff: every device + - * / (runtime-sim/pnm/exec-*.ts)
//   uf  = u + 1e-15  a function-unit result (exp, sigmoid, Phi, 1/sqrt): the FP32
//        rounding of a double evaluation good to 1e-15 relative
//   uh  = 2^-11  the final FP16 rounding on store; 2^-25 absolute below 2^-14
//   ud  = 2^-53  the reference's double arithmetic; it rounds its result to FP32 (u)
//   gamma(n, u) = n u / (1 - n u)  (Higham): n roundings in a product or a sum
// Both sides start from the same FP16 inputs (exact in FP32 and double), and
// the product of two FP16 values is exact in FP32 (22 significant bits).
// Each bound is |got - want| <= dev + ref + uh (|y| + dev) + 2^-25, with dev
// the device's error before the store and ref the reference's, both against
// the exact result y of the op on the rounded inputs (magnitudes such as
// |y| are evaluated in double by the caller, or bounded by |want| + ref).

export const U = 2 ** -24;
export const UF = U + 1e-15;
export const UH = 2 ** -11;
export const SUB16 = 2 ** -25;
export const UD = 2 ** -53;
export const gamma = (n: number, u: number): number => (n <= 0 ? 0 : (n * u) / (1 - n * u));

/** The final store: a device value within `dev` of y, rounded to FP16, against a reference within `ref` of y. */
export const stored = (absY: number, dev: number, ref: number): number => dev + ref + UH * (absY + dev) + SUB16;

/**
 * Element-wise activations, per element, with y = the exact result:
 * - gelu / silu: phi (or sigmoid) from the function unit (uf), one product (u):
 *   dev = ((1 + uf)(1 + u) - 1)|y|;  swiglu adds a second product: (1 + uf)(1 + u)^2 - 1.
 * - the reference evaluates in double and rounds to FP32: ref = u|y| + 1e-15|y| + 2^-50|x|
 *   (its erf / erfc series are good to 1e-15 relative, ir/ops/unary.ts; 1 + tanh
 *   loses at most an ulp of 1 in the tanh form, scaled by |x| / 2).
 * Add, Mul and the copy ops are bit-exact (tested so, no bound needed).
 */
export function activationBound(op: 'gelu' | 'silu' | 'swiglu', absY: number, absX: number): number {
  const dev = ((1 + UF) * (1 + U) ** (op === 'swiglu' ? 2 : 1) - 1) * absY;
  const ref = (U + 1e-15) * absY + 2 ** -50 * absX;
  return stored(absY, dev, ref);
}

/**
 * RoPE, per element: y = x c + r s with both products exact in FP32 and one
 * FP32 rounding of the sum on each side (the reference's double sum of two
 * FP32 products is within ud of exact): dev = u|y|, ref = (u + ud(1 + u))|y|.
 */
export const ropeBound = (absY: number): number => stored(absY, U * absY, (U + 2 * UD) * absY);

/**
 * Softmax of one row of n values, range R = max x - min x, per probability p:
 * d = fl(x - m) perturbs exp by e^{u|x - m|} <= e^{uR}; exp rounds (uf); the sum
 * of n terms gamma(n - 1); the division u. The ratio's relative error is at most
 *   rho = (1 + u)(1 + uf) e^{uR} / ((1 - uf)(1 - gamma(n - 1)) e^{-uR}) - 1.
 * The reference: double (gamma(n + 4, ud) relative), then FP32 (u).
 */
export function softmaxBound(p: number, n: number, range: number): number {
  const rho = ((1 + U) * (1 + UF) * Math.exp(U * range)) / ((1 - UF) * (1 - gamma(n - 1, U)) * Math.exp(-U * range)) - 1;
  return stored(p, rho * p, (U + gamma(n + 4, UD)) * p);
}

/** Magnitudes of one normalized row, evaluated in double by the caller. */
export interface NormRow {
  n: number;
  /** sum |x| / n (0 for RMS: no mean is subtracted). */
  m1: number;
  /** exact mean of squared deviations (RMS: of squares) and epsilon as the attribute gives it. */
  v: number;
  eps: number;
}

/**
 * LayerNorm / RMSNorm error of one element before the store, for arithmetic
 * with unit roundoff `u` and function unit `uf`, given |x_i - mean| = absD,
 * |scale_i| = g, the exact output y = D inv g (+ beta):
 *   e_mu  = gamma(n, u) m1                           mean: n - 1 adds and a divide
 *   eps_i = e_mu + u(absD + e_mu)                    d_i = fl(x_i - mean)
 *   dV    = sum_i eps_i (2|D_i| + eps_i) / n           (caller passes sumDV)
 *   eV    = dV + gamma(n + 1, u)(v + dV)              squares, n - 1 adds, divide
 *   eW    = eV + u eps + u(v + eps + eV + u eps)      + eps (the FP32 immediate: u eps)
 *   r_inv = (1 - eW / W)^{-1/2} (1 + uf) - 1          inv = fl(1 / sqrt(W))
 *   e1    = eps_i inv (1 + r_inv) + absD inv r_inv    d * inv
 *   e2    = e1 + u(absD inv + e1);  e3 = g e2 + u g (absD inv + e2);  e4 = e3 + u(|y| + e3) with a bias.
 */
export function normError(r: NormRow, absD: number, sumDV: number, g: number, absY: number, bias: boolean, u: number, uf: number): number {
  const eMu = gamma(r.n, u) * r.m1;
  const epsI = eMu + u * (absD + eMu);
  const eV = sumDV + gamma(r.n + 1, u) * (r.v + sumDV);
  const W = r.v + r.eps;
  const eW = eV + u * r.eps + u * (W + eV + u * r.eps);
  if (eW >= W) return Infinity; // no relative bound: the row is all (nearly) equal values and eps tiny
  const inv = 1 / Math.sqrt(W);
  const rInv = (1 + uf) / Math.sqrt(1 - eW / W) - 1;
  const a = absD * inv;
  const e1 = epsI * inv * (1 + rInv) + a * rInv;
  const e2 = e1 + u * (a + e1);
  const e3 = g * e2 + u * g * (a + e2);
  return bias ? e3 + u * (absY + e3) : e3;
}

/** The per-element deviation eps_i of a row (for sumDV = sum eps_i (2|D_i| + eps_i) / n). */
export const normDeviation = (r: NormRow, absD: number, u: number): number => {
  const eMu = gamma(r.n, u) * r.m1;
  return r.m1 === 0 ? 0 : eMu + u * (absD + eMu);
};

/**
 * Norm bound: the device (u, uf) and the reference (double, ud; it evaluates
 * the same formula in the same order, then rounds to FP32) each within
 * normError of y.
 */
export function normBound(r: NormRow, absD: number, sumDVdev: number, sumDVref: number, g: number, absY: number, bias: boolean): number {
  const dev = normError(r, absD, sumDVdev, g, absY, bias, U, UF);
  const refD = normError(r, absD, sumDVref, g, absY, bias, UD, 2 * UD);
  const ref = refD + U * (absY + refD);
  return stored(absY, dev, ref);
}

/**
 * GEMM / GEMV element y = sum_k a_k b_k (+ bias), E = sum_k |a_k b_k|: the
 * device adds exact FP32 products in order (gamma(K - 1) E), alpha = 1 is
 * exact, a bias add rounds once more. The reference sums in double
 * (gamma(K - 1, ud) E), rounds to FP32, and adds a bias in double (exact: FP32 +
 * FP16) and rounds again (pimc.Linear).
 */
export function gemmBound(absY: number, E: number, K: number, bias: boolean, absProduct: number): number {
  const acc = gamma(K - 1, U) * E;
  const dev = bias ? acc + U * (absY + acc) : acc;
  const refAcc = gamma(K - 1, UD) * E;
  const ref = refAcc + U * (absProduct + refAcc) + (bias ? U * (absY + refAcc + U * absProduct) : 0);
  return stored(absY, dev, ref);
}

/** What attentionBound needs about one (batch, query head): per key t, and the values' column maxima. */
export interface AttentionRow {
  /** scale * q . k_t, exact (double), and sum_d |q_d k_td| |scale|. */
  scores: Float64Array;
  absScores: Float64Array;
  d: number;
}

/**
 * Fused decode attention, per output element (one value column j, V_j =
 * max_t |v_tj|):
 * 1. Scores: device |s_d - s| <= gamma(d - 1) A_t + u(|s_t| + gamma(d - 1) A_t), with
 *    A_t = |scale| sum |q k_t|; reference FP32-rounds the dot, then the scaled
 *    score: (2u + u^2)|s_t| + gamma(d, ud) A_t. Delta = max_t of the sum.
 * 2. Softmax perturbation: scores moved by at most Delta change each
 *    probability by a factor in [e^{-2 Delta}, e^{2 Delta}], so the output by at
 *    most (e^{2 Delta} - 1) V_j.
 * 3. The online recurrence: each numerator and denominator term picks up at
 *    most T function-unit roundings (its exp and up to T - 1 rescales), 2T
 *    products and additions, and e^{2uR} from rounded exp arguments (R = score
 *    range + 2 Delta): factor U = (1 + uf)^T (1 + u)^{2T} e^{2uR}; with a = b = U - 1
 *    the ratio is within (a + b) / (1 - b) V_j, then the divide (u).
 * 4. The reference: double softmax (gamma(T + 4, ud)), probabilities rounded to
 *    FP32 (u), double P @ V (gamma(T, ud)), FP32 output (u).
 */
export function attentionBound(row: AttentionRow, vMax: number, absWant: number): number {
  const T = row.scores.length;
  let delta = 0, lo = Infinity, hi = -Infinity;
  for (let t = 0; t < T; t++) {
    const s = row.scores[t]!, A = row.absScores[t]!;
    const dev = gamma(row.d - 1, U) * A + U * (Math.abs(s) + gamma(row.d - 1, U) * A);
    const ref = (2 * U + U * U) * Math.abs(s) + gamma(row.d, UD) * A;
    delta = Math.max(delta, dev + ref);
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const R = hi - lo + 2 * delta;
  const perturb = (Math.exp(2 * delta) - 1) * vMax;
  const big = (1 + UF) ** T * (1 + U) ** (2 * T) * Math.exp(2 * U * R) - 1;
  const online = ((2 * big) / (1 - big)) * vMax;
  const dev = perturb + online + U * (vMax + online);
  const ref = (gamma(T + 4, UD) + U + gamma(T, UD) + U) * vMax;
  return stored(absWant + ref, dev, ref); // |y| <= |want| + ref
}

/**
 * Masked decode attention (the four-descriptor chain): scores as above plus
 * one FP32 rounding of score + mask (Delta grows by u max|s + mask|); the
 * softmax of the chain's FP32 scores (softmaxBound's rho for T keys); the
 * probabilities stored as FP16 (uh relative, 2^-25 absolute each, so up to
 * T 2^-25 V_j); then P @ V accumulated in FP32 (gamma(T - 1)).
 */
export function maskedAttentionBound(row: AttentionRow, maskedAbsMax: number, vMax: number, absWant: number): number {
  const T = row.scores.length;
  let delta = 0, lo = Infinity, hi = -Infinity;
  for (let t = 0; t < T; t++) {
    const s = row.scores[t]!, A = row.absScores[t]!;
    delta = Math.max(delta, gamma(row.d - 1, U) * A + U * (Math.abs(s) + gamma(row.d - 1, U) * A) + (2 * U + U * U) * Math.abs(s) + gamma(row.d, UD) * A);
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  delta += U * maskedAbsMax;
  const R = Math.min(hi - lo, 2 * maskedAbsMax) + 2 * delta;
  const rho = ((1 + U) * (1 + UF) * Math.exp(U * R)) / ((1 - UF) * (1 - gamma(T - 1, U)) * Math.exp(-U * R)) - 1;
  const probs = (rho + UH * (1 + rho)) * vMax + T * SUB16 * vMax;
  const pv = gamma(T - 1, U) * (1 + rho + UH * (1 + rho)) * vMax + T * SUB16 * vMax * gamma(T - 1, U);
  const dev = (Math.exp(2 * delta) - 1) * vMax + probs + pv;
  const ref = (gamma(T + 4, UD) + U + gamma(T, UD) + U) * vMax;
  return stored(absWant + ref, dev, ref); // |y| <= |want| + ref
}
