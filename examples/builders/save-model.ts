// Writes a BuiltModel to disk: the ModelProto, and (when asked) one external
// data file "<model file name>.data" beside it holding every initializer of at
// least `externalDataThreshold` bytes, as onnx.save_model(...,
// save_as_external_data=True) lays it out (location/offset/length entries,
// offsets aligned). Initializer bytes are generated and appended one chunk at
// a time; both files are written under temporary names and renamed at the end,
// so a crash never leaves a half-written model behind.

import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { onnx as pb } from 'onnx-proto';
import { onnx } from '../../compiler/frontend/tensor-proto.js';
import { dtypeToOnnx } from '../../ir/dtype.js';
import type { BuiltModel, InitializerEntry } from './onnx-writer.js';
import { byteLength, collect } from './weights.js';

export type ExternalDataMode = 'auto' | 'always' | 'never';

export interface SaveOptions {
  /**
   * 'never': every initializer inline (one self-contained file; up to 2 GiB).
   * 'always': initializers of at least `externalDataThreshold` bytes go to the data file.
   * 'auto' (default): like 'always' once all initializers together exceed
   * `autoExternalBytes`, else like 'never'.
   */
  externalData?: ExternalDataMode;
  /** Bytes; default 1024, onnx's size_threshold. */
  externalDataThreshold?: number;
  /** Total initializer bytes above which 'auto' uses external data; default 16 MiB. */
  autoExternalBytes?: number;
  /** Alignment of tensor offsets in the data file; default 64. */
  align?: number;
  /** Called after each chunk written to the data file. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /**
   * Leave external tensors as holes of a sparse data file (they read back as
   * zeros): a 7B-shaped model for analysis or compilation in a second,
   * without writing 25 GiB. The model is exact in everything but its values.
   */
  sparseWeights?: boolean;
}

export interface SavedModel {
  modelPath: string;
  /** Absent when every initializer is inline. */
  dataPath?: string;
  modelBytes: number;
  dataBytes: number;
}

/** Protobuf messages cannot exceed 2 GiB. */
const PROTO_LIMIT = 2 ** 31 - 1;
let tmpCounter = 0;

/** Which initializers go to the data file. */
export function externalSet(inits: readonly InitializerEntry[], opts: SaveOptions = {}): Set<string> {
  const mode = opts.externalData ?? 'auto';
  const threshold = opts.externalDataThreshold ?? 1024;
  const total = inits.reduce((s, e) => s + byteLength(e.source), 0);
  const useExternal = mode === 'always' || (mode === 'auto' && total > (opts.autoExternalBytes ?? 16 * 2 ** 20));
  const out = new Set<string>();
  if (!useExternal) {
    if (total > PROTO_LIMIT - 2 ** 20) {
      throw new Error(`the model's initializers take ${total} bytes, more than a protobuf file can hold: use external data`);
    }
    return out;
  }
  for (const e of inits) if (byteLength(e.source) >= threshold) out.add(e.name);
  return out;
}

/** The serialized ModelProto with every initializer inline (small models, tests). */
export function encodeModel(built: BuiltModel): Uint8Array {
  const inits = built.initializers.map((e) => inlineProto(e));
  return encodeWith(built, inits);
}

export async function saveModel(built: BuiltModel, modelPath: string, opts: SaveOptions = {}): Promise<SavedModel> {
  const external = externalSet(built.initializers, opts);
  const dir = dirname(modelPath);
  const dataName = `${basename(modelPath)}.data`;
  const dataPath = join(dir, dataName);
  const tag = `.tmp-${process.pid}-${++tmpCounter}`;
  const tmpModel = modelPath + tag;
  const tmpData = dataPath + tag;
  const align = opts.align ?? 64;
  const protos: pb.ITensorProto[] = [];
  let dataBytes = 0;
  try {
    if (external.size > 0) {
      const total = built.initializers.filter((e) => external.has(e.name)).reduce((s, e) => s + byteLength(e.source), 0);
      const fh = await open(tmpData, 'w');
      try {
        let done = 0;
        for (const e of built.initializers) {
          if (!external.has(e.name)) {
            protos.push(inlineProto(e));
            continue;
          }
          const pad = (align - (dataBytes % align)) % align;
          if (pad > 0) {
            await writeAll(fh, new Uint8Array(pad));
            dataBytes += pad;
          }
          const offset = dataBytes;
          if (opts.sparseWeights) {
            dataBytes += byteLength(e.source);
            done += byteLength(e.source);
          } else {
            for (const chunk of e.source.chunks()) {
              await writeAll(fh, chunk);
              dataBytes += chunk.length;
              done += chunk.length;
              opts.onProgress?.(done, total);
            }
          }
          const length = dataBytes - offset;
          if (length !== byteLength(e.source)) throw new Error(`internal: initializer ${e.name} produced ${length} bytes`);
          protos.push(externalProto(e, dataName, offset, length));
        }
        if (opts.sparseWeights) await fh.truncate(dataBytes);
      } finally {
        await fh.close();
      }
    } else {
      for (const e of built.initializers) protos.push(inlineProto(e));
    }
    const bytes = encodeWith(built, protos);
    await writeFile(tmpModel, bytes);
    if (external.size > 0) await rename(tmpData, dataPath);
    await rename(tmpModel, modelPath);
    // A data file left from an earlier external-data save of this model is stale now.
    if (external.size === 0) await rm(dataPath, { force: true });
    const saved: SavedModel = { modelPath, modelBytes: bytes.length, dataBytes };
    if (external.size > 0) saved.dataPath = dataPath;
    return saved;
  } catch (e) {
    await rm(tmpModel, { force: true });
    await rm(tmpData, { force: true });
    throw e;
  }
}

function encodeWith(built: BuiltModel, initializer: pb.ITensorProto[]): Uint8Array {
  const model = onnx.ModelProto.create({ ...built.model, graph: { ...built.model.graph, initializer } });
  return onnx.ModelProto.encode(model).finish();
}

function inlineProto(e: InitializerEntry): pb.ITensorProto {
  return { name: e.name, dims: [...e.source.dims], dataType: dtypeToOnnx(e.source.dtype), rawData: collect(e.source) };
}

function externalProto(e: InitializerEntry, location: string, offset: number, length: number): pb.ITensorProto {
  return {
    name: e.name,
    dims: [...e.source.dims],
    dataType: dtypeToOnnx(e.source.dtype),
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

async function writeAll(fh: import('node:fs/promises').FileHandle, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
}
