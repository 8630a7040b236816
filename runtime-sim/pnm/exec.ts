// One descriptor, functionally: gathers its views, runs the engine's kernel,
// scatters the result (rounded to the output's dtype). Moves copy bits.

import type { Descriptor } from '../../backends/cxl-pnm/instr.js';
import type { Resolved } from './check.js';
import { execAttention, execGemm } from './exec-matrix.js';
import { execElementwise, execRows } from './exec-vector.js';
import type { PnmMemory } from './memory.js';
import { copyView, elementCount, gather, scatter, subView } from './views.js';

const ROW_OPS = new Set(['softmax', 'layernorm', 'rmsnorm', 'rope']);

export function execDescriptor(mem: PnmMemory, d: Descriptor, v: Resolved): void {
  switch (d.op) {
    case 'gemm':
      return execGemm(mem, v, d.imm);
    case 'attention':
      return execAttention(mem, v, d.imm);
    case 'copy':
      return copyView(mem, v.ins[0]!, v.out);
    case 'kv_append': {
      // The new rows land at position imm of the cache's sequence dim (rank - 2).
      const ax = v.out.dims.length - 2;
      return copyView(mem, v.ins[0]!, subView(v.out, ax, d.imm, v.ins[0]!.dims[ax]!));
    }
    default: {
      const ins = v.ins.map((e) => gather(mem, e));
      const y = new Float64Array(elementCount(v.out));
      if (ROW_OPS.has(d.op)) execRows(d.op, d.flags, d.imm, v.out.dims[v.out.dims.length - 1]!, ins, y);
      else execElementwise(d.op, d.flags, ins, y);
      scatter(mem, v.out, y);
    }
  }
}
