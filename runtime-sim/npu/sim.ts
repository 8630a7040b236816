// The NPU simulator (api.ts RunNpu): every instruction executed functionally
// (exec.ts) and timed (timing.ts), engines concurrently.
//
// Scheduling [ours]: each engine has a front-end time. The simulator always
// steps the runnable engine with the smallest time (ties: lowest engine), one
// instruction at a time, so shared resources see requests in global time
// order:
// - DMAs issue in program order at the engine's time and cost the front end
//   nothing; the transfer runs on the memory's FIFO server (timing.ts) and
//   completes later. `wait.dma T` moves the engine to the completion of every
//   DMA with tag T issued so far. `end` waits for all of the engine's DMAs.
// - MATMUL and VEC block the front end: one starts when the previous one has
//   finished (and it is issued), and the engine's time moves to its end. DMAs
//   issued earlier keep running, which is how programs overlap DMA with
//   compute.
// - `signal S` adds 1 at the engine's time; `wait.sem S, N` continues at once
//   if S >= N (subtracting N), else blocks until signals make S >= N and
//   continues at the cycle of the signal that did (waiters are served in the
//   order they began waiting). If every unfinished engine is blocked, that is
//   a deadlock (PIMC1004).
// Faults are PimcErrors naming program, engine, instruction index and cycle.

import { fail } from '../../ir/diagnostics.js';
import type { Instr, NpuProgram, View } from '../../backends/npu/instr.js';
import { mnemonic } from '../../backends/npu/isa.js';
import type { NpuEngineStats, NpuRunOptions, NpuRunStats, RunNpu, NpuMemoryApi } from './api.js';
import { checkInstr, type Bad, type Sizes } from './check.js';
import { execDma, execGather, execMatmul, execVec, gatherRows, tableRow } from './exec.js';
import { describeConflict, DmaTracker, type Access } from './hazards.js';
import { NpuMemory } from './memory.js';
import { burstBytes, matmulCycles, matmulMacs, npuTiming, transferCycles, vecCycles, vecElements, viewBytes, type NpuTiming } from './timing.js';
import { footprint, runs, type Run } from './views.js';

interface Engine {
  id: number;
  instrs: readonly Instr[];
  pc: number;
  time: number;
  state: 'ready' | 'blocked' | 'done';
  /** Cycle a blocked wait.sem began. */
  blockedAt: number;
  /** Completion of the last DMA per tag, and of all DMAs. */
  tagEnd: Map<number, number>;
  dmaEnd: number;
  /** DMA busy time is the union of in-flight intervals: covered up to here. */
  dmaCovered: number;
  stats: NpuEngineStats;
}

type DmaInstr = Extract<Instr, { op: 'dma.load' | 'dma.store' | 'dma.gather' }>;
type VecInstr = Extract<Instr, { op: 'vec.unary' | 'vec.binary' | 'vec.scalar' | 'vec.reduce' }>;

export const runNpu: RunNpu = (program, memory, options) => new NpuSim(program, memory, options).run();

class NpuSim {
  private readonly mem: NpuMemory;
  private readonly t: NpuTiming;
  private readonly sizes: Sizes;
  private readonly engines: Engine[];
  private readonly dmas = new DmaTracker();
  /** Cycle each memory's DMA server is free. */
  private readonly serverFree = { dram: 0, shared: 0 };
  private readonly sems = new Map<number, number>();
  private readonly waiters: { engine: Engine; sem: number; count: number }[] = [];
  private dramBytes = 0;
  private readonly functional: boolean;

  constructor(private readonly program: NpuProgram, memory: NpuMemoryApi, private readonly opts: NpuRunOptions) {
    const hw = opts.hw;
    this.functional = opts.functional ?? true;
    const name = `NPU program ${JSON.stringify(program.name)}`;
    if (!hw.npu) fail('PIMC1009', `${name}: hardware ${JSON.stringify(hw.name)} has no NPU`);
    if (!(memory instanceof NpuMemory)) throw new Error('internal: runNpu needs the NpuMemory of runtime-sim/npu/memory.ts');
    this.mem = memory;
    this.t = npuTiming(hw);
    this.sizes = { dram: memory.dramBytes, shared: memory.sharedBytes, spad: memory.scratchpadBytes };
    const n = program.engines.length;
    if (n > hw.npu.engines || n > memory.scratchpads.length) {
      fail('PIMC1009', `${name} has ${n} engine lists; ${hw.name} has ${Math.min(hw.npu.engines, memory.scratchpads.length)} engines`);
    }
    this.engines = program.engines.map((instrs, id) => this.newEngine(id, instrs, name));
  }

  private newEngine(id: number, instrs: readonly Instr[], name: string): Engine {
    if (!Array.isArray(instrs)) fail('PIMC1005', `${name}: engine ${id}'s instruction list is not a list`);
    const ends = instrs.flatMap((ins, i) => (ins?.op === 'end' ? [i] : []));
    if (instrs.length && !ends.length) {
      fail('PIMC1005', `${name}: engine ${id}, instruction ${instrs.length}, cycle 0: no end after the last instruction (index ${instrs.length - 1}); finish the list with end`);
    }
    if (ends.length && ends[0] !== instrs.length - 1) {
      const i = ends[0]! + 1;
      fail('PIMC1005', `${name}: engine ${id}, instruction ${i} (${this.mn(instrs[i]!)}), cycle 0: instructions after end (instruction ${ends[0]}); end must be last`);
    }
    const unit = () => ({ busy: 0, instructions: 0 });
    return {
      id, instrs, pc: 0, time: 0, state: instrs.length ? 'ready' : 'done', blockedAt: 0, tagEnd: new Map(), dmaEnd: 0, dmaCovered: 0,
      stats: { dma: { ...unit(), bytes: 0 }, matmul: { ...unit(), macs: 0 }, vec: { ...unit(), elements: 0 }, end: 0 },
    };
  }

  private mn(ins: Instr): string {
    try {
      return mnemonic(ins);
    } catch {
      return String((ins as { op?: unknown })?.op);
    }
  }

  private where(en: Engine, t: number): string {
    return `NPU program ${JSON.stringify(this.program.name)}: engine ${en.id}, instruction ${en.pc} (${this.mn(en.instrs[en.pc]!)}), cycle ${t}`;
  }

  run(): NpuRunStats {
    for (;;) {
      let next: Engine | undefined;
      for (const en of this.engines) if (en.state === 'ready' && (!next || en.time < next.time)) next = en;
      if (!next) break;
      this.step(next);
    }
    const blocked = this.engines.filter((en) => en.state === 'blocked');
    if (blocked.length) this.deadlock(blocked);
    return this.stats();
  }

  private deadlock(blocked: Engine[]): never {
    const what = blocked.map((en) => {
      const ins = en.instrs[en.pc] as Extract<Instr, { op: 'wait.sem' }>;
      return `engine ${en.id}, instruction ${en.pc} (wait.sem ${ins.sem}, ${ins.count}) waits since cycle ${en.blockedAt} with semaphore ${ins.sem} at ${this.sems.get(ins.sem) ?? 0}`;
    });
    const done = this.engines.filter((en) => en.state === 'done').map((en) => en.id);
    return fail('PIMC1004', `NPU program ${JSON.stringify(this.program.name)}: engines ${blocked.map((en) => en.id).join(', ')} deadlock: ${what.join('; ')}; ` +
      `${done.length === 0 ? 'no engine has ended' : done.length === 1 ? `engine ${done[0]} has ended` : `engines ${done.join(', ')} have ended`} and no signal can come`);
  }

  private step(en: Engine): void {
    const ins = en.instrs[en.pc]!;
    const t = en.time;
    const bad: Bad = (code, what) => fail(code, `${this.where(en, t)}: ${what}`);
    if (!ins || typeof ins !== 'object') bad('PIMC1003', `not an instruction: ${JSON.stringify(ins)}`);
    checkInstr(ins, this.sizes, bad);
    this.dmas.prune(t);
    switch (ins.op) {
      case 'dma.load':
      case 'dma.store':
      case 'dma.gather':
        this.dma(en, ins, t, bad);
        break;
      case 'wait.dma': {
        const end = Math.max(t, en.tagEnd.get(ins.tag) ?? 0);
        this.trace(en, 'sync', t, end);
        en.time = end;
        break;
      }
      case 'matmul':
      case 'vec.unary':
      case 'vec.binary':
      case 'vec.scalar':
      case 'vec.reduce':
        this.compute(en, ins, t, bad);
        break;
      case 'signal':
        this.sems.set(ins.sem, (this.sems.get(ins.sem) ?? 0) + 1);
        this.trace(en, 'sync', t, t);
        en.pc++;
        this.wake(ins.sem, t);
        return;
      case 'wait.sem': {
        const have = this.sems.get(ins.sem) ?? 0;
        if (have >= ins.count) {
          this.sems.set(ins.sem, have - ins.count);
          this.trace(en, 'sync', t, t);
          break;
        }
        en.state = 'blocked';
        en.blockedAt = t;
        this.waiters.push({ engine: en, sem: ins.sem, count: ins.count });
        return;
      }
      case 'end': {
        const end = Math.max(t, en.dmaEnd);
        if (end > t) this.trace(en, 'sync', t, end);
        en.time = end;
        en.stats.end = end;
        en.state = 'done';
        return;
      }
    }
    en.pc++;
  }

  private wake(sem: number, t: number): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      const have = this.sems.get(w.sem) ?? 0;
      if (w.sem !== sem || have < w.count) continue;
      this.sems.set(sem, have - w.count);
      this.waiters.splice(i--, 1);
      const en = w.engine;
      this.trace(en, 'sync', en.blockedAt, Math.max(en.blockedAt, t));
      en.time = Math.max(en.time, t);
      en.state = 'ready';
      en.pc++;
    }
  }

  private dma(en: Engine, ins: DmaInstr, t: number, bad: Bad): void {
    const accesses: Access[] = [];
    const add = (name: string, space: Access['space'], write: boolean, r: Run[]) => accesses.push({ name, space, write, engine: en.id, runs: r });
    let memRuns: Run[];
    let space: 'dram' | 'shared';
    let bytes: number;
    if (ins.op === 'dma.gather') {
      add('index', 'spad', false, footprint(ins.index));
      this.checkConflicts(accesses, en, bad); // the index must be complete before it is read
      const rows = gatherRows(this.mem, en.id, ins, bad);
      memRuns = rows.flatMap((r) => runs(tableRow(ins.table, r)));
      space = ins.table.space as 'dram' | 'shared';
      add('table', space, false, [...memRuns].sort((a, b) => a.start - b.start));
      add('dst', 'spad', true, footprint(ins.dst));
      bytes = viewBytes(ins.dst);
      this.checkConflicts(accesses, en, bad);
      if (this.functional) execGather(this.mem, en.id, ins, rows);
    } else {
      const load = ins.op === 'dma.load';
      const memView = load ? ins.src : ins.dst;
      memRuns = runs(memView);
      space = memView.space as 'dram' | 'shared';
      add('src', ins.src.space, false, footprint(ins.src));
      add('dst', ins.dst.space, true, footprint(ins.dst));
      bytes = viewBytes(ins.src);
      this.checkConflicts(accesses, en, bad);
      if (this.functional) execDma(this.mem, en.id, ins);
    }
    const xfer = transferCycles(this.t, space, burstBytes(this.t, memRuns));
    const begin = Math.max(t, this.serverFree[space]);
    this.serverFree[space] = begin + xfer;
    const end = begin + xfer + this.t.dmaLatencyCycles;
    this.dmas.add({ engine: en.id, index: en.pc, mnemonic: ins.op, tag: ins.tag, issue: t, end, accesses });
    en.tagEnd.set(ins.tag, Math.max(end, en.tagEnd.get(ins.tag) ?? 0));
    en.dmaEnd = Math.max(en.dmaEnd, end);
    const s = en.stats.dma;
    s.instructions++;
    s.bytes += bytes;
    s.busy += Math.max(0, end - Math.max(t, en.dmaCovered));
    en.dmaCovered = Math.max(en.dmaCovered, end);
    if (space === 'dram') this.dramBytes += bytes;
    this.trace(en, 'dma', t, end);
  }

  private checkConflicts(accesses: Access[], en: Engine, bad: Bad): void {
    const c = this.dmas.conflict(accesses);
    if (c) bad('PIMC1002', describeConflict(c, en.id));
  }

  private compute(en: Engine, ins: Extract<Instr, { op: 'matmul' }> | VecInstr, t: number, bad: Bad): void {
    if (this.dmas.touchesSpad(en.id)) {
      const acc = (name: string, v: View, write: boolean): Access => ({ name, space: 'spad', engine: en.id, write, runs: footprint(v) });
      const list = ins.op === 'matmul'
        ? [acc('a', ins.a, false), acc('b', ins.b, false), acc('c', ins.c, true)]
        : [acc('a', ins.a, false), ...(ins.op === 'vec.binary' ? [acc('b', ins.b, false)] : []), acc('dst', ins.dst, true)];
      this.checkConflicts(list, en, bad);
    }
    let cycles: number;
    if (ins.op === 'matmul') {
      cycles = matmulCycles(this.t, ins.a, ins.b);
      if (this.functional) execMatmul(this.mem, en.id, ins);
      en.stats.matmul.macs += matmulMacs(ins.a, ins.b);
      en.stats.matmul.instructions++;
      en.stats.matmul.busy += cycles;
      this.trace(en, 'matmul', t, t + cycles);
    } else {
      const n = vecElements(ins);
      cycles = vecCycles(this.t, n);
      if (this.functional) execVec(this.mem, en.id, ins);
      en.stats.vec.elements += n;
      en.stats.vec.instructions++;
      en.stats.vec.busy += cycles;
      this.trace(en, 'vec', t, t + cycles);
    }
    en.time = t + cycles;
  }

  private trace(en: Engine, unit: 'dma' | 'matmul' | 'vec' | 'sync', start: number, end: number): void {
    if (!this.opts.trace) return;
    this.opts.trace({ engine: en.id, unit, index: en.pc, name: this.mn(en.instrs[en.pc]!), start, end });
  }

  private stats(): NpuRunStats {
    const npu = this.t.npu;
    const end = Math.max(0, ...this.engines.map((en) => en.stats.end));
    const cycles = this.t.launchCycles + end;
    const seconds = cycles / (npu.clockGHz * 1e9);
    const engines = this.engines.map((en) => en.stats);
    const macs = engines.reduce((n, e) => n + e.matmul.macs, 0);
    return {
      cycles,
      seconds,
      engines,
      dmaBytes: engines.reduce((n, e) => n + e.dma.bytes, 0),
      macs,
      arrayUtilization: cycles ? macs / (cycles * npu.engines * npu.arrayRows * npu.arrayCols) : 0,
      achievedGBps: seconds ? this.dramBytes / seconds / 1e9 : 0,
    };
  }
}
