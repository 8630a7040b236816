// pimc.Rope (backends/npu/lower/misc/rope.ts), both pairings, cos/sin
// broadcast over batch and heads. Bound: the reference rounds x*cos and
// rot(x)*sin to f32 and sums them (rounded to f32 again); the NPU does the
// same three fp32 operations (rot's negation folded into a subtraction,
// exact), so its fp32 value is the reference's: E = 0, only the f16 rounding
// of the store (f16Bound, common.ts).

import { storeBound } from './common.js';
import { registerBound } from './registry.js';

registerBound('pimc', 'Rope', (c) => storeBound(c));
