// pimc.Attention on the NPU: one fused flash-attention kernel (online
// softmax), the [sq, skv] score matrix never materialised beyond one tile.
//
// Work items are (batch, block of kv heads, group block, query tile); the
// query heads that share a kv head (grouped-query attention) are stacked as
// rows of one tile, so each K/V tile is loaded once for the whole group
// (decode: sq = 1, a group of g heads is a g-row tile), and a block of hb kv
// heads runs as one batched matmul (the array's fill/drain and the vector
// unit's pipeline paid once for hb heads: decode's one-row heads are cheap
// together). The plan (hb, query tile) is the one whose busiest engine
// finishes first (item cycles counted as timing.ts counts them, or the DRAM
// time of the loads if longer, plus every engine's first loads, which the
// one DRAM queue moves before the last engine can start; a plan with more
// items must win by 3%, as each item re-reads its K and V): 12 decode heads
// on 8 engines go as 6 pairs, not 8 + 4 singles (3 item times); a 128-token
// prefill of 12 heads as 16 items of 3 heads x 32 rows, 2 per engine, not 12
// of 128 rows (4 engines with 2). Items are dealt to the engines by their
// cost (in contiguous runs when that balances as well, so neighbouring items
// share a mask tile). Per item, over its key tiles (causal: only tiles with a
// visible key), with DMA of the next key tile (K, V, mask; the next item's
// q and first key tile after an item's last) overlapping compute of this one
// (two ring slots, one tag per slot; V on tags of its own, waited for only
// before P @ V, and the very first V issued after the first wait, so every
// engine's first K, mask and q are ahead of it in the DRAM queue):
//   S  = q @ k^T (f32)                 transposed (streamed) when rows <= 32
//   S *= scale; S += mask (add) | S = mask ? S : fill (bool); causal: S = min(S, z)
//   m' = max(m, rowmax S)              running max, held >= -FLT_MAX so a row
//                                      masked so far gives exp(-inf) = 0, not NaN
//   a  = exp(m - m'); P = exp(S - m') stored f16 (the array's input type)
//   l  = l a + rowsum P;  O = O a + P @ v (f32 accumulate)
// then y = O / l stored f16. A row with no visible key ends with 0 / 0 =
// NaN, as the reference's softmax of all -inf.
//
// Masks: an additive mask tile (f16) is added; a bool mask (i32 0/1 in
// DRAM) is loaded as f32 bits (a DMA copies bits: 1 is the smallest f32
// denormal 2^-149) and turned into hi = +-inf by t = bits * 2^100 - 2^-50,
// hi = t * inf (and lo = t * -inf), clamped to the fill value when it is
// finite: S = max(min(S, hi), lo) keeps S or gives the fill. The bounds of
// each key tile are kept (a slot per key tile of an item, as many as fit):
// the engine's next item with the same mask tiles (another head of a
// head-broadcast mask) neither loads nor converts them. Causal
// diagonal tiles take min(S, z) with z a per-engine vector of +inf then
// -inf read through a Toeplitz view (strides [0, -1, 1]): element (i, t)
// reads z at an index that grows with t - i, so one vec op masks the tile.
// Broadcast mask dims are loaded once and read with stride 0.

import { fail, q } from '../../../../ir/diagnostics.js';
import { broadcastStrides } from '../../../../ir/ops/support.js';
import { view, type Instr, type NpuProgram, type View } from '../../instr.js';
import { alignUp, Spad, SPAD_ALIGN } from '../common/alloc.js';
import { streamRows } from '../common/matrix.js';
import { ceilDiv, dealContiguous, dealItems, NPU_TILES } from '../common/tiling.js';
import { registerLowering } from '../registry.js';
import type { LowerContext } from '../types.js';
import { f16Input } from './operands.js';

const ROWS_MAX = NPU_TILES.attnRows;
/** Keys per tile (a tile of K, V and scores): the tests bound the rescaling error by the tile count. */
export const KEYS_MAX = NPU_TILES.attnKeys;
const FLT_MAX = 3.4028234663852886e38;

interface Item {
  b: number;
  /** First kv head of the block and how many (hb > 1 only when the whole group is stacked). */
  kvh: number;
  hb: number;
  /** First query head (hb x gs consecutive heads). */
  h0: number;
  i0: number;
  tq: number;
  keyTiles: number;
}

function attr(ctx: LowerContext, name: string): number | string | undefined {
  const a = ctx.op.attrs.get(name);
  return a && (a.kind === 'int' || a.kind === 'float' || a.kind === 'string') ? a.value : undefined;
}

/**
 * Batched matmul C[x] (+)= A[x] @ B[x] for x < hb over compact scratchpad
 * blocks: A [hb, m, k], B given as its tile [hb, k, n] (or, bT, stored
 * [hb, n, k] and read transposed), C [hb, m, n] f32. With `stream` the array
 * computes C^T = B^T A^T (same numbers, same order; faster for m <= 32).
 */
function batchedMatmul(c: number, cDt: 'f32', a: number, b: number, bT: boolean, hb: number, m: number, k: number, n: number, acc: boolean, stream: boolean): Instr {
  const bs = bT ? [n * k, 1, k] : [k * n, n, 1]; // B[x][kk][nn] strides
  if (!stream) {
    return { op: 'matmul', accumulate: acc, c: view('spad', c, cDt, [hb, m, n], [m * n, n, 1]), a: view('spad', a, 'f16', [hb, m, k], [m * k, k, 1]), b: view('spad', b, 'f16', [hb, k, n], bs) };
  }
  return {
    op: 'matmul', accumulate: acc,
    c: view('spad', c, cDt, [hb, n, m], [m * n, 1, n]),
    a: view('spad', b, 'f16', [hb, n, k], [bs[0]!, bs[2]!, bs[1]!]),
    b: view('spad', a, 'f16', [hb, k, m], [m * k, 1, k]),
  };
}

function lowerAttention(ctx: LowerContext): NpuProgram {
  const { npu, op } = ctx;
  const Q = f16Input(ctx, 0, 'q'), K = f16Input(ctx, 1, 'k'), V = f16Input(ctx, 2, 'v');
  const mask = ctx.inputs[3] ?? null;
  const Y = ctx.outputs[0]!;
  const r = Q.shape.length;
  const B = r === 4 ? Q.shape[0]! : 1, kb = r === 4 ? K.shape[0]! : 1;
  const [Hq, Sq, D] = Q.shape.slice(r - 3) as [number, number, number];
  const [Hkv, Skv] = K.shape.slice(r - 3) as [number, number];
  const Dv = V.shape[r - 1]!;
  const scale = Number(attr(ctx, 'scale'));
  const mode = String(attr(ctx, 'mask_mode') ?? 'none');
  const fill = Number(attr(ctx, 'mask_fill') ?? -Infinity);
  const causal = Number(attr(ctx, 'causal') ?? 0) !== 0;
  const name = `${op.type}:${op.name}`;
  const engines: Instr[][] = Array.from({ length: npu.engines }, () => []);
  if (B * Hq * Sq * Dv === 0) return { name, engines };
  if (Skv === 0 || D === 0) fail('PIMC1102', `op ${q(op.name)} (pimc.Attention) has no keys or an empty head (skv = ${Skv}, d = ${D}); the NPU lowering needs both >= 1`);
  if (mask && mode === 'bool' && mask.dtype !== 'i32') fail('PIMC1102', `op ${q(op.name)}: a bool mask must be stored as i32`);
  if (mask && mode === 'add' && mask.dtype !== 'f16') fail('PIMC1102', `op ${q(op.name)}: an additive mask must be a float tensor`);
  const group = Hq / Hkv;
  // Mask strides (elements) over the scores [B, Hq, Sq, Skv]; broadcast dims are 0.
  const m4 = mask ? [...new Array<number>(4 - Math.min(4, mask.shape.length)).fill(1), ...mask.shape.slice(-4)] : [];
  const ms = mask ? broadcastStrides(m4, [B, Hq, Sq, Skv]) : [0, 0, 0, 0];
  const maskBytes = mask?.dtype === 'f16' ? 2 : 4;

  // 1. Tiles: the group's heads stacked (up to 64 of them), at most ROWS_MAX rows an item.
  const gs = group <= 64 ? group : 1;
  const T = Math.min(Skv, KEYS_MAX);
  // A mask tile as loaded: broadcast dims (stride 0) are loaded once.
  const maskDims = (heads: number, tq: number, tn: number): [number, number, number] => [ms[1] ? heads : 1, ms[2] ? tq : 1, ms[3] ? tn : 1];
  const boolSteps = mode === 'bool' ? (fill !== -Infinity ? 6 : 3) : 0;

  const itemsOf = (hb: number, tq: number): Item[] => {
    const items: Item[] = [];
    // Query tile outside the kv heads: neighbouring items share a head-broadcast mask tile.
    for (let b = 0; b < B; b++) {
      for (let i0 = 0; i0 < Sq; i0 += tq) {
        const tqi = Math.min(tq, Sq - i0);
        // Causal: the last row sees keys up to i0 + tq - 1 + Skv - Sq; at least one tile (an all-hidden row gives NaN, as the reference).
        const visible = causal ? Math.min(Skv, i0 + tqi + Skv - Sq) : Skv;
        const keyTiles = Math.max(1, ceilDiv(visible, T));
        for (let kvh = 0; kvh < Hkv; kvh += hb) {
          const hbi = Math.min(hb, Hkv - kvh);
          for (let hbk = 0; hbk < group / gs; hbk++) items.push({ b, kvh, hb: hbi, h0: kvh * group + hbk * gs, i0, tq: tqi, keyTiles });
        }
      }
    }
    return items;
  };
  // Cycles of an item as timing.ts counts them (array passes + fill/drain, vector elements / lanes + pipeline).
  const mmCycles = (hb: number, m: number, k: number, n: number) => {
    const [rows, cols] = streamRows(m, npu.arrayCols) ? [n, m] : [m, n];
    return ceilDiv(k, npu.arrayRows) * ceilDiv(cols, npu.arrayCols) * hb * Math.max(rows, npu.arrayRows) + npu.arrayRows + npu.arrayCols;
  };
  const vec = (n: number) => ceilDiv(n, npu.vectorLanes) + npu.vectorPipelineCycles;
  const itemCycles = (it: Item): number => {
    const R = gs * it.tq, RT = it.hb * R;
    let c = vec(RT * Dv); // y = O / l
    for (let j = 0; j < it.keyTiles; j++) {
      const tn = Math.min(T, Skv - j * T);
      const st = RT * tn;
      c += mmCycles(it.hb, R, D, tn) + mmCycles(it.hb, R, tn, Dv);
      c += 5 * vec(st) + (j ? 4 * vec(RT) + vec(RT * Dv) : vec(RT)); // scale, rmax, sub, exp, rsum; running max / sum, O rescale
      if (mode === 'add') c += vec(st);
      if (mode === 'bool') c += (fill !== -Infinity ? 2 : 1) * vec(st) + boolSteps * vec(maskDims(it.hb * gs, it.tq, tn).reduce((p, d) => p * d, 1));
      if (causal) c += vec(st);
    }
    return c;
  };
  const planOf = (hb: number, tq: number) => {
    const items = itemsOf(hb, tq);
    const cost = items.map(itemCycles);
    const greedy = dealItems(items.length, npu.engines, (i) => cost[i]!);
    const contiguous = dealContiguous(cost, npu.engines);
    const span = (lists: number[][]) => Math.max(...lists.map((l) => l.reduce((a, i) => a + cost[i]!, 0)));
    const dealt = span(contiguous) <= span(greedy) ? contiguous : greedy;
    // DRAM: q and y once, K and V once per item and key tile.
    const kvBytes = items.reduce((a, it) => a + it.hb * Math.min(Skv, it.keyTiles * T) * (D + Dv) * 2, 0);
    const perCycle = (ctx.hw.memory.peakGBps * ctx.hw.memory.streamEfficiency) / npu.clockGHz;
    const dram = (kvBytes + B * Hq * Sq * (D + Dv) * 2) / perCycle;
    // Before the last engine computes, the DRAM queue moves every engine's first K, mask and q tile.
    const firstBytes = dealt.reduce((a, l) => {
      const it = l.length ? items[l[0]!]! : undefined;
      return it ? a + (it.hb * T * D + it.hb * gs * it.tq * D) * 2 + (mask ? maskDims(it.hb * gs, it.tq, T).reduce((p, d) => p * d, 1) * maskBytes : 0) : a;
    }, 0);
    return { items, dealt, score: Math.max(span(dealt), dram) + firstBytes / perCycle };
  };
  // Candidates: kv-head blocks hb (the whole group stacked) and query tiles
  // from the largest down to an eighth of them (hb > 1: down to a half),
  // fewer items first.
  // Work of more than 64 items an engine balances anyway: the largest
  // tiles, no search.
  const tqOf = (hb: number) => Math.min(Sq, Math.floor(ROWS_MAX / (hb * gs)));
  let plan: ReturnType<typeof planOf> | undefined;
  const baseItems = B * ceilDiv(Sq, tqOf(1)) * Hkv * (group / gs);
  if (baseItems > 64 * npu.engines) plan = planOf(1, tqOf(1));
  for (let hb = 1; !plan || (baseItems <= 64 * npu.engines && hb <= (gs === group ? Hkv : 1)); hb++) {
    const tqMax = tqOf(hb);
    if (tqMax < 1) break;
    // The largest tiles (the last one shorter), then even splits into more and more tiles.
    const nq0 = ceilDiv(Sq, tqMax);
    const tqs = [tqMax];
    for (let nq = nq0; nq <= Math.min(Sq, nq0 * (hb === 1 ? npu.engines : 2)); nq++) {
      const tq = ceilDiv(Sq, nq);
      if (!tqs.includes(tq)) tqs.push(tq);
    }
    for (const tq of tqs) {
      const p = planOf(hb, tq);
      // A plan of more, smaller items must win clearly (3%): each re-reads
      // its K and V, and the score is only a model of the engines' time.
      if (!plan || p.score < (p.items.length > plan.items.length ? 0.97 : 1) * plan.score) plan = p;
    }
  }
  const { items, dealt } = plan!;
  const hbMax = Math.max(...items.map((it) => it.hb));
  const tqMax = Math.max(...items.map((it) => it.tq));
  const rowsMax = Math.max(...items.map((it) => it.hb * gs * it.tq));

  // 2. Scratchpad (the same layout on every engine).
  const sp = new Spad(op.name, npu.scratchpadBytes);
  const P0 = T + tqMax; // z[p] = +inf for p <= P0, -inf after
  const zLen = 2 * P0 + 2;
  const z = causal ? sp.alloc(zLen * 4, 'causal mask vector') : 0;
  const qRing = sp.ring(rowsMax * D * 2, 2, `q tile [${rowsMax}, ${D}]`);
  const kRing = sp.ring(hbMax * T * D * 2, 2, `k tile [${hbMax}, ${T}, ${D}]`);
  const vRing = sp.ring(hbMax * T * Dv * 2, 2, `v tile [${hbMax}, ${T}, ${Dv}]`);
  const maskElems = mask ? Math.max(...items.map((it) => maskDims(it.hb * gs, it.tq, T).reduce((p, d) => p * d, 1))) : 0;
  const mRing = mask ? sp.ring(maskElems * maskBytes, 2, 'mask tile') : undefined;
  const S = sp.alloc(rowsMax * T * 4, `f32 scores [${rowsMax}, ${T}]`);
  const P = sp.alloc(rowsMax * T * 2, `f16 probabilities [${rowsMax}, ${T}]`);
  const O = sp.alloc(rowsMax * Dv * 4, `f32 output accumulator [${rowsMax}, ${Dv}]`);
  const outRing = sp.ring(rowsMax * Dv * 2, 2, `f16 output tile [${rowsMax}, ${Dv}]`);
  const mBuf = [sp.alloc(rowsMax * 4, 'running max'), sp.alloc(rowsMax * 4, 'running max')];
  const col = (what: string) => sp.alloc(rowsMax * 4, what);
  const mt = col('tile max'), alpha = col('rescale factor'), l = col('running sum'), lt = col('tile sum');
  // Bool mask bounds, one slot per key tile of an item (as many as fit in
  // half of what is left, at least one): the next item of the engine with
  // the same query tile (another head of a head-broadcast mask) finds all
  // its key tiles' bounds made.
  const boundBytes = mode === 'bool' ? maskElems * 4 * (fill !== -Infinity ? 2 : 1) : 0;
  const keyTilesMax = Math.max(...items.map((it) => it.keyTiles));
  const boundSlots = mode === 'bool' ? Math.max(1, Math.min(keyTilesMax, Math.floor(sp.free / 2 / alignUp(boundBytes, SPAD_ALIGN)))) : 0;
  const hiRing = mode === 'bool' ? sp.ring(maskElems * 4, boundSlots, 'bool mask as +-inf') : undefined;
  const loRing = mode === 'bool' && fill !== -Infinity ? sp.ring(maskElems * 4, boundSlots, 'bool mask fill bound') : undefined;

  const colView = (addr: number, rows: number, cols: number): View => view('spad', addr, 'f32', [1, rows, cols], [0, 1, 0]);
  const colOf = (addr: number, rows: number): View => view('spad', addr, 'f32', [1, rows, 1]);

  dealt.forEach((mine, e) => {
    if (!mine.length) return;
    const prog = engines[e]!;
    if (causal) {
      // z = +inf then -inf, from whatever the scratchpad holds: x^0 = 1 for every x (NaN too).
      prog.push({ op: 'vec.scalar', fn: 'pows', dst: view('spad', z, 'f32', [zLen]), a: view('spad', z, 'f32', [zLen]), imm: 0 });
      prog.push({ op: 'vec.scalar', fn: 'muls', dst: view('spad', z, 'f32', [P0 + 1]), a: view('spad', z, 'f32', [P0 + 1]), imm: Infinity });
      prog.push({ op: 'vec.scalar', fn: 'muls', dst: view('spad', z + (P0 + 1) * 4, 'f32', [zLen - P0 - 1]), a: view('spad', z + (P0 + 1) * 4, 'f32', [zLen - P0 - 1]), imm: -Infinity });
    }
    const steps: { u: number; item: Item; j: number; maskAt: number; convert: boolean }[] = [];
    const slotKey: string[] = [];
    mine.forEach((ii, u) => {
      const item = items[ii]!;
      for (let j = 0; j < item.keyTiles; j++) {
        const t0 = j * T, tn = Math.min(T, Skv - t0);
        const maskAt = mask ? mask.addr + (item.b * ms[0]! + item.h0 * ms[1]! + item.i0 * ms[2]! + t0 * ms[3]!) * maskBytes : 0;
        const maskKey = mask ? `${maskAt}:${maskDims(item.hb * gs, item.tq, tn).join(',')}` : '';
        // A bool mask tile whose bounds its slot already holds is neither loaded nor converted again.
        const convert = mode !== 'bool' || slotKey[j % boundSlots] !== maskKey;
        if (mode === 'bool') slotKey[j % boundSlots] = maskKey;
        steps.push({ u, item, j, maskAt, convert });
      }
    });
    // V has its own tags (4, 5): it is needed only by the second matmul. The
    // first V is deferred (issued after the first wait) when the work before
    // P @ V (the scores' matmul and the softmax) hides a DMA latency.
    const first = steps[0]!.item;
    const tn0 = Math.min(T, Skv);
    const deferV = itemCycles({ ...first, keyTiles: 1 }) - mmCycles(first.hb, gs * first.tq, tn0, Dv) >= npu.dmaLatencyNs * npu.clockGHz;
    const loadV = (s: number) => {
      const { item, j } = steps[s]!;
      const { b, kvh, hb } = item;
      const t0 = j * T, tn = Math.min(T, Skv - t0);
      const kvRow = ((b % kb) * Hkv + kvh) * Skv + t0;
      prog.push({ op: 'dma.load', tag: 4 + (s % 2), dst: view('spad', vRing.slot(s), 'f16', [hb, tn, Dv]), src: view('dram', V.addr + kvRow * Dv * 2, 'f16', [hb, tn, Dv], [Skv * Dv, Dv, 1]) });
    };
    const loads = (s: number) => {
      const { u, item, j, maskAt, convert } = steps[s]!;
      const { b, kvh, hb, h0, i0, tq } = item;
      const heads = hb * gs;
      const t0 = j * T, tn = Math.min(T, Skv - t0);
      const kvRow = ((b % kb) * Hkv + kvh) * Skv + t0;
      prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', kRing.slot(s), 'f16', [hb, tn, D]), src: view('dram', K.addr + kvRow * D * 2, 'f16', [hb, tn, D], [Skv * D, D, 1]) });
      if (s > 0 || !deferV) loadV(s);
      if (mask && convert) {
        const dims = maskDims(heads, tq, tn);
        // A bool (i32) mask moves as f32 bits; vec reads f32 only.
        const dt = mask.dtype === 'f16' ? 'f16' : 'f32';
        prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', mRing!.slot(s), dt, dims), src: view('dram', maskAt, dt, dims, [ms[1]!, ms[2]!, ms[3]!]) });
      }
      if (j === 0) {
        const qRow = (b * Hq + h0) * Sq + i0;
        prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', qRing.slot(u), 'f16', [heads, tq, D]), src: view('dram', Q.addr + qRow * D * 2, 'f16', [heads, tq, D], [Sq * D, D, 1]) });
      }
    };
    loads(0);
    steps.forEach((st, s) => {
      const { u, item, j, convert } = st;
      const { b, hb, h0, i0, tq } = item;
      const heads = hb * gs;
      const R = gs * tq, rows = hb * R, t0 = j * T, tn = Math.min(T, Skv - t0);
      const first = j === 0, last = j === item.keyTiles - 1;
      const stream = streamRows(R, npu.arrayCols);
      prog.push({ op: 'wait.dma', tag: s % 2 });
      // The first V goes behind every engine's first K, mask and q in the
      // DRAM queue: compute starts sooner, V lands during the softmax.
      if (s === 0 && deferV) loadV(0);
      if (s + 1 < steps.length) loads(s + 1);
      const S2 = view('spad', S, 'f32', [1, rows, tn]);
      const S3 = view('spad', S, 'f32', [heads, tq, tn]);
      prog.push(batchedMatmul(S, 'f32', qRing.slot(u), kRing.slot(s), true, hb, R, D, tn, false, stream));
      prog.push({ op: 'vec.scalar', fn: 'muls', dst: S2, a: S2, imm: scale });
      if (mask) {
        const dims = maskDims(heads, tq, tn);
        // The loaded tile (contiguous, broadcast dims of size 1) read as [heads, tq, tn].
        const st3 = (addr: number, dt: 'f16' | 'f32'): View => view('spad', addr, dt, [heads, tq, tn], [ms[1] ? dims[1] * dims[2] : 0, ms[2] ? dims[2] : 0, ms[3] ? 1 : 0]);
        if (mode === 'add') {
          prog.push({ op: 'vec.binary', fn: 'add', dst: S3, a: S3, b: st3(mRing!.slot(s), 'f16') });
        } else {
          if (convert) {
            const mv = view('spad', mRing!.slot(s), 'f32', dims), hv = view('spad', hiRing!.slot(j), 'f32', dims), lv = view('spad', loRing ? loRing.slot(j) : 0, 'f32', dims);
            prog.push({ op: 'vec.scalar', fn: 'muls', dst: hv, a: mv, imm: 2 ** 100 });
            prog.push({ op: 'vec.scalar', fn: 'adds', dst: hv, a: hv, imm: -(2 ** -50) });
            if (fill !== -Infinity) {
              prog.push({ op: 'vec.scalar', fn: 'muls', dst: lv, a: hv, imm: -Infinity });
              prog.push({ op: 'vec.scalar', fn: 'mins', dst: lv, a: lv, imm: fill });
            }
            prog.push({ op: 'vec.scalar', fn: 'muls', dst: hv, a: hv, imm: Infinity });
            if (fill !== -Infinity) prog.push({ op: 'vec.scalar', fn: 'maxs', dst: hv, a: hv, imm: fill });
          }
          prog.push({ op: 'vec.binary', fn: 'min', dst: S3, a: S3, b: st3(hiRing!.slot(j), 'f32') });
          if (loRing) prog.push({ op: 'vec.binary', fn: 'max', dst: S3, a: S3, b: st3(loRing.slot(j), 'f32') });
        }
      }
      if (causal) {
        // Key t is hidden from row i when t - i > c.
        const c = Skv - Sq + i0 - t0;
        if (c < -(tq - 1)) prog.push({ op: 'vec.scalar', fn: 'mins', dst: S2, a: S2, imm: -Infinity });
        else if (c < tn - 1) {
          const base = P0 - tq + 1 - c;
          prog.push({ op: 'vec.binary', fn: 'min', dst: S3, a: S3, b: view('spad', z + (base + tq - 1) * 4, 'f32', [heads, tq, tn], [0, -1, 1]) });
        }
      }
      const mNew = mBuf[j % 2]!, mOld = mBuf[(j + 1) % 2]!;
      prog.push({ op: 'vec.reduce', fn: 'rmax', dst: colOf(mt, rows), a: S2 });
      if (first) prog.push({ op: 'vec.scalar', fn: 'maxs', dst: colOf(mNew, rows), a: colOf(mt, rows), imm: -FLT_MAX });
      else {
        prog.push({ op: 'vec.binary', fn: 'max', dst: colOf(mNew, rows), a: colOf(mOld, rows), b: colOf(mt, rows) });
        prog.push({ op: 'vec.binary', fn: 'sub', dst: colOf(alpha, rows), a: colOf(mOld, rows), b: colOf(mNew, rows) });
        prog.push({ op: 'vec.unary', fn: 'exp', dst: colOf(alpha, rows), a: colOf(alpha, rows) });
      }
      prog.push({ op: 'vec.binary', fn: 'sub', dst: S2, a: S2, b: colView(mNew, rows, tn) });
      const P2 = view('spad', P, 'f16', [1, rows, tn]);
      prog.push({ op: 'vec.unary', fn: 'exp', dst: P2, a: S2 });
      const O2 = view('spad', O, 'f32', [1, rows, Dv]);
      if (first) prog.push({ op: 'vec.reduce', fn: 'rsum', dst: colOf(l, rows), a: P2 });
      else {
        prog.push({ op: 'vec.reduce', fn: 'rsum', dst: colOf(lt, rows), a: P2 });
        prog.push({ op: 'vec.binary', fn: 'mul', dst: colOf(l, rows), a: colOf(l, rows), b: colOf(alpha, rows) });
        prog.push({ op: 'vec.binary', fn: 'add', dst: colOf(l, rows), a: colOf(l, rows), b: colOf(lt, rows) });
        prog.push({ op: 'vec.binary', fn: 'mul', dst: O2, a: O2, b: colView(alpha, rows, Dv) });
      }
      prog.push({ op: 'wait.dma', tag: 4 + (s % 2) });
      prog.push(batchedMatmul(O, 'f32', P, vRing.slot(s), false, hb, R, tn, Dv, !first, stream));
      if (!last) return;
      const o = u % 2;
      if (u >= 2) prog.push({ op: 'wait.dma', tag: 2 + o });
      const out = view('spad', outRing.slot(o), 'f16', [1, rows, Dv]);
      prog.push({ op: 'vec.binary', fn: 'div', dst: out, a: O2, b: colView(l, rows, Dv) });
      const yRow = (b * Hq + h0) * Sq + i0;
      prog.push({ op: 'dma.store', tag: 2 + o, dst: view('dram', Y.addr + yRow * Dv * 2, 'f16', [heads, tq, Dv], [Sq * Dv, Dv, 1]), src: view('spad', outRing.slot(o), 'f16', [heads, tq, Dv]) });
    });
    prog.push({ op: 'end' });
  });
  return { name, engines };
}

registerLowering('pimc', 'Attention', lowerAttention);
