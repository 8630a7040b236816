// Runs every textual-IR test in tests/ir/: produce the IR, then check its lines.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, parseDirectives, produce } from '../compiler/tools/filecheck.js';

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'tests/ir');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ir')).sort();

describe('textual-IR tests', () => {
  it('has check files', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(f, () => {
      const file = path.join(dir, f);
      const { checks } = parseDirectives(fs.readFileSync(file, 'utf8'));
      expect(checks.length).toBeGreaterThan(0);
      expect(check(produce(file, root), checks)).toEqual([]);
    });
  }
});

describe('the checker itself', () => {
  const out = 'a = Foo(x)\nb = Bar(a)\nc = Foo(b)\n';
  const run = (spec: string) => check(out, parseDirectives(spec).checks);
  it('accepts what holds', () => {
    expect(run('# CHECK: Foo\n# CHECK-NEXT: Bar\n# CHECK-COUNT-2: = Foo(\n# CHECK-NOT: Baz')).toEqual([]);
    expect(run('# CHECK: {{^b}} = Bar')).toEqual([]);
  });
  it('reports what does not', () => {
    expect(run('# CHECK: Bar\n# CHECK: Bar')).toHaveLength(1);
    expect(run('# CHECK: a =\n# CHECK-NOT: Bar\n# CHECK: c =')).toHaveLength(1);
    expect(run('# CHECK-COUNT-3: Foo')).toHaveLength(1);
    expect(run('# CHECK: a =\n# CHECK-NEXT: c =')).toHaveLength(1);
  });
});
