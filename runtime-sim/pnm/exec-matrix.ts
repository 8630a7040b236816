// The matrix engine's descriptors, functionally: GEMM (GEMV when M = 1) and
// decode attention. FP16 operands (exact in FP32), FP32 products and sums in
// order along the reduction, one rounding to the output's dtype on store.
// Every FP32 operation is emulated as a double operation rounded with
// Math.fround; exp is a function unit that returns the FP32 nearest to the
// true value [ours].

import type { Resolved } from './check.js';
import type { PnmMemory } from './memory.js';
import { gather, scatter } from './views.js';

const fr = Math.fround;

/** out[.., m, n] = alpha * sum_k a[.., m, k] * b[.., k, n] (+ bias[.., m, n]). */
export function execGemm(mem: PnmMemory, v: Resolved, alpha: number): void {
  const { out } = v;
  const r = out.dims.length;
  const [M, N] = [out.dims[r - 2]!, out.dims[r - 1]!];
  const K = v.ins[0]!.dims[r - 1]!;
  const batch = out.dims.slice(0, -2).reduce((x, y) => x * y, 1);
  const a = gather(mem, v.ins[0]!), b = gather(mem, v.ins[1]!);
  const bias = v.ins[2] ? gather(mem, v.ins[2]) : null;
  const y = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = t * M * K, bo = t * K * N, yo = t * M * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc = fr(acc + fr(a[ao + m * K + k]! * b[bo + k * N + n]!));
        let o = fr(alpha * acc);
        if (bias) o = fr(o + bias[yo + m * N + n]!);
        y[yo + m * N + n] = o;
      }
    }
  }
  scatter(mem, out, y);
}

/**
 * Decode attention: per (batch, query head, query row), the scores
 * s_t = scale * (q . k_t) over the T valid keys of kv head h / (hq / hkv),
 * and softmax(s) @ v by the online recurrence (the cache streams once):
 *   m' = max(m, s_t); c = exp(m - m'); l = l * c + exp(s_t - m'); acc = acc * c + exp(s_t - m') v_t
 * then out = acc / l.
 */
export function execAttention(mem: PnmMemory, v: Resolved, scale: number): void {
  const [q, k, vv] = [v.ins[0]!, v.ins[1]!, v.ins[2]!];
  const [B, Hq, S, D] = q.dims as [number, number, number, number];
  const [, Hkv, T] = k.dims as [number, number, number, number];
  const Dv = vv.dims[3]!;
  const group = Hq / Hkv;
  const qd = gather(mem, q), kd = gather(mem, k), vd = gather(mem, vv);
  const y = new Float64Array(B * Hq * S * Dv);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvo = (b * Hkv + Math.floor(h / group)) * T;
      for (let s = 0; s < S; s++) {
        const qo = ((b * Hq + h) * S + s) * D;
        let m = -Infinity, l = 0;
        acc.fill(0);
        for (let t = 0; t < T; t++) {
          const ko = (kvo + t) * D;
          let dot = 0;
          for (let j = 0; j < D; j++) dot = fr(dot + fr(qd[qo + j]! * kd[ko + j]!));
          const st = fr(scale * dot);
          if (st > m) {
            // A new maximum rescales what was accumulated (nothing, the first time).
            const c = m === -Infinity ? 0 : fr(Math.exp(fr(m - st)));
            l = fr(l * c);
            for (let j = 0; j < Dv; j++) acc[j] = fr(acc[j]! * c);
            m = st;
          }
          const p = fr(Math.exp(fr(st - m)));
          l = fr(l + p);
          const vo = (kvo + t) * Dv;
          for (let j = 0; j < Dv; j++) acc[j] = fr(acc[j]! + fr(p * vd[vo + j]!));
        }
        const yo = ((b * Hq + h) * S + s) * Dv;
        for (let j = 0; j < Dv; j++) y[yo + j] = fr(acc[j]! / l);
      }
    }
  }
  scatter(mem, v.out, y);
}
