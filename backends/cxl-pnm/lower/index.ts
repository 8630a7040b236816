// Every CXL-PNM lowering, registered on import.
import './attention.js';
import './elementwise.js';
import './gemm.js';
import './kv.js';
import './rows.js';

export { gemmFitsSram } from './gemm.js';
export { lookupPnmLowering, pnmLoweredOpTypes, pnmLoweringFor } from './registry.js';
export type { PnmLowerContext, PnmLowering, PnmTensor } from './types.js';
