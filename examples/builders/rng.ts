// Seeded pseudo-random numbers for model weights and test inputs.
//
// xoshiro128** (Blackman & Vigna) seeded through splitmix32, with normal
// samples by the Box-Muller transform. Every tensor gets its own stream,
// derived from the model seed and a stable key (the parameter's name), so a
// weight's values do not depend on the order tensors are generated in, on the
// phase (prefill/decode) or on the opset: two models built with the same seed
// share their weights exactly.

/** 32-bit FNV-1a hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  /** A stream for `seed`, optionally split by a string key (a tensor name). */
  constructor(seed: number, key = '') {
    const st = { s: (Math.trunc(seed) ^ Math.imul(hashString(key), 0x27d4eb2d)) | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal sample (Box-Muller; the second value of each pair is kept). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    // 1 - uniform() is in (0, 1], so the log is finite.
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * v;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fills `out` with mean + std * N(0, 1) (Box-Muller pairs, like normal()). */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    const n = out.length;
    let i = 0;
    if (this.spare !== undefined && n > 0) out[i++] = mean + std * this.normal();
    for (; i + 1 < n; i += 2) {
      const u = 1 - this.uniform();
      const v = this.uniform();
      const r = std * Math.sqrt(-2 * Math.log(u));
      const c = Math.cos(2 * Math.PI * v);
      // sin(2 pi v) from the cosine: positive for v < 1/2 (one transcendental call fewer).
      const sn = Math.sqrt(Math.max(0, 1 - c * c));
      out[i] = mean + r * c;
      out[i + 1] = mean + (v < 0.5 ? r * sn : -r * sn);
    }
    if (i < n) out[i] = mean + std * this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
