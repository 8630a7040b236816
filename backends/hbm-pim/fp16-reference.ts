// What the PIM kernels must compute, written as plain loops: the same FP16
// operations in the same order (for bit-exact checks), and the error bound
// against an exact (float64) result that follows from that arithmetic.

import { F16_VALUE, f16 } from '../../runtime-sim/hbm/fp16.js';
import type { ElementwiseOp } from './programs.js';

const LANES = 16;
const TILE = 128;

/** Unit roundoff of FP16 (round to nearest): 2^-11. */
export const FP16_U = 2 ** -11;

/**
 * GEMV in the PCUs' order: for each output row, each of the 16 lanes
 * accumulates round(acc + round(w x)) over the even input tiles and then the
 * odd ones, 8 bursts per tile; then the host adds the 16 lanes in lane order
 * (FP16, as the reference library, or float32).
 */
export function gemvFp16Loop(w: Uint16Array, x: Uint16Array, m: number, n: number, host: 'fp16' | 'fp32'): Float64Array {
  const tiles = Math.ceil(n / TILE);
  const order = [...Array(tiles).keys()].filter((t) => t % 2 === 0).concat([...Array(tiles).keys()].filter((t) => t % 2 === 1));
  const y = new Float64Array(m);
  const lane = new Float64Array(LANES);
  for (let o = 0; o < m; o++) {
    lane.fill(0);
    for (const t of order) {
      for (let g = 0; g < TILE / LANES; g++) {
        for (let l = 0; l < LANES; l++) {
          const i = t * TILE + g * LANES + l;
          if (i >= n) continue; // padding: w = 0 adds exactly 0
          lane[l] = f16(lane[l]! + f16(F16_VALUE[w[o * n + i]!]! * F16_VALUE[x[i]!]!));
        }
      }
    }
    let acc = 0;
    for (let l = 0; l < LANES; l++) acc = host === 'fp16' ? f16(acc + lane[l]!) : Math.fround(acc + lane[l]!);
    y[o] = acc;
  }
  return y;
}

/** Exact y = W x (float64 sums of exact products), and sum |w x| per row for the bound. */
export function gemvExact(w: Uint16Array, x: Uint16Array, m: number, n: number): { y: Float64Array; abs: Float64Array } {
  const y = new Float64Array(m);
  const abs = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    let s = 0;
    let a = 0;
    for (let i = 0; i < n; i++) {
      const p = F16_VALUE[w[o * n + i]!]! * F16_VALUE[x[i]!]!;
      s += p;
      a += Math.abs(p);
    }
    y[o] = s;
    abs[o] = a;
  }
  return { y, abs };
}

/**
 * The FP16 error bound of one GEMV output: each lane does n/16 rounded
 * products and as many rounded additions, then 16 host additions; a chain of
 * d rounded operations is off by at most gamma_d = d u / (1 - d u) times the
 * sum of |terms| (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
 */
export function gemvBound(n: number, absSum: number): number {
  const d = 2 * Math.ceil(n / LANES) + LANES;
  return ((d * FP16_U) / (1 - d * FP16_U)) * absSum;
}

export function elementwiseFp16Loop(op: ElementwiseOp, a: Uint16Array, b: Uint16Array | undefined, scalars?: { scale: number; shift: number }): Float64Array {
  const out = new Float64Array(a.length);
  const s = F16_VALUE[scalars?.scale ?? 0x3c00]!;
  const t = F16_VALUE[scalars?.shift ?? 0]!;
  for (let i = 0; i < a.length; i++) {
    const x = F16_VALUE[a[i]!]!;
    switch (op) {
      case 'add': out[i] = f16(x + F16_VALUE[b![i]!]!); break;
      case 'mul': out[i] = f16(x * F16_VALUE[b![i]!]!); break;
      case 'relu': out[i] = x < 0 || Object.is(x, -0) ? 0 : x; break;
      case 'mad': out[i] = f16(f16(x * s) + t); break;
    }
  }
  return out;
}
