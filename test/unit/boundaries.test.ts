import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3],
  );
}

function offenders(dir: string, banned: (spec: string, file: string) => boolean): string[] {
  return files(path.join(SRC, dir)).flatMap((f) =>
    imports(f)
      .filter((spec) => banned(spec, f))
      .map((spec) => `${path.relative(SRC, f)} imports ${spec}`),
  );
}

const resolvesInto = (spec: string, file: string, folder: string) =>
  spec.startsWith('.') && path.resolve(path.dirname(file), spec).startsWith(path.join(SRC, folder) + path.sep);

describe('import direction between runtimes', () => {
  it('keeps src/shared pure: no node, no vscode, no tfjs, no DOM runtime', () => {
    expect(
      offenders('shared', (s, f) =>
        s.startsWith('node:') || s === 'vscode' || s.startsWith('@tensorflow/') || ['runner', 'engine', 'host', 'webview', 'cli'].some((d) => resolvesInto(s, f, d)),
      ),
    ).toEqual([]);
  });
  it('keeps vscode in src/host alone', () => {
    const bad = (s: string) => s === 'vscode';
    expect(['runner', 'cli', 'engine', 'shared', 'webview'].flatMap((d) => offenders(d, bad))).toEqual([]);
  });
  it('keeps the engine and the CLI out of host code, and the engine out of the CLI', () => {
    expect([
      ...offenders('engine', (s, f) => ['host', 'webview', 'cli', 'runner'].some((d) => resolvesInto(s, f, d))),
      ...offenders('cli', (s, f) => ['host', 'webview', 'runner'].some((d) => resolvesInto(s, f, d))),
    ]).toEqual([]);
  });
  it('keeps the runner from importing host, engine, webview or CLI code', () => {
    expect(offenders('runner', (s, f) => ['host', 'engine', 'webview', 'cli'].some((d) => resolvesInto(s, f, d)))).toEqual([]);
  });
});
