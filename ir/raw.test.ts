import { describe, expect, it } from 'vitest';
import { tensorFromRaw, tensorToRaw } from './raw.js';
import { Tensor } from './tensor.js';

describe('tensorFromRaw', () => {
  const values = [1.5, -2.25, 3e-39, Infinity, -0, NaN];
  const raw = () => tensorToRaw(Tensor.from('f32', [2, 3], values));

  it('uses a whole float32 buffer in place', () => {
    const bytes = raw();
    const t = tensorFromRaw('f32', [2, 3], bytes);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(t.data.buffer).toBe(bytes.buffer);
    expect(Array.from(t.data)).toEqual(Array.from(new Float32Array(values)));
  });

  it('copies float32 bytes inside a larger buffer (aligned or not)', () => {
    for (const at of [4, 5]) {
      const big = new Uint8Array(at + 24 + 3);
      big.set(raw(), at);
      const bytes = big.subarray(at, at + 24);
      const t = tensorFromRaw('f32', [2, 3], bytes);
      expect(t.data.buffer).not.toBe(big.buffer);
      expect(Array.from(t.data)).toEqual(Array.from(new Float32Array(values)));
      big.fill(0);
      expect(Array.from(t.data)).toEqual(Array.from(new Float32Array(values)));
    }
  });

  it('keeps NaN payloads bit for bit', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, 0x7fc00123, true);
    new DataView(bytes.buffer).setUint32(4, 0xffa00001, true);
    for (const b of [bytes, (() => { const c = new Uint8Array(12); c.set(bytes, 4); return c.subarray(4); })()]) {
      const t = tensorFromRaw('f32', [2], b);
      expect(Array.from(new Uint32Array((t.data as Float32Array).slice().buffer))).toEqual([0x7fc00123, 0xffa00001]);
    }
  });
});
