// The op registry: every op is defined in one place (its file under ir/ops/)
// with its attributes and defaults, supported opsets, shape inference,
// fp32 reference semantics, cost, and one example line of textual IR.

import { fail, q, type DiagnosticCode } from './diagnostics.js';
import type { AttrKind, AttrValue, Op } from './graph.js';
import type { Tensor } from './tensor.js';
import type { DType } from './dtype.js';
import type { Dim, TensorType } from './types.js';

export interface AttrSpec {
  kind: AttrKind;
  /** Default when absent; no default and not required means "absent is meaningful". */
  default?: number | string | number[] | string[];
  required?: boolean;
}

/** Reads an op's attributes through its schema (defaults, kinds, errors with the node name). */
export class Attrs {
  constructor(
    private readonly op: Op,
    private readonly specs: Readonly<Record<string, AttrSpec>>,
  ) {}

  has(name: string): boolean {
    return this.op.attrs.has(name);
  }

  private get(name: string, kind: AttrKind): AttrValue['value'] | undefined {
    const a = this.op.attrs.get(name);
    const spec = this.specs[name];
    if (a === undefined) {
      if (spec?.required) this.error(`required attribute ${q(name)} is missing`);
      return spec?.default;
    }
    if (a.kind !== kind) {
      // ONNX writers sometimes store an int where a float is expected; accept that one widening.
      if (a.kind === 'int' && kind === 'float') return a.value;
      this.error(`attribute ${q(name)} should be ${kind}, got ${a.kind}`);
    }
    return a.value;
  }

  int(name: string): number;
  int(name: string, fallback: number): number;
  int(name: string, fallback?: number): number | undefined {
    const v = this.get(name, 'int');
    return (v as number | undefined) ?? fallback;
  }

  optInt(name: string): number | undefined {
    return this.get(name, 'int') as number | undefined;
  }

  float(name: string, fallback?: number): number {
    const v = this.get(name, 'float') as number | undefined;
    if (v === undefined) {
      if (fallback === undefined) this.error(`attribute ${q(name)} is missing`);
      return fallback;
    }
    return v;
  }

  optFloat(name: string): number | undefined {
    return this.get(name, 'float') as number | undefined;
  }

  string(name: string, fallback?: string): string {
    const v = this.get(name, 'string') as string | undefined;
    if (v === undefined) {
      if (fallback === undefined) this.error(`attribute ${q(name)} is missing`);
      return fallback;
    }
    return v;
  }

  ints(name: string): number[] | undefined {
    return this.get(name, 'ints') as number[] | undefined;
  }

  floats(name: string): number[] | undefined {
    return this.get(name, 'floats') as number[] | undefined;
  }

  strings(name: string): string[] | undefined {
    return this.get(name, 'strings') as string[] | undefined;
  }

  tensor(name: string): Tensor | undefined {
    return this.get(name, 'tensor') as Tensor | undefined;
  }

  error(msg: string, code: DiagnosticCode = 'PIMC0206'): never {
    return fail(code, `${msg}, in ${this.op.type} node ${q(this.op.name)}`);
  }
}

/** What shape inference knows when it reaches an op. */
export interface InferContext {
  readonly op: Op;
  readonly attrs: Attrs;
  readonly opset: number;
  /** Input types; undefined for an omitted optional input. */
  readonly inputs: readonly (TensorType | undefined)[];
  /** The value of input i when it is a constant. */
  constInput(i: number): Tensor | undefined;
  /** Elements of a small integer input known symbolically (e.g. built from Shape). */
  symbolicInput(i: number): Dim[] | undefined;
  /** A fresh symbolic dim, for sizes only known at run time. */
  unknownDim(): string;
  /** Throws a coded shape-inference error naming the op. */
  error(msg: string): never;
}

/** What the reference interpreter gives an op. */
export interface RunContext {
  readonly op: Op;
  readonly attrs: Attrs;
  readonly opset: number;
  error(msg: string): never;
}

export interface CostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface CostContext {
  readonly op: Op;
  readonly attrs: Attrs;
  readonly inputs: readonly (CostTensor | undefined)[];
  readonly outputs: readonly CostTensor[];
}

/** FLOPs done and bytes read plus written, in the op's own dtypes. */
export interface OpCost {
  flops: number;
  bytes: number;
}

export interface OpDef {
  type: string;
  /** '' for ONNX ops, 'pimc' for the compiler's own (fused) ops. */
  domain: string;
  summary: string;
  /** Opsets of the op's domain this definition handles, inclusive. */
  opsets: readonly [number, number];
  /** Input and output counts, inclusive (max Infinity for variadic). */
  inputs: readonly [number, number];
  outputs: readonly [number, number];
  attrs: Readonly<Record<string, AttrSpec>>;
  /**
   * Brings a node written at an older opset to the canonical (newest) form,
   * e.g. moving Squeeze's `axes` attribute to an input. Runs at import.
   */
  canonicalize?(node: CanonicalizeContext): void;
  infer(ctx: InferContext): TensorType[];
  /** Symbolic elements of small integer outputs (Shape, Gather of a shape, Concat, ...). */
  symbolic?(ctx: InferContext): (Dim[] | undefined)[];
  run(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor[];
  cost(ctx: CostContext): OpCost;
  /** One line of textual IR using the op. */
  example: string;
}

/** Import-time view of a node, for canonicalize(). */
export interface CanonicalizeContext {
  readonly op: Op;
  readonly opset: number;
  /** Makes a constant value (e.g. an attribute turned into an input). */
  constant(base: string, t: Tensor): import('./graph.js').Value;
  error(msg: string): never;
}

const REGISTRY = new Map<string, OpDef>();

function key(domain: string, type: string): string {
  return domain ? `${domain}::${type}` : type;
}

export function registerOp(def: OpDef): OpDef {
  const k = key(def.domain, def.type);
  if (REGISTRY.has(k)) throw new Error(`internal: op ${k} registered twice`);
  REGISTRY.set(k, def);
  return def;
}

export function lookupOp(domain: string, type: string): OpDef | undefined {
  return REGISTRY.get(key(domain === 'ai.onnx' ? '' : domain, type));
}

export function allOps(): OpDef[] {
  return [...REGISTRY.values()].sort((a, b) => key(a.domain, a.type).localeCompare(key(b.domain, b.type)));
}

/** The definition for an op in the graph (it must be registered: import checked). */
export function defOf(op: Op): OpDef {
  const d = lookupOp(op.domain, op.type);
  if (!d) fail('PIMC0503', `unknown op ${op.domain ? op.domain + '.' : ''}${op.type}, node ${q(op.name)}`);
  return d;
}
