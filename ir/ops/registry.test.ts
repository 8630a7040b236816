// Every registered op is complete: summary, opsets, an example line of textual
// IR that parses into that op, and attribute defaults of the declared kind.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../parser.js';
import { allOps } from '../registry.js';
import './index.js';

/** Wraps one example line into a graph: every %value it reads becomes an untyped input. */
function wrap(example: string, domain: string): string {
  const [lhs, rhs] = example.split(/ = (.*)/s) as [string, string];
  const defined = new Set([...lhs.matchAll(/%("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.]+)/g)].map((m) => m[1]!));
  const used = [...rhs.matchAll(/%("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.]+)/g)].map((m) => m[1]!).filter((n) => !defined.has(n));
  const opsets = `  opset "" 23\n${domain ? `  opset ${JSON.stringify(domain)} 1\n` : ''}`;
  return `graph "example" {\n${opsets}${[...new Set(used)].map((n) => `  input %${n}\n`).join('')}  ${example}\n}\n`;
}

describe('the op registry', () => {
  const ops = allOps();

  it('has every op the foundation needs', () => {
    const names = new Set(ops.map((o) => o.type));
    for (const n of ['MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Reciprocal', 'Neg', 'Exp', 'Log', 'Erf', 'Tanh', 'Sigmoid',
      'Relu', 'Gelu', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'Transpose', 'Reshape',
      'Concat', 'Split', 'Slice', 'Gather', 'Unsqueeze', 'Squeeze', 'Flatten', 'Shape', 'Cast', 'CastLike', 'Where', 'Equal', 'Expand',
      'Range', 'Trilu', 'ConstantOfShape', 'Constant', 'Identity', 'Max', 'Min', 'Clip', 'Einsum', 'Cos', 'Sin', 'RMSNormalization',
      'RotaryEmbedding', 'Attention']) {
      expect(names, n).toContain(n);
    }
  });

  for (const def of ops) {
    it(`${def.domain ? def.domain + '.' : ''}${def.type} is complete and its example parses`, () => {
      expect(def.summary.length).toBeGreaterThan(5);
      expect(def.opsets[0]).toBeLessThanOrEqual(def.opsets[1]);
      expect(def.inputs[0]).toBeLessThanOrEqual(def.inputs[1]);
      for (const [name, spec] of Object.entries(def.attrs)) {
        if (spec.default === undefined) continue;
        const d = spec.default;
        if (spec.kind === 'int' || spec.kind === 'float') expect(typeof d, name).toBe('number');
        if (spec.kind === 'string') expect(typeof d, name).toBe('string');
        if (spec.kind === 'ints' || spec.kind === 'floats' || spec.kind === 'strings') expect(Array.isArray(d), name).toBe(true);
      }
      const g = parseGraph(wrap(def.example, def.domain));
      expect(g.ops).toHaveLength(1);
      expect(g.ops[0]!.type).toBe(def.type);
      expect(g.ops[0]!.domain).toBe(def.domain);
    });
  }
});
