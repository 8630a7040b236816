// Element-wise ops on the vector engine (lower/elementwise.ts): Add, Mul,
// Gelu (ONNX and pimc, erf or tanh form), pimc.Silu, pimc.SwiGLU.
//
// Add and Mul are bit-exact, got = f16(want): both sides form the exact sum /
// product of two FP16 values (exact in double) and round it once to FP32; the
// device then rounds to FP16. As a bound on |got - want|: |f16(want) - want|,
// 0 when want is an f16 value (got must equal it). (A bound cannot say more:
// the other f16 neighbour of a want exactly half-way between two is as far,
// and a sum that overflows f16 is stored as an infinity against a finite want,
// which worstPnmBoundRatio counts as Infinity; the lowering's tests check the
// bits as well.)
//
// Activations (lower/bounds.ts activationBound), per element, with y the
// exact result on the stored inputs and x input 0 (SwiGLU: the gate):
//   |got - want| <= dev + ref + 2^-11 (|y| + dev) + 2^-25
//   dev = ((1 + uf)(1 + u)^k - 1)|y|   (k = 1 for GELU and SiLU, 2 for SwiGLU)
//   ref = (u + 1e-15)|y| + 2^-50 |x|
// and |y| <= (|want| + 2^-50 |x|) / (1 - u - 1e-15): the reference is within
// ref of y.

import { roundF16 } from '../../../ir/dtype.js';
import { activationBound, U } from '../lower/bounds.js';
import { boundError, f32Reference, need } from './common.js';
import { registerPnmBound, type BoundContext, type ElementBound } from './registry.js';

/** got = f16(want) (header). */
function storedExactly(c: BoundContext): ElementBound {
  f32Reference(c);
  const w = c.want[0]!.data;
  return (_o, i) => Math.abs(roundF16(w[i]!) - w[i]!);
}

function activation(kind: 'gelu' | 'silu' | 'swiglu') {
  return (c: BoundContext): ElementBound => {
    f32Reference(c);
    if (kind === 'gelu') {
      const mode = c.attrs.string('approximate', 'none');
      if (mode !== 'none' && mode !== 'tanh') boundError(c, `with approximate ${JSON.stringify(mode)}: the PNM does not lower it`);
    }
    const x = need(c, 0).data, want = c.want[0]!.data;
    if (x.length !== want.length) boundError(c, `with input 0 of ${x.length} elements against ${want.length} outputs`);
    return (_o, i) => {
      const ax = Math.abs(x[i]!);
      const absY = (Math.abs(want[i]!) + 2 ** -50 * ax) / (1 - U - 1e-15);
      return activationBound(kind, absY, ax);
    };
  };
}

registerPnmBound('', 'Add', storedExactly);
registerPnmBound('', 'Mul', storedExactly);
registerPnmBound('', 'Gelu', activation('gelu'));
registerPnmBound('pimc', 'Gelu', activation('gelu'));
registerPnmBound('pimc', 'Silu', activation('silu'));
registerPnmBound('pimc', 'SwiGLU', activation('swiglu'));
