// Named pipelines: arrays of pass names that read top to bottom.
import { fail, q } from '../../ir/diagnostics.js';
import './infer-shapes-pass.js';
import './fold-constants.js';
import './dce.js';
import './cse.js';
import { FUSION_PASSES } from './fusion/index.js';

export const PIPELINES: Readonly<Record<string, readonly string[]>> = {
  /** Clean up what exporters write: shape subgraphs, duplicates, dead code. */
  fold: [
    'infer-shapes',
    'fold-constants',
    'cse',
    'fold-constants',
    'dce',
  ],
  /** fold, then turn exporter patterns into transformer ops. */
  fuse: [
    'infer-shapes',
    'fold-constants',
    'cse',
    'fold-constants',
    'dce',
    ...FUSION_PASSES,
    'cse',
    'dce',
  ],
};

export function pipeline(name: string): readonly string[] {
  const p = PIPELINES[name];
  if (!p) fail('PIMC0702', `unknown pipeline ${q(name)} (pipelines: ${Object.keys(PIPELINES).join(', ')})`);
  return p;
}
