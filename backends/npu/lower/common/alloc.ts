// Scratchpad allocation for one engine's program: a bump allocator over the
// engine's scratchpad (npu.scratchpadBytes), with rings of equal slots for
// double-buffered tiles. Every engine has its own scratchpad, so a lowering
// usually makes one Spad and uses the same addresses on every engine.
//
//   const sp = new Spad(ctx.op.name, ctx.npu.scratchpadBytes);
//   const acc = sp.alloc(tm * tn * 4, 'accumulator');    // byte address
//   const a = sp.ring(tm * tk * 2, 2, 'A tile');          // a.slot(i): address of slot i % 2
//
// A request that does not fit fails with PIMC1101 naming the op, what was
// being allocated, its bytes and what is already in use, so the user knows
// which tile to shrink (or which shape is too large for the NPU).

import { fail, q } from '../../../../ir/diagnostics.js';

/** Every allocation starts on this boundary (bytes): a DMA burst, and keeps f32 views aligned. */
export const SPAD_ALIGN = 64;

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export interface Ring {
  /** Address of slot i (taken modulo the slot count). */
  slot(i: number): number;
  readonly slots: number;
  readonly bytesPerSlot: number;
}

export class Spad {
  private top = 0;
  private readonly parts: string[] = [];

  constructor(
    readonly opName: string,
    readonly capacity: number,
  ) {}

  get used(): number {
    return this.top;
  }

  get free(): number {
    return this.capacity - this.top;
  }

  /** Whether `bytes` more (aligned) would still fit. */
  fits(bytes: number): boolean {
    return this.top + alignUp(bytes, SPAD_ALIGN) <= this.capacity;
  }

  /** A region of `bytes`; its byte address. */
  alloc(bytes: number, what: string): number {
    const size = alignUp(Math.max(bytes, 1), SPAD_ALIGN);
    if (this.top + size > this.capacity) {
      fail(
        'PIMC1101',
        `op ${q(this.opName)}: ${what} needs ${bytes} bytes of scratchpad but only ${this.capacity - this.top} of ${this.capacity} are left ` +
          `(in use: ${this.parts.join(', ') || 'nothing'}); use smaller tiles or split the op`,
      );
    }
    const a = this.top;
    this.top += size;
    this.parts.push(`${what} ${bytes} B`);
    return a;
  }

  /** `slots` regions of `bytes` each, used round-robin (double buffering: slots = 2). */
  ring(bytes: number, slots: number, what: string): Ring {
    const per = alignUp(Math.max(bytes, 1), SPAD_ALIGN);
    const base = this.alloc(per * slots, `${what} (${slots} x ${bytes} B)`);
    return { slot: (i) => base + (((i % slots) + slots) % slots) * per, slots, bytesPerSlot: per };
  }
}
