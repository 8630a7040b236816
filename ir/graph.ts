// The IR: one graph of typed values and the ops that produce them.
//
// Values are named (ONNX names are kept, so errors and dumps point at what the
// exporter wrote). A value is a graph input, a constant, or an op's output.
// `graph.ops` is kept in topological order by every pass.

import type { Tensor } from './tensor.js';
import type { DType } from './dtype.js';
import type { Dim, TensorType } from './types.js';

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: Tensor };

export type AttrKind = AttrValue['kind'];

/** Where a constant's bytes are. Loading is lazy: big weights stay on disk until used. */
export type ConstSource =
  | { kind: 'inline' }
  | { kind: 'file'; path: string; offset: number; length: number }
  | { kind: 'elided' };

export class ConstantData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly source: ConstSource;
  private cached: Tensor | undefined;
  private readonly loader: (() => Tensor) | undefined;

  constructor(dtype: DType, shape: readonly number[], source: ConstSource, loaderOrTensor: (() => Tensor) | Tensor | undefined) {
    this.dtype = dtype;
    this.shape = shape;
    this.source = source;
    if (typeof loaderOrTensor === 'function') this.loader = loaderOrTensor;
    else this.cached = loaderOrTensor;
  }

  static of(t: Tensor): ConstantData {
    return new ConstantData(t.dtype, t.shape, { kind: 'inline' }, t);
  }

  get loaded(): boolean {
    return this.cached !== undefined;
  }

  get available(): boolean {
    return this.cached !== undefined || this.loader !== undefined;
  }

  /** The tensor; reads it from its source the first time. */
  get(): Tensor {
    if (this.cached) return this.cached;
    if (!this.loader) throw new Error('constant data not available');
    const t = this.loader();
    // Keep small constants; big file-backed ones are re-read on demand so a
    // run over a big model does not keep every weight alive.
    if (t.size <= 1 << 16 || this.source.kind !== 'file') this.cached = t;
    return t;
  }
}

export class Value {
  name: string;
  type: TensorType | undefined;
  producer: Op | null = null;
  constant: ConstantData | null = null;

  constructor(name: string, type?: TensorType) {
    this.name = name;
    this.type = type;
  }

  get dtype(): DType | undefined {
    return this.type?.dtype;
  }

  get shape(): readonly Dim[] | undefined {
    return this.type?.shape;
  }

  get isConstant(): boolean {
    return this.constant !== null;
  }
}

export class Op {
  name: string;
  type: string;
  domain: string;
  inputs: (Value | null)[];
  outputs: Value[];
  attrs: Map<string, AttrValue>;
  device: string | undefined;

  constructor(init: {
    name: string;
    type: string;
    domain?: string;
    inputs: (Value | null)[];
    outputs: Value[];
    attrs?: Map<string, AttrValue>;
    device?: string;
  }) {
    this.name = init.name;
    this.type = init.type;
    this.domain = init.domain ?? '';
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    this.attrs = init.attrs ?? new Map();
    this.device = init.device;
    for (const o of this.outputs) o.producer = this;
  }

  input(i: number): Value | null {
    return this.inputs[i] ?? null;
  }
}

export class Graph {
  name: string;
  /** Opset version per domain ('' is the default ONNX domain). */
  opsets: Map<string, number>;
  inputs: Value[] = [];
  outputs: Value[] = [];
  /** Initializers and folded constants, in a stable order. */
  constants: Value[] = [];
  ops: Op[] = [];
  /** Folder of the model file: where file-backed constants are read from. */
  baseDir: string | undefined;
  private readonly names = new Set<string>();
  private nameCounter = 0;

  constructor(name: string, opsets?: Map<string, number>) {
    this.name = name;
    this.opsets = opsets ?? new Map([['', 17]]);
  }

  get opset(): number {
    return this.opsets.get('') ?? 1;
  }

  /** Reserves a name, making it unique if taken (base, base_1, base_2, ...). */
  uniqueName(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.nameCounter}`;
    this.names.add(name);
    return name;
  }

  hasName(name: string): boolean {
    return this.names.has(name);
  }

  /** Creates a value whose name is unique in this graph. */
  newValue(base: string, type?: TensorType): Value {
    return new Value(this.uniqueName(base), type);
  }

  addInput(v: Value): Value {
    this.names.add(v.name);
    this.inputs.push(v);
    return v;
  }

  addConstant(v: Value, data: ConstantData): Value {
    this.names.add(v.name);
    v.constant = data;
    v.type = { dtype: data.dtype, shape: data.shape };
    this.constants.push(v);
    return v;
  }

  /** Creates and appends an op (callers keep topological order). */
  addOp(op: Op): Op {
    for (const o of op.outputs) this.names.add(o.name);
    this.ops.push(op);
    return op;
  }

  /** Every op that reads each value. */
  users(): Map<Value, Op[]> {
    const m = new Map<Value, Op[]>();
    for (const op of this.ops) {
      for (const v of op.inputs) {
        if (!v) continue;
        let l = m.get(v);
        if (!l) m.set(v, (l = []));
        if (!l.includes(op)) l.push(op);
      }
    }
    return m;
  }

  /** Replaces every use of `from` (op inputs and graph outputs) by `to`. */
  replaceAllUses(from: Value, to: Value): void {
    for (const op of this.ops) {
      for (let i = 0; i < op.inputs.length; i++) if (op.inputs[i] === from) op.inputs[i] = to;
    }
    for (let i = 0; i < this.outputs.length; i++) if (this.outputs[i] === from) this.outputs[i] = to;
  }

  /** Drops constants no op or output reads. */
  pruneConstants(): number {
    const used = new Set<Value>(this.outputs);
    for (const op of this.ops) for (const v of op.inputs) if (v) used.add(v);
    const before = this.constants.length;
    this.constants = this.constants.filter((c) => used.has(c));
    return before - this.constants.length;
  }

  /** All values by name. */
  valuesByName(): Map<string, Value> {
    const m = new Map<string, Value>();
    for (const v of this.inputs) m.set(v.name, v);
    for (const v of this.constants) m.set(v.name, v);
    for (const op of this.ops) for (const o of op.outputs) m.set(o.name, o);
    return m;
  }
}
