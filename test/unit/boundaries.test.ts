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
  it('keeps the webview to itself and shared code: no node, vscode or tfjs, no engine, runner, host or CLI', () => {
    expect(
      offenders('webview', (s, f) => s.startsWith('node:') || s === 'vscode' || s.startsWith('@tensorflow/') || ['engine', 'runner', 'host', 'cli'].some((d) => resolvesInto(s, f, d))),
    ).toEqual([]);
  });
  it('lets nothing but the webview import webview code (the harness and tests, outside src, may)', () => {
    expect(['shared', 'engine', 'runner', 'host', 'cli'].flatMap((d) => offenders(d, (s, f) => resolvesInto(s, f, 'webview')))).toEqual([]);
  });
});

/**
 * The floors of src/shared, bottom up; a file imports only its own floor and the ones below:
 * - protocol: the runner contract (zod schemas of what crosses the channel, init.json, the wire numbers). The
 *   ground floor: only itself and zod, so a runner in any language can be held to it (schema/runner-events.schema.json).
 * - format: text helpers (numbers, names made safe to display).
 * - model: the run state and its reducer, built from the contract's shapes.
 * - analysis: the rules, findings and the report, read from the model.
 * - panel: the host ↔ webview contract, which carries the model and the findings.
 */
const SHARED_FLOORS = ['protocol', 'format', 'model', 'analysis', 'panel'] as const;

function floorOf(file: string): number {
  const first = path.relative(path.join(SRC, 'shared'), file).split(path.sep)[0].replace(/\.ts$/, '');
  return SHARED_FLOORS.indexOf(first as (typeof SHARED_FLOORS)[number]);
}

describe('the floors inside src/shared', () => {
  it('puts every file of src/shared on a floor', () => {
    expect(files(path.join(SRC, 'shared')).filter((f) => floorOf(f) < 0).map((f) => path.relative(SRC, f))).toEqual([]);
  });
  it('keeps protocol/ the ground floor: it imports only itself and zod', () => {
    expect(offenders('shared/protocol', (s, f) => (s.startsWith('.') ? !resolvesInto(s, f, 'shared/protocol') : s !== 'zod'))).toEqual([]);
  });
  it('never imports from a floor above', () => {
    expect(
      offenders('shared', (s, f) => s.startsWith('.') && resolvesInto(s, f, 'shared') && floorOf(path.resolve(path.dirname(f), s)) > floorOf(f)),
    ).toEqual([]);
  });
});
