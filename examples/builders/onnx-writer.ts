// A small graph-building DSL over onnx-proto that writes graphs the way
// torch.onnx.export does:
// - node names follow the module path ("/transformer/h.0/attn/MatMul"), with
//   "_N" for the N-th repeat of an op type in one scope ("/h.0/attn/MatMul_1");
// - node outputs are "<node name>_output_<i>" unless a graph output names them;
// - small values (scalars, shape vectors, axes) are Constant nodes;
// - weights are initializers whose bytes come from a TensorSource, produced
//   chunk by chunk only when the model is saved (see save-model.ts).

import type { onnx as pb } from 'onnx-proto';
import { onnx } from '../../compiler/frontend/tensor-proto.js';
import { dtypeToOnnx, type DType } from '../../ir/dtype.js';
import { tensorToRaw } from '../../ir/raw.js';
import { Tensor } from '../../ir/tensor.js';
import type { TensorSource } from './weights.js';

/** A dimension: a size, or a symbolic name written as dim_param. */
export type Dim = number | string;

/** An attribute whose JS value would otherwise be read as an int (1.0) or ints. */
export interface FloatAttr { kind: 'float'; value: number }
export interface FloatsAttr { kind: 'floats'; value: number[] }
export const float = (value: number): FloatAttr => ({ kind: 'float', value });
export const floats = (value: number[]): FloatsAttr => ({ kind: 'floats', value });

/**
 * Attribute values: an integer number is INT, any other number FLOAT; a number
 * array is INTS (FLOATS if some element is not an integer); a string is
 * STRING; a Tensor is TENSOR. float()/floats() force the float kinds.
 */
export type AttrValue = number | number[] | string | Tensor | FloatAttr | FloatsAttr;
export type Attrs = Record<string, AttrValue | undefined>;

export interface InitializerEntry {
  name: string;
  source: TensorSource;
  /** Counted in the parameter count (false for buffers and materialized copies). */
  parameter: boolean;
}

export interface GraphOptions {
  graphName?: string;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

/** A graph ready to be saved: the proto without initializer data, plus the initializers. */
export interface BuiltModel {
  model: pb.IModelProto;
  initializers: InitializerEntry[];
}

/** The IR version that an ONNX release introducing `opset` writes (onnx's version table). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 17) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  if (opset === 23) return 11;
  return 12;
}

const ATTR = onnx.AttributeProto.AttributeType;
const encoder = new TextEncoder();

export class GraphBuilder {
  readonly opset: number;
  private readonly opts: GraphOptions;
  private readonly nodes: pb.INodeProto[] = [];
  private readonly inputs: pb.IValueInfoProto[] = [];
  private readonly outputs: pb.IValueInfoProto[] = [];
  private readonly inits: InitializerEntry[] = [];
  private readonly counts = new Map<string, number>();
  private readonly values = new Set<string>();
  private matmulId = 0;

  constructor(opts: GraphOptions = {}) {
    this.opts = opts;
    this.opset = opts.opset ?? 17;
  }

  /** The root scope: nodes named "/Op", "/Op_1", ... */
  get root(): Scope {
    return new Scope(this, '');
  }

  scope(path: string): Scope {
    return new Scope(this, path);
  }

  input(name: string, dtype: DType, dims: readonly Dim[]): string {
    this.define(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares an existing value (produced by a node or a graph input) as a graph output. */
  output(name: string, dtype: DType, dims: readonly Dim[]): string {
    if (!this.values.has(name)) throw new Error(`internal: graph output ${name} is not produced by any node`);
    this.outputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  initializer(name: string, source: TensorSource, parameter = true): string {
    this.define(name);
    this.inits.push({ name, source, parameter });
    return name;
  }

  /**
   * A weight as torch.onnx.export writes an nn.Linear weight: pre-transposed
   * and constant-folded into a fresh initializer named "onnx::MatMul_<n>".
   */
  matmulWeight(source: TensorSource, parameter = true): string {
    return this.initializer(`onnx::MatMul_${++this.matmulId}`, source, parameter);
  }

  /** Adds a node named after `scope` and `opType`; returns its output names. */
  addNode(
    scope: string,
    opType: string,
    inputs: readonly string[],
    attrs: Attrs = {},
    outputs: number | readonly (string | null)[] = 1,
    domain = '',
  ): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.values.has(i)) throw new Error(`internal: node ${scope}/${opType} reads undefined value ${i}`);
    }
    const base = `${scope}/${opType}`;
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    const name = n === 0 ? base : `${base}_${n}`;
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`)
      : outputs.map((o, i) => o ?? `${name}_output_${i}`);
    for (const o of outs) if (o !== '') this.define(o);
    const node: pb.INodeProto = { name, opType, input: [...inputs], output: outs };
    if (domain) node.domain = domain;
    const attributes = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    if (attributes.length > 0) node.attribute = attributes;
    this.nodes.push(node);
    return outs;
  }

  build(): BuiltModel {
    const graph: pb.IGraphProto = {
      name: this.opts.graphName ?? 'main_graph',
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
    };
    const model: pb.IModelProto = {
      irVersion: this.opts.irVersion ?? irVersionForOpset(this.opset),
      producerName: this.opts.producerName ?? 'pimc-builder',
      producerVersion: this.opts.producerVersion ?? '0.1.0',
      opsetImport: [{ domain: '', version: this.opset }],
      graph,
    };
    if (this.opts.docString) model.docString = this.opts.docString;
    return { model, initializers: this.inits };
  }

  private define(name: string): void {
    if (this.values.has(name)) throw new Error(`internal: value ${name} is defined twice`);
    this.values.add(name);
  }
}

/** Nodes created through a scope are named after its module path. */
export class Scope {
  constructor(readonly g: GraphBuilder, readonly path: string) {}

  sub(name: string): Scope {
    return new Scope(this.g, `${this.path}/${name}`);
  }

  /** One node with one output; `out` names the output (for graph outputs). */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, out?: string): string {
    return this.g.addNode(this.path, opType, inputs, attrs, out === undefined ? 1 : [out])[0]!;
  }

  /**
   * One node with several outputs: a count, or per output a name, null for
   * the automatic name, or '' to leave an optional output unused.
   */
  ops(opType: string, inputs: readonly string[], outputs: number | readonly (string | null)[], attrs: Attrs = {}): string[] {
    return this.g.addNode(this.path, opType, inputs, attrs, outputs);
  }

  /** A Constant node holding `t`. */
  constant(t: Tensor): string {
    return this.op('Constant', [], { value: t });
  }

  /** An int64 Constant: a scalar for a number, a 1-D tensor for an array. */
  i64(v: number | readonly number[]): string {
    return this.constant(typeof v === 'number' ? Tensor.scalar('i64', v) : Tensor.vector('i64', [...v]));
  }

  /** A float32 scalar Constant. */
  f32(v: number): string {
    return this.constant(Tensor.scalar('f32', v));
  }
}

export function valueInfo(name: string, dtype: DType, dims: readonly Dim[]): pb.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: dtypeToOnnx(dtype),
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A TensorProto for a Constant attribute (no name, raw data), as torch writes them. */
export function constantProto(t: Tensor): pb.ITensorProto {
  return { dims: [...t.shape], dataType: dtypeToOnnx(t.dtype), rawData: tensorToRaw(t) };
}

function attribute(name: string, v: AttrValue): pb.IAttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: encoder.encode(v) };
  if (Array.isArray(v)) {
    return v.every(Number.isInteger) ? { name, type: ATTR.INTS, ints: v } : { name, type: ATTR.FLOATS, floats: v };
  }
  if (v instanceof Tensor) return { name, type: ATTR.TENSOR, t: constantProto(v) };
  const tagged = v as FloatAttr | FloatsAttr;
  return tagged.kind === 'float'
    ? { name, type: ATTR.FLOAT, f: tagged.value }
    : { name, type: ATTR.FLOATS, floats: tagged.value };
}

export { saveModel, encodeModel, externalSet, type SaveOptions, type SavedModel, type ExternalDataMode } from './save-model.js';
