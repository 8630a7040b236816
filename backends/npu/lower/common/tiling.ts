// Splitting work across engines and sizing tiles. Pure arithmetic, shared by
// the matmul and misc lowerings.

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

export const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Tile bounds of the lowerings, in one place because the placement's NPU
 * estimate (compiler/placement/cost-model.ts) counts the same steps:
 * element-wise tiles of ewMin..ewMax elements (misc/ew.ts); GEMM output
 * tiles of at most gemmM x gemmN, K steps of at most gemmK, and in the
 * transposed (memory-bound) form K steps of about streamStepCycles array
 * cycles (matmul/gemm-core.ts); attention items of at most attnRows query
 * rows against key tiles of attnKeys (matmul/attention.ts).
 */
export const NPU_TILES = {
  ewMax: 32768,
  ewMin: 1024,
  gemmM: 256,
  gemmN: 512,
  gemmK: 512,
  streamStepCycles: 1024,
  attnRows: 128,
  attnKeys: 128,
} as const;

/** A half-open range [start, start + size). */
export interface Span {
  start: number;
  size: number;
}

/** [0, n) in pieces of at most `tile` (the last one shorter). */
export function tilesOf(n: number, tile: number): Span[] {
  const out: Span[] = [];
  for (let s = 0; s < n; s += tile) out.push({ start: s, size: Math.min(tile, n - s) });
  return out;
}

/**
 * [0, n) split into at most `parts` contiguous spans as even as possible,
 * each a multiple of `align` except the last (empty spans are dropped, so
 * fewer parts than asked come back when n is small).
 */
export function splitEven(n: number, parts: number, align = 1): Span[] {
  const units = ceilDiv(n, align);
  const p = Math.max(1, Math.min(parts, units));
  const out: Span[] = [];
  let u = 0;
  for (let i = 0; i < p; i++) {
    const take = Math.floor(units / p) + (i < units % p ? 1 : 0);
    const start = u * align;
    const end = Math.min(n, (u + take) * align);
    if (end > start) out.push({ start, size: end - start });
    u += take;
  }
  return out;
}

/**
 * Deals `count` work items to `engines` engines: each item, in order, goes
 * to the least-loaded engine so far (cost from `cost`). Returns, per engine,
 * the indices of its items in order.
 */
export function dealItems(count: number, engines: number, cost: (i: number) => number = () => 1): number[][] {
  const lists: number[][] = Array.from({ length: engines }, () => []);
  const load = new Array<number>(engines).fill(0);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let e = 1; e < engines; e++) if (load[e]! < load[best]!) best = e;
    lists[best]!.push(i);
    load[best]! += cost(i);
  }
  return lists;
}

/**
 * Splits items 0..count-1, in order, into at most `engines` contiguous runs
 * whose largest cost sum is as small as possible (binary search on that
 * sum, each run filled greedily). Returns, per engine, its run's indices.
 */
export function dealContiguous(costs: readonly number[], engines: number): number[][] {
  const runs = (limit: number): number[][] | undefined => {
    const lists: number[][] = [[]];
    let sum = 0;
    for (let i = 0; i < costs.length; i++) {
      const c = costs[i]!;
      if (c > limit) return undefined;
      if (sum + c > limit && lists[lists.length - 1]!.length) {
        if (lists.length === engines) return undefined;
        lists.push([]);
        sum = 0;
      }
      lists[lists.length - 1]!.push(i);
      sum += c;
    }
    return lists;
  };
  let lo = Math.max(0, ...costs), hi = costs.reduce((a, b) => a + b, 0);
  while (hi - lo > 1e-9 * Math.max(1, hi)) {
    const mid = (lo + hi) / 2;
    if (runs(mid)) hi = mid;
    else lo = mid;
  }
  const lists = runs(hi)!;
  while (lists.length < engines) lists.push([]);
  return lists;
}

/**
 * Steps along a reduction of length n with at most `tile` per step, in
 * multiples of `align` (when tile >= align) except the last. With `ramp`,
 * the first steps grow geometrically from `align` (align, 2 align, ...): a
 * small first step lets compute start soon after the first DMA lands.
 */
export function reductionSteps(n: number, tile: number, align: number, ramp: boolean): number[] {
  // Steps are multiples of align, so a tile that is not one rounds down (or is all of n).
  if (tile >= align) tile = Math.floor(tile / align) * align;
  else align = 1;
  const head: number[] = [];
  let left = n;
  if (ramp) {
    for (let s = align; s < tile && left > 2 * s; s *= 2) {
      head.push(s);
      left -= s;
    }
  }
  const rest = splitEven(left, ceilDiv(left, tile), align).map((s) => s.size);
  return [...head, ...rest];
}
