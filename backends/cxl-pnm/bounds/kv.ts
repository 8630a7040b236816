// pimc.KvAppend (lower/kv.ts): COPY and KV_APPEND move bits, never round
// them (a copy of past, then the new rows, or the new rows alone in place),
// so present is bit-for-bit the reference's concat of the stored values:
// bound 0, for any dtype (floats as f16 bits, integers as i32).

import { EXACT } from './common.js';
import { registerPnmBound } from './registry.js';

registerPnmBound('pimc', 'KvAppend', () => EXACT);
