// Regenerates every golden file from the code (`npm run goldens`); review the
// diff, never edit goldens by hand (docs/goldens.md).
//
//   npm run goldens                     every golden
//   npm run goldens -- machine          only tests/goldens/machine (or: supported-ops)
import fs from 'node:fs';
import path from 'node:path';
import { runConformance } from '../conformance/conformance.js';
import { renderSupportedOps } from '../conformance/supported-ops.js';
import { packageRoot } from '../api/package-root.js';
import { updateMachineGoldens } from './machine-goldens.js';

const KINDS = ['supported-ops', 'machine'] as const;

export function supportedOpsText(root = packageRoot()): string {
  return renderSupportedOps(runConformance([path.join(root, 'tests/onnx-node')]));
}

async function main(): Promise<void> {
  const root = packageRoot();
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(KINDS as readonly string[]).includes(a));
  if (unknown.length) {
    process.stderr.write(`unknown golden kind ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${KINDS.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const want = (k: (typeof KINDS)[number]) => asked.length === 0 || asked.includes(k);
  if (want('supported-ops')) {
    const file = path.join(root, 'SUPPORTED_OPS.md');
    fs.writeFileSync(file, supportedOpsText(root));
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
  if (want('machine')) {
    const counts = await updateMachineGoldens(root, (line) => process.stdout.write(`${line}\n`));
    if (counts.failed) process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) await main();
