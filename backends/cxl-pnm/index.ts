// The CXL-PNM backend: descriptor ISA (instr.ts, isa.ts), program images
// (binary.ts), text form (asm.ts), and the op lowerings (lower/).
export * from './instr.js';
export { decodeDescriptor, decodeEntry, DESCRIPTOR_BYTES, encodeDescriptor, encodeEntry, ENTRY_BYTES, ISA, OP_SPEC } from './isa.js';
export { decodeProgram, encodeProgram } from './binary.js';
export { formatDescriptor, parsePnm, printPnm } from './asm.js';
export { gemmFitsSram, lookupPnmLowering, pnmLoweredOpTypes, pnmLoweringFor, type PnmLowerContext, type PnmLowering, type PnmTensor } from './lower/index.js';
