// The NPU's memories (instr.ts, machine model): DRAM (memory.capacityGiB),
// the shared SRAM (npu.sharedSramBytes) and one scratchpad per engine
// (npu.scratchpadBytes). All are sparse: 64 KiB pages allocated on first
// write, unwritten bytes read as zero, so a 24 GiB DRAM costs only what a
// kernel touches. f16 is stored as IEEE half bits (rounded to nearest even).

import { fail } from '../../ir/diagnostics.js';
import type { NpuDtype, Space } from '../../backends/npu/instr.js';
import { DTYPE_BYTES } from '../../backends/npu/instr.js';
import { F16_VALUE, f16, f16BitsOf } from '../hbm/fp16.js';
import type { Hardware } from '../hardware/types.js';
import type { NpuMemoryApi } from './api.js';

export const PAGE_BYTES = 65536;

interface Page {
  u16: Uint16Array;
  u32: Uint32Array;
  f32: Float32Array;
  i32: Int32Array;
}

function newPage(): Page {
  const buf = new ArrayBuffer(PAGE_BYTES);
  return { u16: new Uint16Array(buf), u32: new Uint32Array(buf), f32: new Float32Array(buf), i32: new Int32Array(buf) };
}

/** f32 value -> f16 bits, rounded to nearest even. */
export const toF16Bits = (x: number): number => f16BitsOf(f16(x));

/**
 * toF16Bits of a float32 given as its bits, by integer rounding where that is
 * plain: a zero, or a float32 that rounds to a normal FP16 or overflows to
 * infinity (exponent 2^-14 .. 2^15: the 13 dropped mantissa bits round to
 * nearest even, a carry moves into the exponent, past 2^15 to infinity).
 * -1 elsewhere (subnormal results, infinities, NaN): toF16Bits decides.
 */
export function f16BitsOfF32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  if (e >= 113 && e <= 142) {
    const h = ((e - 112) << 10) | ((b >>> 13) & 0x3ff);
    const rest = b & 0x1fff;
    return sign | (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? h + 1 : h);
  }
  return (b & 0x7fffffff) === 0 ? sign : -1;
}

/**
 * One memory. Element accessors take byte addresses aligned to the element
 * size (the simulator checks alignment and bounds before it calls them), so
 * no element straddles a page.
 */
export class PagedStore {
  private readonly pages: (Page | undefined)[] = [];
  constructor(readonly name: string, readonly bytes: number) {}

  /** Pages allocated so far (for tests of sparseness). */
  get allocatedPages(): number {
    return this.pages.reduce((n, p) => n + (p ? 1 : 0), 0);
  }

  private page(addr: number, write: boolean): Page | undefined {
    const n = Math.floor(addr / PAGE_BYTES);
    let p = this.pages[n];
    if (!p && write) p = this.pages[n] = newPage();
    return p;
  }

  /** The element's value as a number (f16 widened exactly). */
  get(addr: number, dtype: NpuDtype): number {
    const p = this.page(addr, false);
    if (!p) return 0;
    const o = addr % PAGE_BYTES;
    return dtype === 'f16' ? F16_VALUE[p.u16[o >>> 1]!]! : dtype === 'f32' ? p.f32[o >>> 2]! : p.i32[o >>> 2]!;
  }

  /** Writes `value` rounded to `dtype` (i32: truncated toward zero, saturated). */
  set(addr: number, dtype: NpuDtype, value: number): void {
    const p = this.page(addr, true)!;
    const o = addr % PAGE_BYTES;
    if (dtype === 'f16') p.u16[o >>> 1] = toF16Bits(value);
    else if (dtype === 'f32') p.f32[o >>> 2] = value;
    else p.i32[o >>> 2] = value !== value ? 0 : Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(value)));
  }

  /** Raw element bits (2 or 4 bytes): DMAs copy bits, never values. */
  getRaw(addr: number, size: number): number {
    const p = this.page(addr, false);
    if (!p) return 0;
    const o = addr % PAGE_BYTES;
    return size === 2 ? p.u16[o >>> 1]! : p.u32[o >>> 2]!;
  }

  /**
   * Host bulk write of values as `dtype` from `addr` (aligned, in bounds):
   * page by page in typed loops, the same roundings as set() per element.
   */
  setMany(addr: number, dtype: NpuDtype, values: ArrayLike<number>): void {
    const e = DTYPE_BYTES[dtype];
    let i = 0;
    while (i < values.length) {
      const at = addr + i * e;
      const o = at % PAGE_BYTES;
      const n = Math.min(values.length - i, (PAGE_BYTES - o) / e);
      const p = this.page(at, true)!;
      if (dtype === 'f16' && values instanceof Float32Array) f32ToF16(values, i, n, p.u16, o >>> 1);
      else if (dtype === 'f16') for (let k = 0, w = o >>> 1; k < n; k++) p.u16[w + k] = toF16Bits(values[i + k]!);
      else if (dtype === 'f32') for (let k = 0, w = o >>> 2; k < n; k++) p.f32[w + k] = values[i + k]!;
      else for (let k = 0, w = o >>> 2; k < n; k++) { const v = values[i + k]!; p.i32[w + k] = v !== v ? 0 : Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(v))); }
      i += n;
    }
  }

  /** Host bulk read of `out.length` raw 16-bit elements (f16 bits) from `addr` (aligned, in bounds). */
  getRaw16Many(addr: number, out: Uint16Array): void {
    let i = 0;
    while (i < out.length) {
      const at = addr + i * 2;
      const o = at % PAGE_BYTES;
      const n = Math.min(out.length - i, (PAGE_BYTES - o) / 2);
      const p = this.page(at, false);
      if (!p) out.fill(0, i, i + n);
      else out.set(p.u16.subarray(o >>> 1, (o >>> 1) + n), i);
      i += n;
    }
  }

  /** Host bulk read of `out.length` elements as `dtype` from `addr` (aligned, in bounds): as get() per element. */
  getMany(addr: number, dtype: NpuDtype, out: Float32Array | Int32Array): void {
    const e = DTYPE_BYTES[dtype];
    let i = 0;
    while (i < out.length) {
      const at = addr + i * e;
      const o = at % PAGE_BYTES;
      const n = Math.min(out.length - i, (PAGE_BYTES - o) / e);
      const p = this.page(at, false);
      if (!p) out.fill(0, i, i + n);
      else if (dtype === 'f16') for (let k = 0, w = o >>> 1; k < n; k++) out[i + k] = F16_VALUE[p.u16[w + k]!]!;
      else if (dtype === 'f32') for (let k = 0, w = o >>> 2; k < n; k++) out[i + k] = p.f32[w + k]!;
      else for (let k = 0, w = o >>> 2; k < n; k++) out[i + k] = p.i32[w + k]!;
      i += n;
    }
  }

  /** Raw bits of `n` consecutive elements of `size` bytes from `addr` into out[at..]: getRaw per element. */
  getRawRun(addr: number, size: number, n: number, out: Uint16Array | Uint32Array, at: number): void {
    let i = 0;
    while (i < n) {
      const a = addr + i * size;
      const o = a % PAGE_BYTES;
      const len = Math.min(n - i, (PAGE_BYTES - o) / size);
      const p = this.page(a, false);
      if (!p) out.fill(0, at + i, at + i + len);
      else {
        const src = size === 2 ? p.u16 : p.u32;
        const w = size === 2 ? o >>> 1 : o >>> 2;
        for (let k = 0; k < len; k++) out[at + i + k] = src[w + k]!;
      }
      i += len;
    }
  }

  /** Raw bits src[at..at+n) to `n` consecutive elements from `addr`: setRaw per element (zeros allocate no page). */
  setRawRun(addr: number, size: number, n: number, src: Uint16Array | Uint32Array, at: number): void {
    let i = 0;
    while (i < n) {
      const a = addr + i * size;
      const o = a % PAGE_BYTES;
      const len = Math.min(n - i, (PAGE_BYTES - o) / size);
      let p = this.page(a, false);
      if (!p) {
        let any = false;
        for (let k = 0; k < len && !any; k++) any = src[at + i + k] !== 0;
        if (any) p = this.page(a, true);
      }
      if (p) {
        const dst = size === 2 ? p.u16 : p.u32;
        const w = size === 2 ? o >>> 1 : o >>> 2;
        for (let k = 0; k < len; k++) dst[w + k] = src[at + i + k]!;
      }
      i += len;
    }
  }

  /** `n` consecutive elements from `addr` as values into out[at..]: get() per element. */
  getValues(addr: number, dtype: NpuDtype, n: number, out: Float64Array, at: number): void {
    const e = DTYPE_BYTES[dtype];
    let i = 0;
    while (i < n) {
      const a = addr + i * e;
      const o = a % PAGE_BYTES;
      const len = Math.min(n - i, (PAGE_BYTES - o) / e);
      const p = this.page(a, false);
      if (!p) out.fill(0, at + i, at + i + len);
      else if (dtype === 'f16') for (let k = 0, w = o >>> 1; k < len; k++) out[at + i + k] = F16_VALUE[p.u16[w + k]!]!;
      else if (dtype === 'f32') for (let k = 0, w = o >>> 2; k < len; k++) out[at + i + k] = p.f32[w + k]!;
      else for (let k = 0, w = o >>> 2; k < len; k++) out[at + i + k] = p.i32[w + k]!;
      i += len;
    }
  }

  setRaw(addr: number, size: number, bits: number): void {
    const p = this.page(addr, bits !== 0);
    if (!p) return; // zero into an unallocated page: nothing to do
    const o = addr % PAGE_BYTES;
    if (size === 2) p.u16[o >>> 1] = bits;
    else p.u32[o >>> 2] = bits;
  }
}

/** dst[d..d+n) = toF16Bits(src[s..s+n)) for float32 values: by their bits (f16BitsOfF32Bits), the rest by value. */
function f32ToF16(src: Float32Array, s: number, n: number, dst: Uint16Array, d: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let k = 0; k < n; k++) {
    const h = f16BitsOfF32Bits(bits[s + k]!);
    dst[d + k] = h >= 0 ? h : toF16Bits(src[s + k]!);
  }
}

export const SPACE_NAME: Record<Space, string> = { dram: 'DRAM', shared: 'shared SRAM', spad: 'scratchpad' };

export class NpuMemory implements NpuMemoryApi {
  readonly dramBytes: number;
  readonly sharedBytes: number;
  readonly scratchpadBytes: number;
  readonly dram: PagedStore;
  readonly shared: PagedStore;
  readonly scratchpads: PagedStore[];

  constructor(hw: Hardware) {
    if (!hw.npu) fail('PIMC1009', `hardware ${JSON.stringify(hw.name)} has no NPU ("npu" section); pick a preset with one`);
    this.dramBytes = Math.round(hw.memory.capacityGiB * 2 ** 30);
    this.sharedBytes = hw.npu.sharedSramBytes;
    this.scratchpadBytes = hw.npu.scratchpadBytes;
    this.dram = new PagedStore('DRAM', this.dramBytes);
    this.shared = new PagedStore('shared SRAM', this.sharedBytes);
    this.scratchpads = Array.from({ length: hw.npu.engines }, (_, e) => new PagedStore(`scratchpad of engine ${e}`, this.scratchpadBytes));
  }

  /** The store a view in `space` of `engine` lives in. */
  store(space: Space, engine: number): PagedStore {
    if (space === 'dram') return this.dram;
    if (space === 'shared') return this.shared;
    const s = this.scratchpads[engine];
    if (!s) throw new Error(`internal: no scratchpad for engine ${engine}`);
    return s;
  }

  /** Host-side write of `values` as `dtype` at a byte address (any memory). */
  write(space: Space, engine: number, addr: number, dtype: NpuDtype, values: ArrayLike<number>): void {
    const s = this.store(space, engine);
    const e = DTYPE_BYTES[dtype];
    this.hostCheck(s, addr, values.length * e, e, 'write');
    s.setMany(addr, dtype, values);
  }

  /** Host-side read of `count` elements (f16 widened to f32). */
  read(space: Space, engine: number, addr: number, dtype: 'f16' | 'f32', count: number): Float32Array;
  read(space: Space, engine: number, addr: number, dtype: 'i32', count: number): Int32Array;
  read(space: Space, engine: number, addr: number, dtype: NpuDtype, count: number): Float32Array | Int32Array {
    const s = this.store(space, engine);
    const e = DTYPE_BYTES[dtype];
    this.hostCheck(s, addr, count * e, e, 'read');
    const out = dtype === 'i32' ? new Int32Array(count) : new Float32Array(count);
    s.getMany(addr, dtype, out);
    return out;
  }

  private hostCheck(s: PagedStore, addr: number, bytes: number, align: number, what: string): void {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(bytes) || addr < 0 || bytes < 0 || addr + bytes > s.bytes) {
      fail('PIMC1001', `host ${what} of bytes ${addr}..${addr + bytes - 1} is outside the ${s.name} (${s.bytes} bytes)`);
    }
    if (addr % align) fail('PIMC1001', `host ${what} at byte ${addr} of the ${s.name} is not aligned to its ${align}-byte elements`);
  }

  writeF16(addr: number, values: ArrayLike<number>): void {
    this.write('dram', 0, addr, 'f16', values);
  }
  readF16(addr: number, count: number): Float32Array {
    return this.read('dram', 0, addr, 'f16', count);
  }
  readF16Bits(addr: number, count: number, out = new Uint16Array(count)): Uint16Array {
    const s = this.dram;
    this.hostCheck(s, addr, count * 2, 2, 'read');
    s.getRaw16Many(addr, out.length === count ? out : out.subarray(0, count));
    return out;
  }
  writeF32(addr: number, values: ArrayLike<number>): void {
    this.write('dram', 0, addr, 'f32', values);
  }
  readF32(addr: number, count: number): Float32Array {
    return this.read('dram', 0, addr, 'f32', count);
  }
  writeI32(addr: number, values: ArrayLike<number>): void {
    this.write('dram', 0, addr, 'i32', values);
  }
  readI32(addr: number, count: number): Int32Array {
    return this.read('dram', 0, addr, 'i32', count);
  }
}

/** A memory for `hw` (same as `new NpuMemory(hw)`). */
export const createNpuMemory = (hw: Hardware): NpuMemory => new NpuMemory(hw);
