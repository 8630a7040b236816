// The host's FP16 conversion saturates finite values (an exporter's
// finfo(float32).min mask fill must not become -inf: 0 x -inf is NaN).
import { expect, it } from 'vitest';
import { Tensor } from '../../ir/tensor.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import { NpuMemory } from '../../runtime-sim/npu/memory.js';
import { writeDram } from './model-inputs.js';

it('writes finite values beyond the FP16 range as +-65504, keeps infinities, NaN and ordinary values', () => {
  const mem = new NpuMemory(loadHardware('npu'));
  const t = Tensor.from('f32', [6], [-3.4028234663852886e38, 1e6, -Infinity, Infinity, Number.NaN, 0.1]);
  writeDram(mem, { addr: 0, dtype: 'f16', shape: [6] }, t);
  const back = [...mem.readF16(0, 6)];
  expect(back.slice(0, 4)).toEqual([-65504, 65504, -Infinity, Infinity]);
  expect(back[4]).toBeNaN();
  expect(back[5]).toBeCloseTo(0.1, 3);
});
