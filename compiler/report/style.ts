// The report page's stylesheet (inline; no fonts or anything else fetched).
// Kept free of '<' and '&' so the page also parses as XML (XHTML).

import { DEVICE_COLOURS } from './text.js';

const deviceRules = Object.entries(DEVICE_COLOURS)
  .map(([d, c]) => `.dev-${d} { background: ${c}; }\ntr.on-${d} td.device { border-left: 4px solid ${c}; }`)
  .join('\n');

export const STYLE = `
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 4px; }
h2 { font-size: 1.2em; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { font-family: ui-monospace, monospace; min-width: 16em; overflow-wrap: anywhere; }
td.why { color: #555; font-size: 12px; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; }
dl.summary dt { font-weight: bold; }
dl.summary dd { margin: 0; }
.chip { display: inline-block; color: #fff; border-radius: 3px; padding: 0 6px; font-size: 12px; }
.ok { color: #1a7f37; font-weight: bold; }
.failed { color: #cf222e; font-weight: bold; }
.speedup { font-size: 1.2em; font-weight: bold; }
.note { color: #666; font-size: 12px; }
figure { margin: 12px 0; overflow-x: auto; }
${deviceRules}
`;
