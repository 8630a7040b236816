// pimc.Attention on the NPU (the fused flash-attention kernel) against the
// reference interpreter: MHA and GQA, decode (sq = 1) and prefill, causal,
// additive and bool masks with broadcasting, rank-3 inputs, a shared KV
// batch, and key lengths that make the score tiles loop.
//
// Error bound: backends/npu/bounds/attention.ts, derived there per output
// y[b, h, i, c] (scores, online-softmax weights, P @ V, the f16 store) and
// recomputed from the stored q, k, v and mask; one definition for the tests
// and the compiler.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../ir/tensor.js';
import { F, lowerOneOp, worstError, type HarnessAttr } from '../harness.js';
import { runBounded } from '../misc/testing.js';
import { KEYS_MAX } from './attention.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}
const rand = (shape: number[], seed: number, f: (x: number) => number = (x) => x, dtype: 'f32' | 'bool' = 'f32') => {
  const r = rng(seed);
  return Tensor.from(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => f(r())));
};

interface Case {
  b: number;
  hq: number;
  hkv: number;
  sq: number;
  skv: number;
  d: number;
  dv: number;
  rank3?: boolean;
  sharedKv?: boolean;
  causal?: boolean;
  mask?: { mode: 'add' | 'bool'; shape: number[]; fill?: number; values?: number[] };
  seed: number;
}

function inputs(c: Case): (Tensor | null)[] {
  const lead = c.rank3 ? [] : [c.b];
  const kvLead = c.rank3 ? [] : [c.sharedKv ? 1 : c.b];
  const q = rand([...lead, c.hq, c.sq, c.d], c.seed);
  const k = rand([...kvLead, c.hkv, c.skv, c.d], c.seed + 1);
  const v = rand([...kvLead, c.hkv, c.skv, c.dv], c.seed + 2);
  if (!c.mask) return [q, k, v];
  if (c.mask.values) return [q, k, v, Tensor.from(c.mask.mode === 'add' ? 'f32' : 'bool', c.mask.shape, c.mask.values)];
  const m = c.mask.mode === 'add'
    ? rand(c.mask.shape, c.seed + 3, (x) => (x > 0.85 ? -Infinity : x))
    : rand(c.mask.shape, c.seed + 3, (x) => (x > -0.6 ? 1 : 0), 'bool');
  return [q, k, v, m];
}

function check(c: Case) {
  const scale = 1 / Math.sqrt(c.d);
  const attrs: Record<string, HarnessAttr> = { scale: F(scale), causal: c.causal ? 1 : 0 };
  if (c.mask) {
    attrs.mask_mode = c.mask.mode;
    if (c.mask.fill !== undefined) attrs.mask_fill = F(c.mask.fill);
  }
  const run = runBounded('Attention', 'pimc', inputs(c), attrs);
  const want = run.want[0]!;
  const bound = (i: number) => run.bound(0, i);
  const w = worstError(run.got[0]!, want, bound);
  if (process.env.SHOW_RATIO) console.log(JSON.stringify(c), 'worst/bound', w.ratio.toFixed(3));
  expect(w.ratio, `${JSON.stringify(c)}: worst element ${w.index}: got ${run.got[0]!.data[w.index]}, want ${want.data[w.index]}, bound ${w.index >= 0 ? bound(w.index) : 0}`).toBeLessThanOrEqual(1);
  return run;
}

const maskShapes = (c: Omit<Case, 'mask' | 'seed'>): number[][] => {
  const full = [c.b, c.hq, c.sq, c.skv];
  const shapes = [[c.sq, c.skv], [c.b, 1, 1, c.skv], [1, c.hq, 1, c.skv], full, [c.skv]];
  return c.rank3 ? shapes.map((s) => (s.length === 4 ? s.slice(1) : s)).filter((s) => s.length <= 3 && (s.length < 3 || s[0] === 1 || s[0] === c.hq)) : shapes;
};

describe('pimc.Attention on the NPU', () => {
  it('random MHA / GQA, decode and prefill, masks and causal', () => {
    const arb = fc
      .record({
        b: fc.integer({ min: 1, max: 2 }),
        hkv: fc.integer({ min: 1, max: 3 }),
        group: fc.constantFrom(1, 2, 4),
        sq: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 48 })),
        skv: fc.integer({ min: 1, max: 300 }),
        d: fc.constantFrom(8, 16, 64, 80),
        dvSame: fc.boolean(),
        rank3: fc.boolean(),
        sharedKv: fc.boolean(),
        causal: fc.boolean(),
        maskMode: fc.constantFrom('none', 'add', 'bool', 'bool-fill'),
        maskPick: fc.nat(),
        seed: fc.integer({ min: 0, max: 1e6 }),
      })
      .map((x): Case => {
        const base = { b: x.rank3 ? 1 : x.b, hq: x.hkv * x.group, hkv: x.hkv, sq: x.sq, skv: x.skv, d: x.d, dv: x.dvSame ? x.d : 24, rank3: x.rank3, sharedKv: !x.rank3 && x.sharedKv, causal: x.causal };
        const shapes = maskShapes(base);
        const shape = shapes[x.maskPick % shapes.length]!;
        const mask = x.maskMode === 'none' ? undefined : x.maskMode === 'add' ? { mode: 'add' as const, shape } : { mode: 'bool' as const, shape, ...(x.maskMode === 'bool-fill' ? { fill: -1000.5 } : {}) };
        return { ...base, ...(mask ? { mask } : {}), seed: x.seed };
      });
    fc.assert(fc.property(arb, (c) => void check(c)), { seed: 4242, numRuns: 24 });
  });

  it('a long key sequence loops over score tiles with online softmax (skv 700 = 6 tiles)', () => {
    const run = check({ b: 1, hq: 4, hkv: 4, sq: 3, skv: 700, d: 64, dv: 64, mask: { mode: 'add', shape: [1, 1, 3, 700] }, seed: 11 });
    // Two matmuls per key tile and (b, head, query tile): 4 heads x 6 tiles.
    const mm = run.program.engines.flat().filter((i) => i.op === 'matmul');
    expect(mm.length).toBe(2 * 4 * Math.ceil(700 / KEYS_MAX));
    // The scores of a tile, never more: no matmul writes more than KEYS_MAX keys.
    for (const i of mm) if (i.op === 'matmul') expect(Math.min(i.c.shape[1], i.c.shape[2])).toBeLessThanOrEqual(KEYS_MAX);
  });

  it('decode with grouped-query heads stacked: each K tile is loaded once per kv head', () => {
    const run = check({ b: 2, hq: 8, hkv: 2, sq: 1, skv: 513, d: 64, dv: 64, causal: true, seed: 12 });
    const loads = run.program.engines.flat().filter((i) => i.op === 'dma.load' && i.dst.shape[2] === 64);
    // Per (batch, kv head): the q tile once, K and V once per key tile.
    expect(loads.length).toBe(2 * 2 * (1 + 2 * Math.ceil(513 / KEYS_MAX)));
    expect(run.program.engines.filter((l) => l.length).length).toBe(4);
  });

  it('causal prefill with a padding mask, work spread over the engines', () => {
    const run = check({ b: 2, hq: 4, hkv: 4, sq: 200, skv: 200, d: 64, dv: 64, causal: true, mask: { mode: 'add', shape: [2, 1, 1, 200] }, seed: 13 });
    expect(run.program.engines.filter((l) => l.length).length).toBe(8);
  });

  it('a row with no visible key is NaN, as in the reference', () => {
    // Query row 0 sees no key; the others see two keys in three.
    const values = Array.from({ length: 4 * 140 }, (_, j) => (j < 140 ? 0 : j % 3 ? 1 : 0));
    const run = check({ b: 1, hq: 2, hkv: 1, sq: 4, skv: 140, d: 16, dv: 16, mask: { mode: 'bool', shape: [4, 140], values }, seed: 14 });
    const got = run.got[0]!.data;
    for (let h = 0; h < 2; h++) for (let j = 0; j < 16; j++) expect(Number.isNaN(got[h * 64 + j]!)).toBe(true);
    expect(got.slice(16, 64).every((x) => Number.isFinite(x))).toBe(true);
  });

  it('a head too large for the scratchpad is PIMC1101, naming the op and the tile', () => {
    const f = (shape: number[]) => ({ dtype: 'f32' as const, shape });
    expect(() => lowerOneOp('Attention', 'pimc', [f([1, 1, 1, 20000]), f([1, 1, 256, 20000]), f([1, 1, 256, 20000])], { scale: F(0.01) })).toThrow(/PIMC1101.*"n".*k tile/);
  });
});
