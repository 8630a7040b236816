// One measurement in a fresh process: onnxruntime-node session creation on a
// model (default options: it loads every weight and optimizes the graph).
import * as ort from 'onnxruntime-node';

const file = process.argv[2];
const t0 = performance.now();
const s = await ort.InferenceSession.create(file);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, inputs: s.inputNames.length }) + '\n');
await s.release?.();
