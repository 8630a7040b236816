// Reading constant data from files beside a model, confined to its folder.
//
// Confinement rule (for ONNX external data and for `file` constants of the
// textual IR alike): the file must resolve to a path inside the model's
// folder. An absolute location, a `..` that leaves the folder, or a symbolic
// link whose target is outside it is refused before anything is read.

import fs from 'node:fs';
import path from 'node:path';
import { fail, isPimcError, q } from './diagnostics.js';

/** Refuses locations that leave the folder on their face (no file system access). */
export function checkLocation(location: string, where: string): void {
  if (path.isAbsolute(location) || /^[A-Za-z]:[\\/]/.test(location) || location.startsWith('\\')) {
    fail('PIMC0302', `${where}: data location ${q(location)} is absolute; it must be a path inside the model folder`);
  }
  const norm = path.posix.normalize(location.split('\\').join('/'));
  if (norm === '..' || norm.startsWith('../')) {
    fail('PIMC0302', `${where}: data location ${q(location)} leaves the model folder`);
  }
}

/** Real paths of model folders (a model has hundreds of external tensors in one folder). */
const REAL_ROOTS = new Map<string, string>();

function realRoot(baseDir: string, where: string): string {
  let root = REAL_ROOTS.get(baseDir);
  if (root) return root;
  try {
    root = fs.realpathSync(baseDir);
  } catch {
    return fail('PIMC0301', `${where}: model folder ${q(baseDir)} does not exist`);
  }
  if (REAL_ROOTS.size > 256) REAL_ROOTS.clear();
  REAL_ROOTS.set(baseDir, root);
  return root;
}

/** Resolves a location against the model folder, following links, refusing escapes. */
export function resolveConfined(baseDir: string, location: string, where: string): string {
  checkLocation(location, where);
  const root = realRoot(baseDir, where);
  const joined = path.resolve(root, location);
  if (!isInside(root, joined)) fail('PIMC0302', `${where}: data location ${q(location)} leaves the model folder ${q(baseDir)}`);
  let real: string;
  try {
    real = fs.realpathSync(joined);
  } catch {
    return fail('PIMC0301', `${where}: data file ${q(location)} is missing (looked in ${q(baseDir)})`);
  }
  if (!isInside(root, real)) fail('PIMC0302', `${where}: data file ${q(location)} is a link to ${q(real)}, outside the model folder`);
  if (!fs.statSync(real).isFile()) fail('PIMC0301', `${where}: data location ${q(location)} is not a file`);
  return real;
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Reads exactly [offset, offset + length) of a file. */
export function readRange(file: string, offset: number, length: number): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return fail('PIMC0301', `data file ${q(file)} is missing or unreadable`);
  }
  try {
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, bytes, done, length - done, offset + done);
      if (n === 0) fail('PIMC0303', `data range ${offset}+${length} is outside file ${q(file)}`);
      done += n;
    }
    return bytes;
  } catch (e) {
    if (isPimcError(e)) throw e;
    return fail('PIMC0301', `data file ${q(file)} is unreadable (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    fs.closeSync(fd);
  }
}
