// One measurement in a fresh process: import + shape inference + fold of a
// model with pimc; prints wall time and this process's peak RSS as JSON.
import { loadModel } from '../../dist/compiler/api/index.js';

const file = process.argv[2];
const t0 = performance.now();
const m = loadModel(file, { stage: 'folded' });
const ms = performance.now() - t0;
const loaded = m.graph.constants.filter((c) => c.constant.loaded && c.constant.source.kind === 'file').length;
process.stdout.write(JSON.stringify({
  ms,
  maxRssMB: process.resourceUsage().maxRSS / 1024,
  ops: m.graph.ops.length,
  constants: m.graph.constants.length,
  fileConstantsLoaded: loaded,
}) + '\n');
