// The IR: types, tensors, graph, op registry, verifier.
export * from './dtype.js';
export * from './types.js';
export * from './tensor.js';
export * from './graph.js';
export * from './diagnostics.js';
export * from './registry.js';
export * from './verifier.js';
export * from './dimexpr.js';
export * from './raw.js';
import './ops/index.js';
