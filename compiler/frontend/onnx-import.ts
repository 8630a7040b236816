// ONNX -> IR. Decodes the ModelProto, resolves initializers (inline or
// external, lazily), turns Constant nodes into constants, imports every node
// through the op registry at the model's opset, orders nodes topologically and
// runs shape inference. Every problem with the file is a coded error.
//
// 1. Decode (PIMC0101/0102) and read opsets.
// 2. Graph inputs with their types (dim_param stays symbolic).
// 3. Initializers -> constants; raw bytes stay where they are (file-backed).
// 4. Nodes: check every op is supported at this opset (one error listing all),
//    convert attributes, create values; Constant nodes become constants.
// 5. Topological order (undefined value -> PIMC0202, cycle -> PIMC0203).
// 6. Canonicalize each node to the newest opset form, then infer shapes.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q, PimcError } from '../../ir/diagnostics.js';
import { ConstantData, Graph, Op, Value, type AttrValue } from '../../ir/graph.js';
import { Attrs, lookupOp, type CanonicalizeContext } from '../../ir/registry.js';
import type { Tensor } from '../../ir/tensor.js';
import { dtypeFromOnnx, onnxTypeName, bytesPerElement } from '../../ir/dtype.js';
import { tensorFromRaw } from '../../ir/raw.js';
import { sizeOf } from '../../ir/tensor.js';
import { inferShapes } from '../passes/infer-shapes.js';
import { importDims } from './dims.js';
import { externalConstant, parseExternalRef } from './external-data.js';
import { dimsOf, dtypeOf, onnx, tensorFromProto, toNum, type ITensorProto } from './tensor-proto.js';
import '../../ir/ops/index.js';
import type P from 'onnx-proto';

type NodeProto = P.onnx.INodeProto;
type ModelProto = P.onnx.ModelProto;
type ValueInfoProto = P.onnx.IValueInfoProto;
type AttributeProto = P.onnx.IAttributeProto;

export interface ImportOptions {
  /** Skip shape inference (for tools that only want the raw graph). */
  noInfer?: boolean;
}

export function importOnnxFile(file: string, opts: ImportOptions = {}): Graph {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    return fail('PIMC0101', `model file ${q(file)} ${why}`);
  }
  return importOnnxBytes(bytes, { baseDir: path.dirname(path.resolve(file)), fileName: path.basename(file), ...opts });
}

export function decodeModel(bytes: Uint8Array, fileName: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail('PIMC0102', `file ${q(fileName)} is not an ONNX model: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!model.graph || (model.opsetImport ?? []).length === 0 && !model.irVersion) {
    fail('PIMC0102', `file ${q(fileName)} is not an ONNX model: no graph`);
  }
  return model;
}

export function importOnnxBytes(bytes: Uint8Array, opts: ImportOptions & { baseDir: string; fileName: string }): Graph {
  const model = decodeModel(bytes, opts.fileName);
  return new Importer(model, bytes, opts).run(opts);
}

class Importer {
  private readonly g: Graph;
  private readonly values = new Map<string, Value>();
  private readonly where: string;

  constructor(
    private readonly model: ModelProto,
    private readonly bytes: Uint8Array,
    private readonly opts: { baseDir: string; fileName: string },
  ) {
    const opsets = new Map<string, number>();
    for (const o of model.opsetImport ?? []) opsets.set(o.domain === 'ai.onnx' ? '' : o.domain ?? '', toNum(o.version));
    if (!opsets.has('')) opsets.set('', 1);
    this.g = new Graph(model.graph!.name || 'main', opsets);
    this.g.baseDir = opts.baseDir;
    this.where = `model ${q(opts.fileName)}`;
  }

  run(opts: ImportOptions): Graph {
    const gp = this.model.graph!;
    for (const t of gp.initializer ?? []) this.initializer(t);
    if ((gp.sparseInitializer ?? []).length) fail('PIMC0211', `${this.where} has sparse initializers, which pimc does not support`);
    for (const vi of gp.input ?? []) {
      if (this.values.has(vi.name ?? '')) continue; // IR < 4 lists initializers as inputs too
      this.input(vi);
    }
    const nodes = this.orderNodes(gp.node ?? []);
    this.checkSupported(nodes);
    for (const n of nodes) this.node(n);
    for (const vi of gp.output ?? []) {
      const v = this.values.get(vi.name ?? '');
      if (!v) fail('PIMC0202', `graph output ${q(vi.name ?? '')} is not produced by any node, in ${this.where}`);
      const declared = this.declaredType(vi);
      if (declared && !v.type) v.type = declared;
      this.g.outputs.push(v);
    }
    for (const vi of gp.valueInfo ?? []) {
      const v = this.values.get(vi.name ?? '');
      const declared = v && !v.type && v.producer ? this.declaredType(vi) : undefined;
      if (v && declared) v.type = declared;
    }
    if (!opts.noInfer) inferShapes(this.g);
    return this.g;
  }

  private input(vi: ValueInfoProto): void {
    const name = vi.name ?? '';
    if (!name) fail('PIMC0209', `${this.where} has a graph input without a name`);
    const t = this.declaredType(vi);
    if (!t) fail('PIMC0209', `graph input ${q(name)} has no tensor type with a shape, in ${this.where}`);
    const v = new Value(name, t);
    this.values.set(name, v);
    this.g.addInput(v);
  }

  private declaredType(vi: ValueInfoProto): Value['type'] {
    const tt = vi.type?.tensorType;
    if (!tt) {
      if (vi.type && (vi.type.sequenceType || vi.type.mapType || vi.type.optionalType)) {
        fail('PIMC0211', `value ${q(vi.name ?? '')} is a sequence, map or optional, which pimc does not support, in ${this.where}`);
      }
      return undefined;
    }
    const dtype = dtypeFromOnnx(tt.elemType ?? 0);
    if (!dtype) fail('PIMC0205', `value ${q(vi.name ?? '')} has element type ${onnxTypeName(tt.elemType ?? 0)}, which pimc does not support`);
    if (!tt.shape) return undefined;
    return { dtype, shape: importDims(tt.shape.dim ?? [], vi.name ?? '') };
  }

  private initializer(t: ITensorProto): void {
    const name = t.name ?? '';
    const where = `initializer ${q(name)}`;
    if (!name) fail('PIMC0209', `${this.where} has an initializer without a name`);
    if (this.values.has(name)) fail('PIMC0210', `${where} is defined twice, in ${this.where}`);
    const v = new Value(name);
    this.values.set(name, v);
    this.g.addConstant(v, this.constantData(t, where));
  }

  /** Constant data for a TensorProto: external, file-backed raw bytes, or decoded values. */
  private constantData(t: ITensorProto, where: string): ConstantData {
    const dtype = dtypeOf(t, where);
    const shape = dimsOf(t);
    if (shape.some((d) => d < 0 || !Number.isSafeInteger(d))) fail('PIMC0204', `${where} has invalid dims [${shape.join(', ')}]`);
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      return externalConstant(dtype, shape, parseExternalRef(t, where), this.opts.baseDir, where);
    }
    const raw = t.rawData;
    if (raw && raw.length > 0 && this.isView(raw)) {
      const need = sizeOf(shape) * bytesPerElement(dtype);
      if (raw.length !== need) fail('PIMC0204', `${where} has ${raw.length} bytes of data but dims [${shape.join(', ')}] of ${dtype} need ${need}`);
      const offset = raw.byteOffset - this.bytes.byteOffset;
      return new ConstantData(dtype, shape, { kind: 'file', path: this.opts.fileName, offset, length: need }, () =>
        tensorFromRaw(dtype, shape, raw),
      );
    }
    return ConstantData.of(tensorFromProto(t, where));
  }

  /** True when raw points into the model file's bytes (so it has a file offset). */
  private isView(raw: Uint8Array): boolean {
    return raw.buffer === this.bytes.buffer && raw.byteOffset >= this.bytes.byteOffset && raw.byteOffset + raw.length <= this.bytes.byteOffset + this.bytes.length;
  }

  /** Topological order; PIMC0202 for undefined inputs, PIMC0203 for cycles. */
  private orderNodes(nodes: NodeProto[]): NodeProto[] {
    const producer = new Map<string, number>();
    nodes.forEach((n, i) => {
      for (const o of n.output ?? []) {
        if (!o) continue;
        if (producer.has(o) || this.values.has(o)) fail('PIMC0210', `value ${q(o)} is produced twice (node ${q(nodeLabel(n, i))}), in ${this.where}`);
        producer.set(o, i);
      }
    });
    const inputNames = new Set((this.model.graph!.input ?? []).map((v) => v.name ?? ''));
    const deps = nodes.map((n, i) =>
      (n.input ?? []).filter((x) => x !== '').map((x) => {
        const p = producer.get(x);
        if (p === undefined && !this.values.has(x) && !inputNames.has(x)) {
          fail('PIMC0202', `node ${q(nodeLabel(n, i))} (${n.opType}) uses value ${q(x)}, which is not defined, in ${this.where}`);
        }
        return p;
      }).filter((p): p is number => p !== undefined),
    );
    // Kahn's algorithm, taking nodes in file order when several are ready.
    const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
    const out: NodeProto[] = [];
    for (let i = 0; i < nodes.length; i++) {
      if (state[i]) continue;
      const stack: [number, number][] = [[i, 0]];
      state[i] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        const [n, k] = top;
        const d = deps[n]!;
        if (k < d.length) {
          top[1]++;
          const m = d[k]!;
          if (state[m] === 1) fail('PIMC0203', `graph has a cycle through node ${q(nodeLabel(nodes[m]!, m))} (${nodes[m]!.opType}), in ${this.where}`);
          if (state[m] === 0) {
            state[m] = 1;
            stack.push([m, 0]);
          }
        } else {
          state[n] = 2;
          out.push(nodes[n]!);
          stack.pop();
        }
      }
    }
    return out;
  }

  private checkSupported(nodes: NodeProto[]): void {
    const problems: string[] = [];
    nodes.forEach((n, i) => {
      const domain = n.domain === 'ai.onnx' ? '' : n.domain ?? '';
      const def = lookupOp(domain, n.opType ?? '');
      const label = `${domain ? domain + '.' : ''}${n.opType} (node ${q(nodeLabel(n, i))})`;
      const opset = this.g.opsets.get(domain);
      if (!def) problems.push(label);
      else if (opset === undefined) problems.push(`${label}: domain ${q(domain)} is not imported`);
      else if (opset < def.opsets[0] || opset > def.opsets[1]) problems.push(`${label} at opset ${opset} (supported ${def.opsets[0]}..${def.opsets[1]})`);
    });
    if (problems.length) {
      const shown = problems.slice(0, 20).join(', ') + (problems.length > 20 ? `, and ${problems.length - 20} more` : '');
      fail('PIMC0201', `${this.where} uses ${problems.length} unsupported op${problems.length > 1 ? 's' : ''}: ${shown}`);
    }
  }

  private node(n: NodeProto): void {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain ?? '';
    const def = lookupOp(domain, n.opType ?? '')!;
    const name = this.g.uniqueName(n.name || `${n.opType}_${this.g.ops.length}`);
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute ?? []) attrs.set(a.name ?? '', this.attribute(a, n, name));
    for (const k of attrs.keys()) {
      if (!(k in def.attrs)) fail('PIMC0206', `${n.opType} node ${q(name)} has attribute ${q(k)}, which pimc does not know for this op`);
    }
    const inputs = (n.input ?? []).map((x) => (x === '' ? null : this.values.get(x)!));
    if (n.opType === 'Constant' && domain === '') return this.constantNode(n, name, attrs);
    const outputs = (n.output ?? []).map((o) => {
      const v = new Value(o);
      if (o) this.values.set(o, v);
      return v;
    });
    // Omitted optional outputs ('' names) are given unique names so the IR stays simple.
    for (const v of outputs) if (!v.name) v.name = this.g.uniqueName(`${name}_unused`);
    const op = new Op({ name, type: def.type, domain, inputs, outputs, attrs });
    const counts = (got: number, [lo, hi]: readonly [number, number], what: string) => {
      if (got < lo || got > hi) fail('PIMC0207', `${n.opType} node ${q(name)} has ${got} ${what}, expected ${lo === hi ? lo : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`}`);
    };
    counts(inputs.length, def.inputs, 'inputs');
    counts(outputs.length, def.outputs, 'outputs');
    this.g.addOp(op);
    if (def.canonicalize) def.canonicalize(this.canonicalizeContext(op));
  }

  private canonicalizeContext(op: Op): CanonicalizeContext {
    return {
      op,
      opset: this.g.opsets.get(op.domain) ?? this.g.opset,
      constant: (base: string, t: Tensor) => {
        const v = this.g.newValue(`${op.name}/${base}`);
        this.g.addConstant(v, ConstantData.of(t));
        return v;
      },
      error: (msg: string) => fail('PIMC0206', `${msg}, in ${op.type} node ${q(op.name)}`),
    };
  }

  /** A Constant node becomes a graph constant named after its output. */
  private constantNode(n: NodeProto, name: string, attrs: Map<string, AttrValue>): void {
    const out = (n.output ?? [])[0];
    if (!out || (n.output ?? []).length !== 1) fail('PIMC0207', `Constant node ${q(name)} must have one output`);
    const def = lookupOp('', 'Constant')!;
    const op = new Op({ name, type: 'Constant', inputs: [], outputs: [], attrs });
    const t = def.run({ op, attrs: new Attrs(op, def.attrs), opset: this.g.opset, error: (m) => fail('PIMC0206', `${m}, in Constant node ${q(name)}`) }, [])[0]!;
    const v = new Value(out);
    this.values.set(out, v);
    this.g.addConstant(v, ConstantData.of(t));
  }

  private attribute(a: AttributeProto, n: NodeProto, nodeName: string): AttrValue {
    const T = onnx.AttributeProto.AttributeType;
    const where = `attribute ${q(a.name ?? '')} of ${n.opType} node ${q(nodeName)}`;
    const type = a.type ?? inferAttrType(a);
    switch (type) {
      case T.INT: return { kind: 'int', value: toNum(a.i) };
      case T.FLOAT: return { kind: 'float', value: a.f ?? 0 };
      case T.STRING: return { kind: 'string', value: Buffer.from(a.s ?? new Uint8Array()).toString('utf8') };
      case T.INTS: return { kind: 'ints', value: (a.ints ?? []).map(toNum) };
      case T.FLOATS: return { kind: 'floats', value: [...(a.floats ?? [])] };
      case T.STRINGS: return { kind: 'strings', value: (a.strings ?? []).map((s: Uint8Array) => Buffer.from(s).toString('utf8')) };
      case T.TENSOR: {
        if (!a.t) fail('PIMC0206', `${where} has no tensor`);
        const t = a.t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL
          ? this.constantData(a.t, where).get()
          : tensorFromProto(a.t, where);
        return { kind: 'tensor', value: t };
      }
      default:
        return fail('PIMC0211', `${where} has type ${T[type] ?? type} (graphs, sparse tensors and type protos are not supported)`);
    }
  }
}

/** Old writers leave AttributeProto.type unset; guess it from the field that is filled. */
function inferAttrType(a: AttributeProto): number {
  const T = onnx.AttributeProto.AttributeType;
  if (a.t) return T.TENSOR;
  if (a.ints && a.ints.length) return T.INTS;
  if (a.floats && a.floats.length) return T.FLOATS;
  if (a.strings && a.strings.length) return T.STRINGS;
  if (a.s && a.s.length) return T.STRING;
  if (a.f) return T.FLOAT;
  return T.INT;
}

function nodeLabel(n: NodeProto, i: number): string {
  return n.name || `${n.opType}_${i}`;
}

export { PimcError };
