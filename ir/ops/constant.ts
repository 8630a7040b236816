// Constant: a tensor given by one attribute. The importer turns Constant nodes
// into graph constants through run(), so the attribute forms live only here.

import { registerOp, type RunContext } from '../registry.js';
import { Tensor } from '../tensor.js';
import { op } from './support.js';

function constantValue(ctx: RunContext): Tensor {
  const a = ctx.attrs;
  const given = ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'sparse_value', 'value_string', 'value_strings']
    .filter((n) => a.has(n));
  if (given.length !== 1) ctx.error(`Constant needs exactly one value attribute, got ${given.length ? given.join(', ') : 'none'}`);
  switch (given[0]) {
    case 'value': return a.tensor('value')!;
    case 'value_float': return Tensor.scalar('f32', a.float('value_float'));
    case 'value_floats': return Tensor.vector('f32', a.floats('value_floats')!);
    case 'value_int': return Tensor.scalar('i64', a.int('value_int'));
    case 'value_ints': return Tensor.vector('i64', a.ints('value_ints')!);
    default: return ctx.error(`Constant attribute ${given[0]} is not supported (sparse and string tensors are out of scope)`);
  }
}

registerOp(op({
  type: 'Constant',
  summary: 'a constant tensor (imported as a graph constant)',
  opsets: [1, 23],
  inputs: [0, 0],
  outputs: [1, 1],
  attrs: {
    value: { kind: 'tensor' },
    value_float: { kind: 'float' },
    value_floats: { kind: 'floats' },
    value_int: { kind: 'int' },
    value_ints: { kind: 'ints' },
    value_string: { kind: 'string' },
    value_strings: { kind: 'strings' },
    sparse_value: { kind: 'tensor' },
  },
  infer: (ctx) => {
    const t = constantValue({ op: ctx.op, attrs: ctx.attrs, opset: ctx.opset, error: ctx.error });
    return [{ dtype: t.dtype, shape: t.shape }];
  },
  run: (ctx) => [constantValue(ctx)],
  cost: () => ({ flops: 0, bytes: 0 }),
  example: '%c : f32[] = Constant() {value_float = 0.5}',
}));
