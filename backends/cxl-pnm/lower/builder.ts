// Builds one PnmProgram: a tensor table with one entry per distinct view, and
// the units' descriptor queues. `emitSplit` spreads a nest over the units.

import { fail } from '../../../ir/diagnostics.js';
import { NO_TENSOR, type Descriptor, type PnmOp, type PnmProgram, type TensorEntry } from '../instr.js';
import { MAX_TABLE_ENTRIES } from '../isa.js';
import { entryOf, peel, splitBox, type Box, type Nest } from './nest.js';
import type { PnmLowerContext } from './types.js';

export class ProgramBuilder {
  private readonly table: TensorEntry[] = [];
  private readonly ids = new Map<string, number>();
  private readonly queues: Descriptor[][];
  /** Next unit for work that is not tied to one (round robin over peeled nests). */
  private nextUnit_ = 0;

  constructor(private readonly ctx: PnmLowerContext) {
    this.queues = Array.from({ length: ctx.pnm.units }, () => []);
  }

  get units(): number {
    return this.queues.length;
  }

  /** The table id of a view (one entry per distinct view). */
  id(e: TensorEntry): number {
    const k = `${e.dtype}@${e.addr}:${e.dims.join(',')}/${e.strides.join(',')}`;
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.table.length;
      if (id >= MAX_TABLE_ENTRIES) fail('PIMC1206', `op ${JSON.stringify(this.ctx.op.name)} needs more than ${MAX_TABLE_ENTRIES} tensor-table entries`);
      this.table.push(e);
      this.ids.set(k, id);
    }
    return id;
  }

  emit(unit: number, op: PnmOp, out: TensorEntry, ins: readonly (TensorEntry | null)[], imm = 0, flags = 0): void {
    const i = ins.map((e) => (e ? this.id(e) : NO_TENSOR));
    this.queues[unit % this.units]!.push({ op, flags, out: this.id(out), in0: i[0] ?? NO_TENSOR, in1: i[1] ?? NO_TENSOR, in2: i[2] ?? NO_TENSOR, imm });
  }

  /**
   * One descriptor per box of each (peeled) nest: boxes split the
   * `splittable` dims over the units. Operand 0 is the output; the others
   * follow in slot order.
   */
  emitSplit(n: Nest, splittable: readonly number[], op: PnmOp, imm = 0, flags = 0): void {
    // Peeling drops leading dims: splittable dims are counted from the end.
    const fromEnd = splittable.map((d) => n.dims.length - d);
    for (const p of peel(n)) {
      const split = fromEnd.map((k) => p.dims.length - k).filter((d) => d >= 0);
      for (const box of splitBox(p.dims, split, this.units)) {
        const [out, ...ins] = p.ops.map((o) => entryOf(o, p.dims, box));
        this.emit(this.nextUnit(), op, out!, ins, imm, flags);
      }
    }
  }

  /** The next unit in round-robin order (for callers that emit box by box). */
  nextUnit(): number {
    return this.nextUnit_++ % this.units;
  }

  /** Boxes for dependent chains: the caller emits every step of box i on unit i. */
  boxes(dims: readonly number[], splittable: readonly number[]): Box[] {
    return splitBox(dims, splittable, this.units);
  }

  build(): PnmProgram {
    const depth = this.ctx.pnm.queueDepth;
    const worst = Math.max(...this.queues.map((q) => q.length));
    if (worst > depth) fail('PIMC1206', `op ${JSON.stringify(this.ctx.op.name)} needs ${worst} descriptors on one unit; a queue holds ${depth} per doorbell`);
    return { name: this.ctx.op.name, table: this.table, queues: this.queues };
  }
}
