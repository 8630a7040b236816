// Selecting, comparing and converting (backends/npu/lower/misc/select.ts):
// Clip, Where, Equal, Greater, Less and Cast/CastLike are exact (bit-for-bit
// the reference's values: min/max of f16 values, selections by exact
// +-inf masks, booleans from exact differences, integers through exact
// scalings), except Cast to a float type, which rounds once to f16 storage
// (f16Bound with E = 0, common.ts).

import { isFloat } from '../../../ir/dtype.js';
import { EXACT, f16Bound } from './common.js';
import { registerBound, type BoundContext, type ElementBound } from './registry.js';

for (const type of ['Clip', 'Where', 'Equal', 'Greater', 'Less']) registerBound('', type, () => EXACT);

/**
 * To a float: the one f16 rounding of the store. (This holds for any float
 * target the lowering takes: float -> float copies stored f16 values, which
 * every float type holds; int/bool -> float converts integers below 2^24,
 * which f32 and f64 hold exactly and which the reference rounds to f16 as the
 * store does.)
 */
const cast = (c: BoundContext): ElementBound => {
  const w = c.want[0]!;
  if (!isFloat(w.dtype)) return EXACT;
  return (_o, i) => f16Bound(w.data[i]!);
};
registerBound('', 'Cast', cast);
registerBound('', 'CastLike', cast);
