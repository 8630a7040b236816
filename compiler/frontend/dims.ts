// ONNX dims -> IR dims: dim_value stays a number, dim_param stays symbolic.

import { isSymbolName, parseDim } from '../../ir/dimexpr.js';
import type { Dim } from '../../ir/types.js';
import { toNum } from './tensor-proto.js';

interface DimProto {
  dimValue?: number | { toNumber(): number } | null;
  dimParam?: string | null;
  /** protobufjs names the oneof member that is set. */
  value?: string;
}

/**
 * A dim_param that is already an identifier or a dim expression ("past + 1")
 * is kept; anything else is turned into an identifier. A dim with neither a
 * value nor a name gets one made from the value's name and the axis.
 */
export function importDims(dims: readonly DimProto[], valueName: string): Dim[] {
  return dims.map((d, axis) => {
    if (d.value === 'dimParam' && d.dimParam) return symbolFor(d.dimParam);
    if (d.value === 'dimValue') {
      const v = toNum(d.dimValue as number);
      if (v >= 0) return v;
    }
    return sanitize(`${valueName}_${axis}`);
  });
}

function symbolFor(param: string): Dim {
  if (isSymbolName(param)) return param;
  try {
    const parsed = parseDim(param);
    if (typeof parsed === 'string' || parsed >= 0) return parsed;
  } catch {
    // not an expression: fall through
  }
  return sanitize(param);
}

function sanitize(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[A-Za-z_]/.test(t) ? t : `d_${t}`;
}
