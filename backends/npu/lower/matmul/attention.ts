// pimc.Attention on the NPU: one fused flash-attention kernel (online
// softmax), the [sq, skv] score matrix never materialised beyond one tile.
//
// Work items are (batch, kv head, group block, query tile); the query heads
// that share a kv head (grouped-query attention) are stacked as rows of one
// tile, so each K/V tile is loaded once for the whole group (decode: sq = 1,
// a group of g heads is a g-row tile). Items are dealt to the engines by
// their cost. Per item, over its key tiles (causal: only tiles with a
// visible key), with DMA of the next key tile (K, V, mask) overlapping
// compute of this one (two ring slots, one tag per slot):
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
// finite: S = max(min(S, hi), lo) keeps S or gives the fill. Causal
// diagonal tiles take min(S, z) with z a per-engine vector of +inf then
// -inf read through a Toeplitz view (strides [0, -1, 1]): element (i, t)
// reads z at an index that grows with t - i, so one vec op masks the tile.
// Broadcast mask dims are loaded once and read with stride 0.

import { fail, q } from '../../../../ir/diagnostics.js';
import { broadcastStrides } from '../../../../ir/ops/support.js';
import { view, type Instr, type NpuProgram, type View } from '../../instr.js';
import { Spad } from '../common/alloc.js';
import { matmulInstr, streamRows, type MatRef } from '../common/matrix.js';
import { ceilDiv, dealItems } from '../common/tiling.js';
import { registerLowering } from '../registry.js';
import type { LowerContext } from '../types.js';
import { f16Input } from './operands.js';

const ROWS_MAX = 128;
/** Keys per tile (a tile of K, V and scores): the tests bound the rescaling error by the tile count. */
export const KEYS_MAX = 128;
const FLT_MAX = 3.4028234663852886e38;

interface Item {
  b: number;
  kvh: number;
  h0: number;
  i0: number;
  tq: number;
  keyTiles: number;
}

const spadMat = (addr: number, dtype: 'f16' | 'f32', cols: number): MatRef => ({ space: 'spad', addr, dtype, rs: cols, cs: 1 });

function attr(ctx: LowerContext, name: string): number | string | undefined {
  const a = ctx.op.attrs.get(name);
  return a && (a.kind === 'int' || a.kind === 'float' || a.kind === 'string') ? a.value : undefined;
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

  // 1. Tiles: the group's heads stacked (up to 64 of them), query tiles of ROWS_MAX rows in all.
  const gs = group <= 64 ? group : 1;
  const tqMax = Math.min(Sq, Math.max(1, Math.floor(ROWS_MAX / gs)));
  const rowsMax = gs * tqMax;
  const T = Math.min(Skv, KEYS_MAX);
  const items: Item[] = [];
  for (let b = 0; b < B; b++) {
    for (let kvh = 0; kvh < Hkv; kvh++) {
      for (let hb = 0; hb < group / gs; hb++) {
        for (let i0 = 0; i0 < Sq; i0 += tqMax) {
          const tq = Math.min(tqMax, Sq - i0);
          // Causal: the last row sees keys up to i0 + tq - 1 + Skv - Sq; at least one tile (an all-hidden row gives NaN, as the reference).
          const visible = causal ? Math.min(Skv, i0 + tq + Skv - Sq) : Skv;
          items.push({ b, kvh, h0: kvh * group + hb * gs, i0, tq, keyTiles: Math.max(1, ceilDiv(visible, T)) });
        }
      }
    }
  }
  const dealt = dealItems(items.length, npu.engines, (i) => items[i]!.keyTiles * (items[i]!.tq * gs + 64));

  // 2. Scratchpad (the same layout on every engine).
  const sp = new Spad(op.name, npu.scratchpadBytes);
  const P0 = T + tqMax; // z[p] = +inf for p <= P0, -inf after
  const zLen = 2 * P0 + 2;
  const z = causal ? sp.alloc(zLen * 4, 'causal mask vector') : 0;
  const qRing = sp.ring(rowsMax * D * 2, 2, `q tile [${rowsMax}, ${D}]`);
  const kRing = sp.ring(T * D * 2, 2, `k tile [${T}, ${D}]`);
  const vRing = sp.ring(T * Dv * 2, 2, `v tile [${T}, ${Dv}]`);
  // A mask tile as loaded: broadcast dims (stride 0) are loaded once.
  const maskDims = (tq: number, tn: number): [number, number, number] => [ms[1] ? gs : 1, ms[2] ? tq : 1, ms[3] ? tn : 1];
  const maskElems = mask ? maskDims(tqMax, T).reduce((p, d) => p * d, 1) : 0;
  const mRing = mask ? sp.ring(maskElems * maskBytes, 2, 'mask tile') : undefined;
  const hiBuf = mode === 'bool' ? sp.alloc(maskElems * 4, 'bool mask as +-inf') : 0;
  const loBuf = mode === 'bool' && fill !== -Infinity ? sp.alloc(maskElems * 4, 'bool mask fill bound') : 0;
  const S = sp.alloc(rowsMax * T * 4, `f32 scores [${rowsMax}, ${T}]`);
  const P = sp.alloc(rowsMax * T * 2, `f16 probabilities [${rowsMax}, ${T}]`);
  const O = sp.alloc(rowsMax * Dv * 4, `f32 output accumulator [${rowsMax}, ${Dv}]`);
  const outRing = sp.ring(rowsMax * Dv * 2, 2, `f16 output tile [${rowsMax}, ${Dv}]`);
  const mBuf = [sp.alloc(rowsMax * 4, 'running max'), sp.alloc(rowsMax * 4, 'running max')];
  const col = (what: string) => sp.alloc(rowsMax * 4, what);
  const mt = col('tile max'), alpha = col('rescale factor'), l = col('running sum'), lt = col('tile sum');

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
    const steps: { u: number; item: Item; j: number }[] = [];
    mine.forEach((ii, u) => {
      for (let j = 0; j < items[ii]!.keyTiles; j++) steps.push({ u, item: items[ii]!, j });
    });
    const loads = (s: number) => {
      const { u, item, j } = steps[s]!;
      const { b, kvh, h0, i0, tq } = item;
      const t0 = j * T, tn = Math.min(T, Skv - t0);
      const kvRow = ((b % kb) * Hkv + kvh) * Skv + t0;
      prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', kRing.slot(s), 'f16', [tn, D]), src: view('dram', K.addr + kvRow * D * 2, 'f16', [tn, D]) });
      prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', vRing.slot(s), 'f16', [tn, Dv]), src: view('dram', V.addr + kvRow * Dv * 2, 'f16', [tn, Dv]) });
      if (mask) {
        const dims = maskDims(tq, tn);
        const at = mask.addr + (b * ms[0]! + h0 * ms[1]! + i0 * ms[2]! + t0 * ms[3]!) * maskBytes;
        // A bool (i32) mask moves as f32 bits; vec reads f32 only.
        const dt = mask.dtype === 'f16' ? 'f16' : 'f32';
        prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', mRing!.slot(s), dt, dims), src: view('dram', at, dt, dims, [ms[1]!, ms[2]!, ms[3]!]) });
      }
      if (j === 0) {
        const qRow = (b * Hq + h0) * Sq + i0;
        prog.push({ op: 'dma.load', tag: s % 2, dst: view('spad', qRing.slot(u), 'f16', [gs, tq, D]), src: view('dram', Q.addr + qRow * D * 2, 'f16', [gs, tq, D], [Sq * D, D, 1]) });
      }
    };
    loads(0);
    steps.forEach((st, s) => {
      const { u, item, j } = st;
      const { b, h0, i0, tq } = item;
      const rows = gs * tq, t0 = j * T, tn = Math.min(T, Skv - t0);
      const first = j === 0, last = j === item.keyTiles - 1;
      const stream = streamRows(rows, npu.arrayCols);
      prog.push({ op: 'wait.dma', tag: s % 2 });
      if (s + 1 < steps.length) loads(s + 1);
      const Sm = spadMat(S, 'f32', tn);
      const S2 = view('spad', S, 'f32', [1, rows, tn]);
      const S3 = view('spad', S, 'f32', [gs, tq, tn]);
      const kT: MatRef = { space: 'spad', addr: kRing.slot(s), dtype: 'f16', rs: 1, cs: D };
      prog.push(matmulInstr(Sm, spadMat(qRing.slot(u), 'f16', D), kT, rows, D, tn, false, stream));
      prog.push({ op: 'vec.scalar', fn: 'muls', dst: S2, a: S2, imm: scale });
      if (mask) {
        const dims = maskDims(tq, tn);
        // The loaded tile (contiguous, broadcast dims of size 1) read as [gs, tq, tn].
        const st3 = (addr: number, dt: 'f16' | 'f32'): View => view('spad', addr, dt, [gs, tq, tn], [ms[1] ? dims[1] * dims[2] : 0, ms[2] ? dims[2] : 0, ms[3] ? 1 : 0]);
        if (mode === 'add') {
          prog.push({ op: 'vec.binary', fn: 'add', dst: S3, a: S3, b: st3(mRing!.slot(s), 'f16') });
        } else {
          const mv = view('spad', mRing!.slot(s), 'f32', dims), hv = view('spad', hiBuf, 'f32', dims), lv = view('spad', loBuf, 'f32', dims);
          prog.push({ op: 'vec.scalar', fn: 'muls', dst: hv, a: mv, imm: 2 ** 100 });
          prog.push({ op: 'vec.scalar', fn: 'adds', dst: hv, a: hv, imm: -(2 ** -50) });
          if (fill !== -Infinity) {
            prog.push({ op: 'vec.scalar', fn: 'muls', dst: lv, a: hv, imm: -Infinity });
            prog.push({ op: 'vec.scalar', fn: 'mins', dst: lv, a: lv, imm: fill });
          }
          prog.push({ op: 'vec.scalar', fn: 'muls', dst: hv, a: hv, imm: Infinity });
          if (fill !== -Infinity) prog.push({ op: 'vec.scalar', fn: 'maxs', dst: hv, a: hv, imm: fill });
          prog.push({ op: 'vec.binary', fn: 'min', dst: S3, a: S3, b: st3(hiBuf, 'f32') });
          if (fill !== -Infinity) prog.push({ op: 'vec.binary', fn: 'max', dst: S3, a: S3, b: st3(loBuf, 'f32') });
        }
      }
      if (causal) {
        // Key t is hidden from row i when t - i > c.
        const c = Skv - Sq + i0 - t0;
        if (c < -(tq - 1)) prog.push({ op: 'vec.scalar', fn: 'mins', dst: S2, a: S2, imm: -Infinity });
        else if (c < tn - 1) {
          const base = P0 - tq + 1 - c;
          prog.push({ op: 'vec.binary', fn: 'min', dst: S3, a: S3, b: view('spad', z + (base + tq - 1) * 4, 'f32', [gs, tq, tn], [0, -1, 1]) });
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
      prog.push(matmulInstr(spadMat(O, 'f32', Dv), spadMat(P, 'f16', tn), spadMat(vRing.slot(s), 'f16', Dv), rows, tn, Dv, !first, stream));
      if (!last) return;
      const o = u % 2;
      if (u >= 2) prog.push({ op: 'wait.dma', tag: 2 + o });
      const out = view('spad', outRing.slot(o), 'f16', [1, rows, Dv]);
      prog.push({ op: 'vec.binary', fn: 'div', dst: out, a: O2, b: colView(l, rows, Dv) });
      const yRow = (b * Hq + h0) * Sq + i0;
      prog.push({ op: 'dma.store', tag: 2 + o, dst: view('dram', Y.addr + yRow * Dv * 2, 'f16', [gs, tq, Dv], [Sq * Dv, Dv, 1]), src: view('spad', outRing.slot(o), 'f16', [gs, tq, Dv]) });
    });
    prog.push({ op: 'end' });
  });
  return { name, engines };
}

registerLowering('pimc', 'Attention', lowerAttention);
