// Fusion passes: each recognizes what exporters write and replaces it by one
// transformer op of the pimc domain (ir/ops/pimc/).
import './linear.js';
import './layernorm.js';
import './rmsnorm.js';
import './gelu.js';
import './silu.js';
import './rope.js';
import './kv-cache.js';
import './attention.js';
import './unit-transpose.js';

/** The fusion passes in the order the `fuse` pipeline runs them. */
export const FUSION_PASSES = [
  'fuse-linear',
  'fuse-layernorm',
  'fuse-rmsnorm',
  'fuse-gelu',
  'fuse-silu',
  'fuse-rope',
  'fuse-kv-cache',
  'fuse-attention',
  'transpose-as-reshape',
] as const;
