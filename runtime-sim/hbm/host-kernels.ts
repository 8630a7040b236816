// The non-PIM baselines of HARDWARE.md 5 as host memory traffic: the host
// reads every weight and operand and writes the result through the ordinary
// controller (host-controller.ts); compute on the host is not timed. Layout
// and order as in the reference's traces: operands back to back from address
// 0, read in full one after the other, then the result written.
//   GEMV m x n: W (m*n FP16), then x (n), then y (m) written;
//     on pCH 0 the input is read after the weights (row 32 in the trace).
//   ADD / MUL n: A, B read, C written.   RELU (and other unary) n: A read, C written.

import type { HostRequest } from './host-controller.js';

export type BaselineKernel =
  | { kind: 'gemv'; m: number; n: number }
  | { kind: 'add' | 'mul' | 'relu' | 'mad'; size: number };

const FP16 = 2;

export function baselineRequests(k: BaselineKernel): HostRequest[] {
  const out: HostRequest[] = [];
  let addr = 0;
  const add = (kind: 'RD' | 'WR', elements: number) => {
    out.push({ kind, addr, bytes: elements * FP16 });
    addr += elements * FP16;
  };
  if (k.kind === 'gemv') {
    add('RD', k.m * k.n);
    add('RD', k.n);
    add('WR', k.m);
  } else {
    add('RD', k.size);
    if (k.kind === 'add' || k.kind === 'mul') add('RD', k.size);
    add('WR', k.size);
  }
  return out;
}
