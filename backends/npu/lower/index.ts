// Every NPU lowering, registered on import.
import './matmul/index.js';
import './misc/index.js';

export { loweringFor, lookupLowering, loweredOpTypes } from './registry.js';
export type { DramTensor, LowerContext, Lowering } from './types.js';
