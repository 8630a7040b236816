// `pimc report`: the page for gpt2_decode on npu+hbm-pim names every op and
// draws the three charts and the roofline; op names (user data) are escaped;
// a bad -o path is a coded error and leaves no file; and a real browser
// (headless Chromium, when installed) parses the page, as HTML and as XML,
// into the SVG elements we wrote.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportModel } from '../api/report.js';
import { runCli } from '../cli/main.js';
import type { ReportData } from './data.js';
import { renderReport } from './html.js';
import { esc } from './text.js';

const MODEL = path.resolve(__dirname, '../../examples/models/gpt2_decode/model.onnx');
const HW = 'npu+hbm-pim';
const HOSTILE = `</td></tr></table><script>alert("pwn'd & more")</script><img src=x onerror=alert(1)>`;

/** A chromium binary on PATH, or undefined. */
function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      const f = path.join(dir, name);
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return f;
      } catch { /* not here */ }
    }
  }
  return undefined;
}
const chromium = findChromium();
if (!chromium) console.warn('report.test.ts: the headless-browser check is skipped: chromium is not installed (no chromium on PATH; apt-get install chromium)');

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

/** The op renamed everywhere the report data names it. */
function renameOp(d: ReportData, from: string, to: string): ReportData {
  const c = structuredClone(d);
  for (const o of c.ops) if (o.name === from) o.name = to;
  for (const s of c.timeline) if (s.name === from) s.name = to;
  for (const sc of c.analysis.scenarios) for (const o of sc.ops) if (o.name === from) o.name = to;
  return c;
}

const count = (s: string, what: string | RegExp) => s.split(what).length - 1;

let tmp: string;
let page: ReturnType<typeof reportModel>;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-report-'));
  page = reportModel(MODEL, { hw: HW });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('pimc report gpt2_decode --hw npu+hbm-pim', () => {
  it('names every op with its device, draws the roofline, the bar charts and the timeline, and states the speed-up and the verification', () => {
    const { html, data, summary } = page;
    expect(data.ops.length).toBeGreaterThan(20);
    for (const op of data.ops) {
      expect(html, op.name).toContain(`<td class="name">${esc(op.name)}</td>`);
    }
    // both devices used, each op's row coloured by its device
    expect(new Set(data.ops.map((o) => o.device))).toEqual(new Set(['npu', 'pim']));
    expect(count(html, '<tr class="on-pim">')).toBe(data.placement.pim);
    // the three SVGs of the page plus the roofline
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="chart-devices"');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="chart-ops"');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="chart-timeline"');
    expect(html).toContain(`<title>roofline of ${esc(MODEL)} on ${HW}</title>`);
    expect(count(html, '<svg ')).toBe(4);
    expect(count(html, '<rect class="step"')).toBe(data.timeline.length);
    // the speed-up over the npu preset, from simulating both
    expect(summary.speedup).toBeGreaterThan(1);
    expect(summary.speedup).toBeCloseTo(summary.npuSeconds / summary.seconds, 12);
    expect(html).toContain(`<span class="speedup">${summary.speedup.toFixed(2)}x</span>`);
    // verified against the test data beside the model
    expect(summary.ok).toBe(true);
    expect(data.verification.outputs.every((o) => o.against === 'test data')).toBe(true);
    expect(html).toContain('outputs within the FP16 tolerance');
    // self-contained: nothing fetched, nothing run
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/[^"]*"/g, '')).not.toMatch(/https?:/);
    // the same data, the same page
    expect(renderReport(structuredClone(data))).toBe(html);
  });

  it('escapes op names: a hostile name stays text', () => {
    const victim = page.data.ops.find((o) => o.device === 'pim' && (o.simulated ?? 0) > 0)!;
    const d = renameOp(page.data, victim.name, HOSTILE);
    d.model = `evil"'<model>&.onnx`;
    const html = renderReport(d);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<script|<img|<\/td><\/tr><\/table>/);
    expect(html).toContain(`<td class="name">${esc(HOSTILE)}</td>`);
    expect(esc(HOSTILE)).toBe('&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(&quot;pwn&#39;d &amp; more&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(`<h1>pimc report: evil&quot;&#39;&lt;model&gt;&amp;.onnx on ${HW}</h1>`);
    fs.writeFileSync(path.join(tmp, 'hostile.html'), html);
  });

  it('the CLI writes the same page atomically', async () => {
    const file = path.join(tmp, 'out', 'report.html');
    const r = await cli(['report', MODEL, '--hw', HW, '-o', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/x over npu/);
    expect(r.out).toContain(`wrote ${file}`);
    expect(fs.readFileSync(file, 'utf8')).toBe(page.html);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['report.html']);
  });

  it('a bad -o path is a coded error (exit 2) and leaves no file', async () => {
    const blocker = path.join(tmp, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const bad = path.join(blocker, 'report.html');
    const r = await cli(['report', MODEL, '--hw', HW, '-o', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0104: cannot write ".*not-a-dir\/report\.html"/);
    expect(fs.existsSync(bad)).toBe(false);
    expect(fs.readFileSync(blocker, 'utf8')).toBe('x');
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('without test data: a coded error naming the folder it looked for', async () => {
    const dir = path.join(tmp, 'lonely');
    fs.mkdirSync(dir);
    fs.copyFileSync(MODEL, path.join(dir, 'model.onnx'));
    const r = await cli(['report', path.join(dir, 'model.onnx'), '--hw', HW, '-o', path.join(dir, 'r.html')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0605: no test data for .*: ".*lonely\/test_data_set_0" does not exist; pass --inputs DIR/);
    expect(fs.existsSync(path.join(dir, 'r.html'))).toBe(false);
  });
});

describe('in a real browser', () => {
  const run = promisify(execFile);
  const dumpDom = async (file: string) => {
    const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
    const { stdout } = await run(chromium!, ['--headless', '--disable-gpu', '--no-sandbox', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`], { timeout: 60_000, maxBuffer: 64 << 20 });
    return stdout;
  };

  it.skipIf(!chromium)(`headless Chromium parses the page (as HTML and as XHTML) into its SVGs${chromium ? '' : ' (skipped: chromium not installed)'}`, async () => {
    const file = path.join(tmp, 'page.html');
    fs.writeFileSync(file, page.html);
    fs.writeFileSync(path.join(tmp, 'page.xhtml'), page.html);
    // a broken XHTML page, to show the XML check can fail
    fs.writeFileSync(path.join(tmp, 'broken.xhtml'), page.html.replace('<td class="name">', '<td class="name"><b>'));
    const [dom, xdom, broken, hostile] = await Promise.all([
      dumpDom(file), dumpDom(path.join(tmp, 'page.xhtml')), dumpDom(path.join(tmp, 'broken.xhtml')), dumpDom(path.join(tmp, 'hostile.html')),
    ]);
    for (const d of [dom, xdom]) {
      expect(d).not.toMatch(/parsererror|This page contains the following errors/);
      for (const cls of ['chart-devices', 'chart-ops', 'chart-timeline']) expect(d).toMatch(new RegExp(`<svg [^>]*class="${cls}"`));
      expect(count(d, '<svg ')).toBe(4);
      expect(count(d, /<rect class="step"/)).toBe(page.data.timeline.length);
      expect(count(d, '<circle ')).toBeGreaterThan(page.data.placement.pim!);
      expect(count(d, /<tr class="on-/)).toBe(page.data.ops.length);
      expect(d).not.toMatch(/<script/);
    }
    expect(broken).toMatch(/parsererror/);
    // the hostile op name rendered as text: no element came out of it
    expect(hostile).not.toMatch(/<script|<img/);
    expect(count(hostile, /<tr class="on-/)).toBe(page.data.ops.length);
    expect(hostile).toContain('alert("pwn\'d &amp; more")');
  });
});
