/**
 * What the module hooks decide, shared by the CommonJS side (main thread) and the ES module hooks (which run
 * on their own thread on Node 20–22): which specifiers are the one instrumented tfjs, how a TypeScript file is
 * loaded, and where a TypeScript import without its extension (or with `.js` for a `.ts`) points.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TranspiledModule } from '../shared/protocol/runner-protocol';
import { TsconfigPaths } from './tsconfig-paths';

export const TS_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'] as const;

/** Generated stand-ins for each mapped tfjs specifier: one file for require(), one for import. */
export interface TfjsStandIns {
  [specifier: string]: { cjs: string; esm: string };
}

/** The data the ES module hooks receive (structured-cloned to their thread). */
export interface HooksData {
  tfjs: TfjsStandIns;
  transpiled: Record<string, TranspiledModule>;
  /** dist/ of Loss Lens: esbuild lives beside it, for TypeScript the host did not see. */
  esbuildFrom: string;
}

export function isTypeScript(file: string): boolean {
  return /\.(ts|tsx|mts|cts)$/.test(file) && !file.endsWith('.d.ts');
}

export function isRelativeOrAbsolute(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..' || specifier.startsWith('/') || specifier.startsWith('file:') || /^[A-Za-z]:[\\/]/.test(specifier);
}

/**
 * TypeScript's own resolution for a relative import that Node could not find: `./x.js` meaning `./x.ts`,
 * `./x` meaning `./x.ts`, `./x/index.ts` and the JavaScript siblings TypeScript also accepts.
 */
export function typeScriptCandidates(specifier: string): string[] {
  const swaps: Array<[RegExp, string[]]> = [
    [/\.js$/, ['.ts', '.tsx']],
    [/\.jsx$/, ['.tsx']],
    [/\.mjs$/, ['.mts']],
    [/\.cjs$/, ['.cts']],
  ];
  for (const [re, exts] of swaps) if (re.test(specifier)) return exts.map((e) => specifier.replace(re, e));
  if (/\.[cm]?tsx?$/.test(specifier)) return [];
  const base = specifier.replace(/\/$/, '');
  return [
    ...['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'].map((e) => base + e),
    ...['/index.ts', '/index.tsx', '/index.js'].map((e) => base + e),
  ];
}

/** Is there a file (not a folder) at this path or file: URL? */
export function isFile(pathOrUrl: string): boolean {
  try {
    const p = pathOrUrl.startsWith('file:') ? new URL(pathOrUrl) : pathOrUrl;
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

type Format = TranspiledModule['format'];

/**
 * The JavaScript the host transpiled for a file (TypeScript, or JavaScript written for Babel), else for a
 * TypeScript file the host did not see (a computed import, a file inside a package) a transpilation now; null
 * for any other file: Node loads it itself. `wanted` is how it is being loaded: such a TypeScript file follows
 * its importer (required: CommonJS; imported: ESM), unless it needs ESM (top-level await, import.meta).
 */
export function mappedSource(file: string, wanted: Format, data: Pick<HooksData, 'transpiled' | 'esbuildFrom'>): { format: Format; source: string } | null {
  const known = data.transpiled[file];
  if (known) return { format: known.format, source: fs.readFileSync(known.file, 'utf8') };
  if (!isTypeScript(file)) return null;
  const format: Format = file.endsWith('.mts') ? 'module' : file.endsWith('.cts') ? 'commonjs' : wanted;
  return transpileNow(file, format, data.esbuildFrom);
}

function transpileNow(file: string, format: Format, esbuildFrom: string): { format: Format; source: string } {
  // Loaded only here, on this rare path: most runs never start esbuild inside the script's process.
  const esbuild = createRequire(path.join(esbuildFrom, 'loss-lens.js'))('esbuild') as typeof import('esbuild');
  const source = fs.readFileSync(file, 'utf8');
  const loader = file.endsWith('x') ? 'tsx' : 'ts';
  const run = (f: Format) =>
    esbuild.transformSync(source, {
      loader,
      format: f === 'module' ? 'esm' : 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      sourcefile: path.basename(file),
      tsconfigRaw: nearestTsconfig(path.dirname(file)),
      ...(f === 'module' ? esmShims(file) : {}),
    });
  if (format === 'commonjs') {
    try {
      const r = run('commonjs');
      if (!r.warnings.some((w) => w.text.includes('import.meta'))) return { format, source: r.code };
    } catch (err) {
      if (!/Top-level await/.test(String((err as Error).message))) throw err;
    }
  }
  return { format: 'module', source: run('module').code };
}

/** As in the host's transpilation: ESM TypeScript keeps `__dirname`, `__filename` and `require`. */
function esmShims(file: string) {
  return {
    define: { __dirname: JSON.stringify(path.dirname(file)), __filename: JSON.stringify(file), require: '__lossLensRequire' },
    banner: 'import { createRequire as __lossLensCreateRequire } from "node:module"; const __lossLensRequire = __lossLensCreateRequire(import.meta.url);',
  };
}

function nearestTsconfig(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const f = path.join(d, 'tsconfig.json');
    if (fs.existsSync(f)) {
      try {
        return fs.readFileSync(f, 'utf8');
      } catch {
        return undefined;
      }
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** The TypeScript file a failed relative import from a TypeScript file meant, if there is one. */
export function typeScriptRetry(specifier: string, parentURL: string | undefined, err: unknown): string | null {
  const code = (err as { code?: string }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT' && code !== 'MODULE_NOT_FOUND') return null;
  if (!parentURL || !isTypeScript(parentURL) || !isRelativeOrAbsolute(specifier)) return null;
  for (const candidate of typeScriptCandidates(specifier)) {
    if (isFile(new URL(candidate, parentURL).href)) return candidate;
  }
  return null;
}

const tsconfigPaths = new TsconfigPaths();

/**
 * The file a tsconfig `paths`/`baseUrl` alias (`@/models/net`) imported from `parent` (a path or a file: URL)
 * means, or null: then Node resolves the specifier itself. Tried before Node's own resolution, as TypeScript does.
 */
export function aliasedFile(specifier: string, parent: string | null | undefined): string | null {
  if (!parent) return null;
  const parentFile = parent.startsWith('file:') ? fileURLToPath(parent) : parent;
  if (!path.isAbsolute(parentFile)) return null;
  return tsconfigPaths.resolve(specifier, parentFile, (candidate) => {
    if (isFile(candidate)) return candidate;
    return typeScriptCandidates(candidate).find((c) => isFile(c)) ?? null;
  });
}
