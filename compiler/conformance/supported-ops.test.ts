// SUPPORTED_OPS.md must be what the registry and the node tests say today.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { supportedOpsText } from '../tools/update-goldens.js';

it('SUPPORTED_OPS.md is up to date (regenerate with `npm run goldens`)', () => {
  const root = path.resolve(__dirname, '../..');
  expect(fs.readFileSync(path.join(root, 'SUPPORTED_OPS.md'), 'utf8')).toBe(supportedOpsText(root));
});
