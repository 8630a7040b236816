// External data: tensors whose bytes live in a file beside the model, read
// lazily and only from inside the model's folder (ir/files.ts).

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import { bytesPerElement, type DType } from '../../ir/dtype.js';
import { ConstantData } from '../../ir/graph.js';
import { tensorFromRaw } from '../../ir/raw.js';
import { readRange, resolveConfined } from '../../ir/files.js';
import { sizeOf } from '../../ir/tensor.js';
import type { ITensorProto } from './tensor-proto.js';

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
  const rel = path.relative(path.dirname(file) === baseDir ? baseDir : fs.realpathSync(baseDir), file).split(path.sep).join('/');
  return new ConstantData(dtype, shape, { kind: 'file', path: rel, offset: ref.offset, length }, () => {
    const bytes = readRange(file, ref.offset, length);
    return tensorFromRaw(dtype, shape, bytes);
  });
}
