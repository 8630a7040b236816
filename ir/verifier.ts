// The IR verifier: the invariants every pass must keep.
//
// 1. Every value is defined once (graph input, constant or op output).
// 2. Every op reads only values defined before it (ops are in topological order).
// 3. Every op is registered, with input and output counts its definition allows.
// 4. Graph outputs are defined values.
// 5. With `requireTypes`, every value has a type, and constants match their data.

import { fail, q } from './diagnostics.js';
import type { Graph, Value } from './graph.js';
import { lookupOp } from './registry.js';

export interface VerifyOptions {
  requireTypes?: boolean;
}

export function verifyGraph(g: Graph, opts: VerifyOptions = {}): void {
  const defined = new Set<Value>();
  const names = new Map<string, Value>();
  const define = (v: Value, where: string) => {
    const prev = names.get(v.name);
    if (prev && prev !== v) fail('PIMC0401', `value ${q(v.name)} is defined twice (${where})`);
    if (defined.has(v)) fail('PIMC0401', `value ${q(v.name)} is defined twice (${where})`);
    defined.add(v);
    names.set(v.name, v);
    if (opts.requireTypes && !v.type) fail('PIMC0401', `value ${q(v.name)} has no type (${where})`);
  };
  for (const v of g.inputs) {
    if (v.producer || v.constant) fail('PIMC0401', `graph input ${q(v.name)} also has a producer or data`);
    define(v, 'graph input');
  }
  for (const v of g.constants) {
    if (!v.constant) fail('PIMC0401', `constant ${q(v.name)} has no data`);
    define(v, 'constant');
    if (v.type && (v.type.dtype !== v.constant.dtype || v.type.shape.join() !== v.constant.shape.join())) {
      fail('PIMC0401', `constant ${q(v.name)} has type ${v.type.dtype}[${v.type.shape}] but data ${v.constant.dtype}[${v.constant.shape}]`);
    }
  }
  const seenOps = new Set<string>();
  for (const op of g.ops) {
    if (seenOps.has(op.name)) fail('PIMC0401', `two ops are named ${q(op.name)}`);
    seenOps.add(op.name);
    const def = lookupOp(op.domain, op.type);
    if (!def) fail('PIMC0401', `node ${q(op.name)} has unknown op ${op.type}`);
    const [imin, imax] = def.inputs;
    const [omin, omax] = def.outputs;
    if (op.inputs.length < imin || op.inputs.length > imax) {
      fail('PIMC0401', `${op.type} node ${q(op.name)} has ${op.inputs.length} inputs, expected ${imin === imax ? imin : `${imin} to ${imax}`}`);
    }
    if (op.outputs.length < omin || op.outputs.length > omax) {
      fail('PIMC0401', `${op.type} node ${q(op.name)} has ${op.outputs.length} outputs, expected ${omin === omax ? omin : `${omin} to ${omax}`}`);
    }
    for (const v of op.inputs) {
      if (v && !defined.has(v)) {
        fail('PIMC0401', `${op.type} node ${q(op.name)} reads ${q(v.name)} before it is defined`);
      }
    }
    for (const o of op.outputs) {
      if (o.producer !== op) fail('PIMC0401', `value ${q(o.name)} does not point back to its producer ${q(op.name)}`);
      define(o, `output of ${q(op.name)}`);
    }
  }
  for (const v of g.outputs) {
    if (!defined.has(v)) fail('PIMC0401', `graph output ${q(v.name)} is not defined`);
  }
}
