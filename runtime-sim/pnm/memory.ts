// The expander's memory (pnm.capacityGiB, 512 GiB by default): sparse 64 KiB
// pages allocated on first write, unwritten bytes read as zero, so a KV
// cache of gigabytes that a timing run never writes costs nothing. f16 is
// stored as IEEE half bits, rounded to nearest even.

import { fail } from '../../ir/diagnostics.js';
import { DTYPE_BYTES, type PnmDtype } from '../../backends/cxl-pnm/instr.js';
import { F16_VALUE, f16, f16BitsOf } from '../hbm/fp16.js';
import type { Hardware } from '../hardware/types.js';
import type { PnmMemoryApi } from './api.js';

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

/** A value rounded as a store of `dtype` rounds it (i32: truncated toward zero, saturated, NaN to 0). */
export function roundTo(dtype: PnmDtype, v: number): number {
  if (dtype === 'f16') return f16(v);
  if (dtype === 'f32') return Math.fround(v);
  return v !== v ? 0 : Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(v)));
}

export class PnmMemory implements PnmMemoryApi {
  readonly bytes: number;
  private readonly pages = new Map<number, Page>();
  // One-entry cache: views are walked mostly within a page.
  private lastNo = -1;
  private last: Page | undefined;

  constructor(hw: Hardware) {
    if (!hw.pnm) fail('PIMC1204', `hardware ${JSON.stringify(hw.name)} has no CXL-PNM device ("pnm" section); pick npu+hbm-pim+cxl-pnm`);
    this.bytes = Math.round(hw.pnm.capacityGiB * 2 ** 30);
  }

  get allocatedPages(): number {
    return this.pages.size;
  }

  private page(addr: number, write: boolean): Page | undefined {
    const n = Math.floor(addr / PAGE_BYTES);
    if (n === this.lastNo) return this.last;
    let p = this.pages.get(n);
    if (!p) {
      if (!write) return undefined;
      this.pages.set(n, (p = newPage()));
    }
    this.lastNo = n;
    this.last = p;
    return p;
  }

  /** The element at an aligned, in-bounds byte address (the simulator checked both), f16 widened exactly. */
  get(addr: number, dtype: PnmDtype): number {
    const p = this.page(addr, false);
    if (!p) return 0;
    const o = addr % PAGE_BYTES;
    return dtype === 'f16' ? F16_VALUE[p.u16[o >>> 1]!]! : dtype === 'f32' ? p.f32[o >>> 2]! : p.i32[o >>> 2]!;
  }

  /** Stores `value` rounded to `dtype`. */
  set(addr: number, dtype: PnmDtype, value: number): void {
    const r = roundTo(dtype, value);
    const p = this.page(addr, r !== 0 || Object.is(r, -0));
    if (!p) return; // +0 into an unwritten page: already zero
    const o = addr % PAGE_BYTES;
    if (dtype === 'f16') p.u16[o >>> 1] = f16BitsOf(r);
    else if (dtype === 'f32') p.f32[o >>> 2] = r;
    else p.i32[o >>> 2] = r;
  }

  /** Raw element bits (2 or 4 bytes): moves copy bits, never values. */
  getRaw(addr: number, size: number): number {
    const p = this.page(addr, false);
    if (!p) return 0;
    const o = addr % PAGE_BYTES;
    return size === 2 ? p.u16[o >>> 1]! : p.u32[o >>> 2]!;
  }

  setRaw(addr: number, size: number, bits: number): void {
    const p = this.page(addr, bits !== 0);
    if (!p) return;
    const o = addr % PAGE_BYTES;
    if (size === 2) p.u16[o >>> 1] = bits;
    else p.u32[o >>> 2] = bits;
  }

  // ---- host side (not timed: the runtime charges linkTransfer for it) ----

  private hostCheck(addr: number, count: number, dtype: PnmDtype, what: string): void {
    const e = DTYPE_BYTES[dtype];
    const end = addr + count * e;
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(count) || addr < 0 || count < 0 || end > this.bytes) {
      fail('PIMC1201', `host ${what} of bytes ${addr}..${end - 1} is outside the CXL-PNM device (${this.bytes} bytes)`);
    }
    if (addr % e) fail('PIMC1201', `host ${what} at byte ${addr} is not aligned to its ${e}-byte ${dtype} elements`);
  }

  write(addr: number, dtype: PnmDtype, values: ArrayLike<number>): void {
    this.hostCheck(addr, values.length, dtype, 'write');
    const e = DTYPE_BYTES[dtype];
    for (let i = 0; i < values.length; i++) this.set(addr + i * e, dtype, values[i]!);
  }

  read(addr: number, dtype: PnmDtype, count: number): Float64Array {
    this.hostCheck(addr, count, dtype, 'read');
    const e = DTYPE_BYTES[dtype];
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.get(addr + i * e, dtype);
    return out;
  }

  writeF16(addr: number, values: ArrayLike<number>): void {
    this.write(addr, 'f16', values);
  }
  readF16(addr: number, count: number): Float32Array {
    return Float32Array.from(this.read(addr, 'f16', count));
  }
  writeF32(addr: number, values: ArrayLike<number>): void {
    this.write(addr, 'f32', values);
  }
  readF32(addr: number, count: number): Float32Array {
    return Float32Array.from(this.read(addr, 'f32', count));
  }
  writeI32(addr: number, values: ArrayLike<number>): void {
    this.write(addr, 'i32', values);
  }
  readI32(addr: number, count: number): Int32Array {
    return Int32Array.from(this.read(addr, 'i32', count));
  }
}
