// What the PIM kernels must compute, written as plain loops: the same FP16
// operations in the same order (for bit-exact checks), and the error bound
// against an exact (float64) result that follows from that arithmetic.

import { F16_VALUE, f16 } from '../../runtime-sim/hbm/fp16.js';
import type { ElementwiseOp } from './programs.js';

const LANES = 16;
const TILE = 128;

/** FP16 bits -> values (looked up once, not once per output row). */
const values = (bits: Uint16Array): Float64Array => Float64Array.from(bits, (b) => F16_VALUE[b]!);

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
  // the inputs in the order the PCUs take them (padding past n adds exactly 0: skipped); input i is in lane i mod 16
  const inputs = Int32Array.from(order.flatMap((t) => [...Array(TILE).keys()].map((e) => t * TILE + e).filter((i) => i < n)));
  const xv = values(x);
  // locals: a module binding would be checked for initialisation on every read
  const value = F16_VALUE;
  const round = f16;
  const y = new Float64Array(m);
  const lane = new Float64Array(LANES);
  for (let o = 0; o < m; o++) {
    lane.fill(0);
    const row = o * n;
    for (let j = 0; j < inputs.length; j++) {
      const i = inputs[j]!;
      const l = i & 15;
      lane[l] = round(lane[l]! + round(value[w[row + i]!]! * xv[i]!));
    }
    let acc = 0;
    for (let l = 0; l < LANES; l++) acc = host === 'fp16' ? f16(acc + lane[l]!) : Math.fround(acc + lane[l]!);
    y[o] = acc;
  }
  return y;
}

/**
 * Exact y = W x (float64 sums of exact products), and sum |w x| per row for
 * the bound. Each row is summed in input order; four rows at a time, so that
 * four independent sums run side by side instead of one chain of dependent
 * additions (the same additions in the same order per row).
 */
export function gemvExact(w: Uint16Array, x: Uint16Array, m: number, n: number): { y: Float64Array; abs: Float64Array } {
  const y = new Float64Array(m);
  const abs = new Float64Array(m);
  const xv = values(x);
  const value = F16_VALUE; // a local: a module binding would be checked for initialisation on every read
  let o = 0;
  for (; o + 4 <= m; o += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const r0 = o * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
    for (let i = 0; i < n; i++) {
      const xi = xv[i]!;
      const p0 = value[w[r0 + i]!]! * xi;
      const p1 = value[w[r1 + i]!]! * xi;
      const p2 = value[w[r2 + i]!]! * xi;
      const p3 = value[w[r3 + i]!]! * xi;
      s0 += p0; s1 += p1; s2 += p2; s3 += p3;
      a0 += Math.abs(p0); a1 += Math.abs(p1); a2 += Math.abs(p2); a3 += Math.abs(p3);
    }
    y[o] = s0; y[o + 1] = s1; y[o + 2] = s2; y[o + 3] = s3;
    abs[o] = a0; abs[o + 1] = a1; abs[o + 2] = a2; abs[o + 3] = a3;
  }
  for (; o < m; o++) {
    let s = 0;
    let a = 0;
    const row = o * n;
    for (let i = 0; i < n; i++) {
      const p = value[w[row + i]!]! * xv[i]!;
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
