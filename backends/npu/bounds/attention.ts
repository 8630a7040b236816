// pimc.Attention (the fused flash-attention kernel,
// backends/npu/lower/matmul/attention.ts).
//
// Error bound, per output y[b, h, i, c], from the arithmetic (u = 2^-24,
// gamma_n(u) = n u / (1 - n u)); inputs are the same f16 values on both sides:
// 1. Scores. Exact s_t = scale q.k_t (+ mask). NPU: fp32 dot (gamma_d(u)
//    sum_j |q_j k_tj|), fp32 scale (2u |s|, scale an fp32 immediate), fp32
//    mask add (u |s|); reference: float64 dot, f32 roundings (2u |s|, u |s|
//    for the add). Masked entries are exact (-inf, or a fill that fp32
//    holds). Delta = max_t of the sum: a perturbation of every score by at
//    most Delta moves each softmax weight by a factor within e^(+-2 Delta).
// 2. Weights. P_t = exp(fl(s_t - m)) stored as f16: relative 2^-11 (f16),
//    u (exp), e^(u R) - 1 (the fp32 argument, R >= |s - m|); each rescale
//    factor a = exp(m_old - m_new) adds u and e^(u R) - 1, at most once per
//    key tile (n_T tiles). The same fp32 a multiplies O and l, so only its
//    error relative to the exact exponential matters: eps = product of those
//    (1 + e) factors, minus 1. An f16 weight below 2^-14 has an absolute
//    error 2^-25 instead; over n_v visible keys that moves y by at most
//    2^-25 (sum_t |v_t| + n_v A) / (l - n_v 2^-25), l >= 1 - eps (the row
//    maximum's weight is exp(0)).
// 3. So the NPU's normalised weights are p_t (1 + rho_t), |rho_t| <= eta =
//    e^(2 Delta) (1 + eps) / (1 - eps) - 1, and y moves by <= eta A with
//    A = sum_t p_t |v_tc|. The fp32 sums (P @ V with the O a rescales, the
//    row sums with l a) add gamma_n(u) (1 + eta) A each for O and l, n =
//    skv + 2 n_T; the division u |y|; the reference's f32 probabilities u A
//    and f32 output u |y|; the f16 store 2^-11 |y| + 2^-25.
//
// n_T = ceil(skv / KEYS_MAX), the lowering's key tiles. The scores, the
// visible keys and the row statistics are recomputed per query row from the
// stored q, k, v and mask (float64), with the scale as the fp32 immediate the
// kernel uses. Dims as ir/ops/pimc/attention.ts: q [b, hq, sq, d], k [kb,
// hkv, skv, d], v [kb, hkv, skv, dv] (rank 3 drops b), kb = b or 1, the mask
// broadcast to [b, hq, sq, skv].

import { KEYS_MAX } from '../lower/matmul/attention.js';
import { U, f32Reference, gamma, need } from './common.js';
import { registerBound, type BoundContext } from './registry.js';

/** The bound of the header for every output element, from the stored inputs. */
function bounds(c: BoundContext): Float64Array {
  f32Reference(c);
  const q = need(c, 0), k = need(c, 1), v = need(c, 2);
  const mask = c.inputs[3] ?? null;
  const want = c.want[0]!;
  const r = q.rank;
  const B = r === 4 ? q.shape[0]! : 1, kb = r === 4 ? k.shape[0]! : 1;
  const [Hq, Sq, D] = q.shape.slice(r - 3) as [number, number, number];
  const [Hkv, Skv] = k.shape.slice(r - 3, r - 1) as [number, number];
  const Dv = v.shape[r - 1]!;
  const scale = Math.fround(c.attrs.float('scale'));
  const mode = c.attrs.string('mask_mode', 'none');
  const fill = c.attrs.float('mask_fill', -Infinity);
  const causal = c.attrs.int('causal', 0) !== 0;
  const group = Hq / Hkv;
  const nT = Math.ceil(Skv / KEYS_MAX);
  const gD = gamma(D, U) + gamma(D, 2 ** -53);
  // Mask strides over [B, Hq, Sq, Skv] (broadcast dims 0).
  const m4 = mask ? [...new Array<number>(4 - mask.rank).fill(1), ...mask.shape] : [1, 1, 1, 1];
  const mst = [m4[1]! * m4[2]! * m4[3]!, m4[2]! * m4[3]!, m4[3]!, 1].map((s, i) => (m4[i] === 1 ? 0 : s));
  const out = new Float64Array(want.size);
  const s = new Float64Array(Skv), err = new Float64Array(Skv), vis = new Uint8Array(Skv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvBase = ((kb === 1 ? 0 : b) * Hkv + Math.floor(h / group)) * Skv;
      for (let i = 0; i < Sq; i++) {
        const qo = ((b * Hq + h) * Sq + i) * D;
        let delta = 0, smax = -Infinity, sabs = 0;
        for (let t = 0; t < Skv; t++) {
          let dot = 0, adot = 0;
          for (let j = 0; j < D; j++) {
            const p = q.data[qo + j]! * k.data[(kvBase + t) * D + j]!;
            dot += p;
            adot += Math.abs(p);
          }
          let st = dot * scale;
          let e = Math.abs(scale) * gD * adot * (1 + 2 * U) + 4.01 * U * Math.abs(st);
          vis[t] = 1;
          if (mask) {
            const mv = mask.data[b * mst[0]! + h * mst[1]! + i * mst[2]! + t * mst[3]!]!;
            if (mode === 'add') {
              st += mv;
              e += 2 * U * Math.abs(st);
            } else if (!mv) {
              st = fill;
              e = 0;
              vis[t] = 2; // filled: decided below
            }
          }
          if (causal && t > i + Skv - Sq) st = -Infinity;
          if (st === -Infinity) vis[t] = 0;
          s[t] = st;
          err[t] = e;
          if (vis[t] === 1) {
            delta = Math.max(delta, e);
            smax = Math.max(smax, st);
          }
        }
        // A filled score (exact on both sides) whose weight exp(fill - max)
        // underflows to 0 in float64, and so in fp32, weighs exactly 0 on
        // both sides (exporters fill with -FLT_MAX): it leaves the row.
        // Otherwise it takes part like any score.
        for (let t = 0; t < Skv; t++) {
          if (vis[t] !== 2) continue;
          vis[t] = smax > -Infinity && Math.exp(fill - smax) === 0 ? 0 : 1;
          if (vis[t]) smax = Math.max(smax, s[t]!);
        }
        // the largest |s_t - max|: the fp32 exponent argument's rounding is relative to it
        for (let t = 0; t < Skv; t++) if (vis[t]) sabs = Math.max(sabs, smax - s[t]!);
        let sum = 0, nv = 0;
        for (let t = 0; t < Skv; t++) if (vis[t]) { sum += Math.exp(s[t]! - smax); nv++; }
        const R = sabs;
        const er = Math.exp(U * R);
        const eps = (1 + 2 ** -11) * (1 + U) * er * ((1 + U) * er) ** nT - 1;
        const eta = (Math.exp(2 * delta) * (1 + eps)) / (1 - eps) - 1;
        const gn = gamma(Skv + 2 * nT, U);
        for (let cc = 0; cc < Dv; cc++) {
          let A = 0, V1 = 0;
          for (let t = 0; t < Skv; t++) {
            if (!vis[t]) continue;
            const av = Math.abs(v.data[(kvBase + t) * Dv + cc]!);
            A += (Math.exp(s[t]! - smax) / sum) * av;
            V1 += av;
          }
          const o = ((b * Hq + h) * Sq + i) * Dv + cc;
          const y = Math.abs(want.data[o]!);
          const under = (2 ** -25 * (V1 + nv * A)) / (1 - eps - nv * 2 ** -25);
          const pre = eta * A + 2 * gn * (1 + eta) * A + under + U * A + U * y;
          out[o] = (1 + 2 ** -11) * (pre + U * y) + 2 ** -11 * y + 2 ** -25 + U * y;
        }
      }
    }
  }
  return out;
}

registerBound('pimc', 'Attention', (c) => {
  const out = bounds(c);
  return (_o, i) => out[i]!;
});
