// The NPU simulator: memory, run, and trace conversion (api.ts is the contract).
export type { NpuEngineStats, NpuMemoryApi, NpuRunOptions, NpuRunStats, NpuTraceEvent, NpuUnitStats, RunNpu } from './api.js';
export { createNpuMemory, NpuMemory } from './memory.js';
export { runNpu } from './sim.js';
export { npuChromeTrace, NpuTraceRecorder } from './trace.js';
export { npuTiming, matmulCycles, vecCycles, transferCycles, burstBytes } from './timing.js';
