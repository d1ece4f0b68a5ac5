// No import cycles among src/ files, type-only imports included: a cycle, even of types, means two modules are
// one concern split in two, and it hides which of them is the lower layer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|tsx|mts|cts)$/.test(e.name) ? [p] : [];
  });
}

/**
 * Every module specifier a file names: `import … from`, `import type … from`, `export … from`, a bare
 * `import '…'`, `import('…')`, `require('…')`. Text, not a parse: a specifier that does not resolve to one of the
 * scanned files is dropped below, so a look-alike inside a string costs nothing.
 */
function specifiers(text: string): string[] {
  const re = /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(re)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
}

/** The scanned file a relative specifier names, as TypeScript resolves it (extension left out, `.js` for `.ts`, a folder's index). */
function resolve(from: string, spec: string, known: Set<string>): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  const stem = base.replace(/\.[cm]?js$/, '');
  const candidates = [base, ...['.ts', '.tsx', '.mts', '.cts', '.d.ts'].map((e) => stem + e), ...['index.ts', 'index.tsx'].map((i) => path.join(base, i))];
  return candidates.find((c) => known.has(c)) ?? null;
}

/** The import graph of a folder: file → the files it imports. */
function importGraph(root: string): Map<string, string[]> {
  const files = sourceFiles(root);
  const known = new Set(files);
  return new Map(
    files.map((f) => [f, [...new Set(specifiers(fs.readFileSync(f, 'utf8')).flatMap((s) => resolve(f, s, known) ?? []))]]),
  );
}

/** Each cycle, as the files of one strongly connected component (Tarjan), relative to root and sorted. */
function cycles(graph: Map<string, string[]>, root: string): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.map((f) => path.relative(root, f)).sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('import cycles', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'll-cycles-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the scanner finds a cycle made of type-only imports, multi-line and re-exports', () => {
    const write = (name: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(tmp, name)), { recursive: true });
      fs.writeFileSync(path.join(tmp, name), text);
    };
    write('a.ts', "import type {\n  B,\n} from './b';\nexport interface A { b: B }\n");
    write('b.ts', "export type { C as B } from './lib/c.js';\n");
    write('lib/c.ts', "import type { A } from '../a';\nexport interface C { a: A }\n");
    write('lib/index.ts', "import './c';\n");
    write('d.ts', "import { x } from './lib';\nexport const y = x;\n");
    write('e.ts', "const f = () => import('./e');\n");
    expect(cycles(importGraph(tmp), tmp)).toEqual([['a.ts', 'b.ts', 'lib/c.ts'], ['e.ts']]);
  });

  it('src/ has none, type-only imports included', () => {
    const graph = importGraph(SRC);
    // The scan did read the imports: the engine's entry imports its scan.
    expect(graph.get(path.join(SRC, 'engine', 'run-script.ts'))).toContain(path.join(SRC, 'engine', 'script-scan.ts'));
    expect(cycles(graph, SRC)).toEqual([]);
  });
});
