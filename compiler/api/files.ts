// Writing results without leaving half-written files: write a temporary file
// beside the target, then rename it into place.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    try { fs.rmSync(tmp, { force: true }); } catch { /* nothing to clean */ }
    fail('PIMC0104', `cannot write ${q(file)}: ${(e as Error).message}`);
  }
}

/**
 * Writes several files into a folder: all are written to temporary names
 * first, and renamed only once every write succeeded.
 */
export function writeFilesAtomic(dir: string, files: ReadonlyMap<string, Uint8Array>): string[] {
  const done: string[] = [];
  const tmps: [string, string][] = [];
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, data] of files) {
      const target = path.join(dir, name);
      const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
      fs.writeFileSync(tmp, data);
      tmps.push([tmp, target]);
    }
    for (const [tmp, target] of tmps) {
      fs.renameSync(tmp, target);
      done.push(target);
    }
    return done;
  } catch (e) {
    for (const [tmp] of tmps) try { fs.rmSync(tmp, { force: true }); } catch { /* ignore */ }
    return fail('PIMC0104', `cannot write into ${q(dir)}: ${(e as Error).message}`);
  }
}
