// The CXL-PNM simulator: memory, runPnm, link transfers.
export type { PnmMemoryApi, PnmRunOptions, PnmRunStats, PnmUnitStats, RunPnm } from './api.js';
export { PnmMemory } from './memory.js';
export { runPnm } from './sim.js';
export { linkTransfer } from './timing.js';
