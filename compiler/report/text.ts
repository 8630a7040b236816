// Text helpers of the report page: escaping (every string that came from the
// model or the user goes through esc), number formatting, device colours.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG element content and quoted attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Device colours, the same as the roofline plot's (compiler/analysis/roofline-svg.ts). */
export const DEVICE_COLOURS: Record<string, string> = { npu: '#1f77b4', pim: '#d62728', pnm: '#2ca02c', link: '#7f7f7f' };

export const colourOf = (device: string): string => DEVICE_COLOURS[device] ?? '#9467bd';

/** Seconds in the unit that reads best (s, ms, us, ns), 3 significant digits. */
export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s === 0) return '0';
  const a = Math.abs(s);
  const [scale, unit] = a >= 1 ? [1, 's'] : a >= 1e-3 ? [1e3, 'ms'] : a >= 1e-6 ? [1e6, 'us'] : [1e9, 'ns'];
  return `${+(s * scale).toPrecision(3)} ${unit}`;
}

/** A coordinate for SVG: at most two decimals, no trailing zeros. */
export const px = (v: number): string => String(Math.round(v * 100) / 100);

export function fmtShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/** Shortens a label to n characters (the full text goes into a tooltip). */
export function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}\u2026`;
}
