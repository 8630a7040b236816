// pimc.Attention at decode (lower/attention.ts): sq = 1 over a KV cache,
// grouped-query, a cache shared by the batch (k / v batch 1), with no mask
// (one fused ATTENTION descriptor per unit, online softmax) or an additive
// mask (per unit a chain of four descriptors: FP32 scores, FP32 mask add,
// FP16 probabilities, P @ V). Causal hides nothing from the one query row
// (it is the cache's last position). The lowering refuses sq > 1 and bool
// masks; so does the bound (no derivation for them).
//
// Bounds (lower/bounds.ts), per output element of value column j, V_j =
// max_t |v_tj| over the visible keys:
// - fused ATTENTION (attentionBound): scores within Delta of the reference's
//   (device gamma(d-1) A_t + u|s_t|, reference (2u + u^2)|s_t| + gamma(d, 2^-53) A_t);
//   that moves the output by at most (e^{2 Delta} - 1) V_j; the online
//   recurrence by 2 b / (1 - b) V_j with b = (1+uf)^T (1+u)^{2T} e^{2uR} - 1;
//   the reference's own (2u + gamma(T+4) + gamma(T)) V_j; the FP16 store.
// - the masked chain (maskedAttentionBound): the same scores plus u|s + mask|,
//   the FP32 softmax's rho, probabilities stored as FP16 (2^-11 relative,
//   2^-25 each), P @ V in FP32 (gamma(T-1)), the reference and the store.
// Keys whose mask is -inf are hidden: they are left out of the row (T counts
// the visible keys). The scores s_t = scale q . k_t and A_t = |scale| sum_j
// |q_j k_tj| are computed here in double from the stored q and k, with the
// scale as the FP32 immediate the descriptors carry. A row whose keys are all
// hidden has no distribution (the reference gives NaN): bound 0.
//
// Dims as ir/ops/pimc/attention.ts: q [b, hq, 1, d], k [kb, hkv, T, d],
// v [kb, hkv, T, dv] (rank 3 drops b), kb = b or 1; the mask broadcasts to
// [b, hq, 1, T]; query head h reads kv head floor(h / (hq / hkv)).

import { broadcastStrides } from '../../../ir/ops/support.js';
import { attentionBound, maskedAttentionBound, type AttentionRow } from '../lower/bounds.js';
import { boundError, f32Reference, need, perElement } from './common.js';
import { registerPnmBound, type BoundContext, type ElementBound } from './registry.js';

function attention(c: BoundContext): ElementBound {
  f32Reference(c);
  const mode = c.attrs.string('mask_mode', 'none');
  if (mode !== 'none' && mode !== 'add') boundError(c, `with mask_mode ${JSON.stringify(mode)}: the PNM does not lower it`);
  const q = need(c, 0), k = need(c, 1), v = need(c, 2);
  const mask = mode === 'add' ? need(c, 3) : null;
  const want = c.want[0]!;
  const r = q.rank;
  const B = r === 4 ? q.shape[0]! : 1, kb = r === 4 ? k.shape[0]! : 1;
  const [Hq, Sq, D] = q.shape.slice(r - 3) as [number, number, number];
  const [Hkv, T] = k.shape.slice(r - 3, r - 1) as [number, number];
  const Dv = v.shape[r - 1]!;
  if (Sq !== 1) boundError(c, `with ${Sq} query rows: the PNM runs decode attention (sq = 1) only`);
  const scale = Math.fround(c.attrs.float('scale'));
  const group = Hq / Hkv;
  // Mask strides over the scores [B, Hq, 1, T] (broadcast dims 0).
  const ms = mask ? broadcastStrides([...new Array<number>(4 - mask.rank).fill(1), ...mask.shape], [B, Hq, 1, T]) : [];
  const out = new Float64Array(want.size);
  const vMax = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    const kbi = kb === 1 ? 0 : b;
    for (let h = 0; h < Hq; h++) {
      const kvo = (kbi * Hkv + Math.floor(h / group)) * T;
      const m = (t: number) => mask!.data[b * ms[0]! + h * ms[1]! + t * ms[3]!]!;
      const keys = [...Array(T).keys()].filter((t) => !mask || m(t) !== -Infinity);
      const row: AttentionRow = { scores: new Float64Array(keys.length), absScores: new Float64Array(keys.length), d: D };
      let maskedAbs = 0;
      vMax.fill(0);
      keys.forEach((t, n) => {
        let s = 0, a = 0;
        for (let j = 0; j < D; j++) {
          const p = q.data[(b * Hq + h) * D + j]! * k.data[(kvo + t) * D + j]!;
          s += p;
          a += Math.abs(p);
        }
        row.scores[n] = scale * s;
        row.absScores[n] = Math.abs(scale) * a;
        if (mask) maskedAbs = Math.max(maskedAbs, Math.abs(scale * s + m(t)));
        for (let j = 0; j < Dv; j++) vMax[j] = Math.max(vMax[j]!, Math.abs(v.data[(kvo + t) * Dv + j]!));
      });
      for (let j = 0; j < Dv; j++) {
        const i = (b * Hq + h) * Dv + j;
        if (!keys.length) out[i] = 0;
        else out[i] = mask ? maskedAttentionBound(row, maskedAbs, vMax[j]!, Math.abs(want.data[i]!)) : attentionBound(row, vMax[j]!, Math.abs(want.data[i]!));
      }
    }
  }
  return perElement(out);
}

registerPnmBound('pimc', 'Attention', attention);
