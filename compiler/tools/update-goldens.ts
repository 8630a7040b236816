// Regenerates every golden file from the code (`npm run goldens`); review the
// diff, never edit goldens by hand.
import fs from 'node:fs';
import path from 'node:path';
import { runConformance } from '../conformance/conformance.js';
import { renderSupportedOps } from '../conformance/supported-ops.js';
import { packageRoot } from '../api/package-root.js';

export function supportedOpsText(root = packageRoot()): string {
  return renderSupportedOps(runConformance([path.join(root, 'tests/onnx-node')]));
}

function main(): void {
  const root = packageRoot();
  const file = path.join(root, 'SUPPORTED_OPS.md');
  fs.writeFileSync(file, supportedOpsText(root));
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
