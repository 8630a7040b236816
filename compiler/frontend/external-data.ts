// External data: tensors whose bytes live in a file beside the model.
//
// Confinement rule: the file must resolve to a path inside the model's folder.
// An absolute location, a `..` that leaves the folder, or a symbolic link whose
// target is outside it is refused before anything is read.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import { bytesPerElement, type DType } from '../../ir/dtype.js';
import { ConstantData } from '../../ir/graph.js';
import { tensorFromRaw } from '../../ir/raw.js';
import { sizeOf } from '../../ir/tensor.js';
import { toNum, type ITensorProto } from './tensor-proto.js';

export interface ExternalRef {
  location: string;
  offset: number;
  length: number | undefined;
}

export function parseExternalRef(t: ITensorProto, where: string): ExternalRef {
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  for (const e of t.externalData ?? []) {
    const v = e.value ?? '';
    if (e.key === 'location') location = v;
    else if (e.key === 'offset' || e.key === 'length') {
      if (!/^\d+$/.test(v)) fail('PIMC0304', `${where} has external-data ${e.key} ${q(v)}, not a non-negative integer`);
      if (e.key === 'offset') offset = Number(v);
      else length = Number(v);
    }
  }
  if (!location) fail('PIMC0304', `${where} has external data without a location`);
  return { location, offset, length };
}

/**
 * Resolves a location against the model folder, refusing anything that leaves
 * it. Returns the real path of the data file.
 */
export function resolveConfined(baseDir: string, location: string, where: string): string {
  if (path.isAbsolute(location) || /^[A-Za-z]:[\\/]/.test(location) || location.startsWith('\\')) {
    fail('PIMC0302', `${where}: external data location ${q(location)} is absolute; it must be a path inside the model folder`);
  }
  const root = fs.realpathSync(baseDir);
  const joined = path.resolve(root, location);
  if (!isInside(root, joined)) {
    fail('PIMC0302', `${where}: external data location ${q(location)} leaves the model folder ${q(baseDir)}`);
  }
  let real: string;
  try {
    real = fs.realpathSync(joined);
  } catch {
    return fail('PIMC0301', `${where}: external data file ${q(location)} is missing (looked in ${q(baseDir)})`);
  }
  if (!isInside(root, real)) {
    fail('PIMC0302', `${where}: external data file ${q(location)} is a link to ${q(real)}, outside the model folder`);
  }
  if (!fs.statSync(real).isFile()) fail('PIMC0301', `${where}: external data location ${q(location)} is not a file`);
  return real;
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' ? false : !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Checks the range and returns constant data that reads its bytes only when
 * first used. `relPath` is what the IR prints (relative to the model folder).
 */
export function externalConstant(
  dtype: DType,
  shape: readonly number[],
  ref: ExternalRef,
  baseDir: string,
  where: string,
): ConstantData {
  const file = resolveConfined(baseDir, ref.location, where);
  const need = sizeOf(shape) * bytesPerElement(dtype);
  const length = ref.length ?? need;
  if (length !== need) {
    fail('PIMC0204', `${where} has external-data length ${length} but dims [${shape.join(', ')}] of ${dtype} need ${need} bytes`);
  }
  const size = fs.statSync(file).size;
  if (ref.offset + length > size) {
    fail('PIMC0303', `${where} reads bytes ${ref.offset}..${ref.offset + length} of ${q(ref.location)}, which has ${size}`);
  }
  const rel = path.relative(fs.realpathSync(baseDir), file).split(path.sep).join('/');
  return new ConstantData(dtype, shape, { kind: 'file', path: rel, offset: ref.offset, length }, () => {
    const bytes = readRange(file, ref.offset, length);
    return tensorFromRaw(dtype, shape, bytes);
  });
}

export function readRange(file: string, offset: number, length: number): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return fail('PIMC0301', `file ${q(file)} is missing or unreadable`);
  }
  try {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) fail('PIMC0303', `file ${q(file)} ended before byte ${offset + length}`);
      done += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  } finally {
    fs.closeSync(fd);
  }
}
