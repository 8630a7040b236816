// Data movement and gather (backends/npu/lower/misc/movement.ts, gather.ts):
// DMA copies of the stored values, no arithmetic, so the NPU's results are
// bit-for-bit the reference's: bound 0. (Expand of f16 data goes through a
// vector-unit copy, f16 to f16: exact too.)

import { EXACT } from './common.js';
import { registerBound } from './registry.js';

for (const type of ['Identity', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Transpose', 'Concat', 'Split', 'Slice', 'Expand', 'Gather']) {
  registerBound('', type, () => EXACT);
}
registerBound('pimc', 'KvAppend', () => EXACT);
