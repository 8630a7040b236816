// The folder of the pimc package (for bundled examples), found by walking up
// from this module: the same code runs from the sources and from dist/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'pimc') return (cached = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error('internal: cannot find the pimc package folder');
    dir = up;
  }
}

export function bundledModel(name: string): string {
  return path.join(packageRoot(), 'examples', 'models', name, 'model.onnx');
}
