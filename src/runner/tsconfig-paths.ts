/**
 * tsconfig `paths` and `baseUrl`, resolved at run time the way tsx (and tsc) resolve them: an import such as
 * `@/models/net` from a file outside node_modules is looked up in the nearest tsconfig.json of that file (its
 * `extends` chain followed), its patterns substituted, and the first substitution that is a file wins; else Node
 * resolves the specifier as usual. esbuild does the same on the host for the scan, so both sides agree.
 *
 * Written here rather than taken from a library: the part needed (find, parse JSONC, follow extends, match one
 * `*`) is about a hundred lines, and the module hooks also run on their own thread on Node 20, where a small
 * self-contained file is simplest to load.
 */
import * as fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import * as path from 'node:path';

interface PathsConfig {
  /** Absolute; where substitutions are resolved from (baseUrl if set, else the folder of the config with `paths`). */
  pathsBase: string;
  paths: Array<{ prefix: string; suffix: string; wildcard: boolean; targets: string[] }>;
  /** Absolute baseUrl, when set: a bare specifier is also looked for under it. */
  baseUrl: string | null;
}

/** JSON with comments and trailing commas (tsconfig's dialect) → a value. One pass, linear in the text. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  let pendingComma = '';
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += pendingComma + text.slice(i, j + 1);
      pendingComma = '';
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === ',') {
      // Held back until the next token shows it is not trailing.
      out += pendingComma;
      pendingComma = ',';
      i++;
    } else if (c === '}' || c === ']') {
      pendingComma = '';
      out += c;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else {
      out += pendingComma + c;
      pendingComma = '';
      i++;
    }
  }
  return JSON.parse(out + pendingComma);
}

interface RawOptions {
  baseUrl?: string;
  paths?: Record<string, string[]>;
}

/** compilerOptions' baseUrl and paths of a config and its `extends` chain, each made absolute where it was written. */
function readOptions(file: string, seen: Set<string>): { baseUrl?: string; paths?: Record<string, string[]>; pathsDir?: string } {
  if (seen.has(file)) return {};
  seen.add(file);
  const json = parseJsonc(fs.readFileSync(file, 'utf8')) as { extends?: string | string[]; compilerOptions?: RawOptions };
  const dir = path.dirname(file);
  let merged: { baseUrl?: string; paths?: Record<string, string[]>; pathsDir?: string } = {};
  const bases = json.extends === undefined ? [] : Array.isArray(json.extends) ? json.extends : [json.extends];
  for (const base of bases) {
    const found = extendedConfig(base, dir);
    if (found) merged = { ...merged, ...definedOnly(readOptions(found, seen)) };
  }
  const own = json.compilerOptions ?? {};
  if (typeof own.baseUrl === 'string') merged.baseUrl = path.resolve(dir, own.baseUrl);
  if (own.paths && typeof own.paths === 'object') {
    merged.paths = own.paths;
    merged.pathsDir = dir;
  }
  return merged;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `extends`: a path relative to the config (`.json` optional), or a package's config (`@tsconfig/node20/tsconfig.json`). */
function extendedConfig(spec: string, dir: string): string | null {
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    const p = path.resolve(dir, spec);
    for (const f of [p, `${p}.json`]) if (isFile(f)) return f;
    return null;
  }
  const req = createRequire(path.join(dir, 'tsconfig.json'));
  for (const s of [spec, `${spec}.json`, `${spec}/tsconfig.json`]) {
    try {
      return req.resolve(s);
    } catch {
      // the next form
    }
  }
  return null;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function compile(o: ReturnType<typeof readOptions>): PathsConfig | null {
  if (!o.paths && !o.baseUrl) return null;
  const pathsBase = o.baseUrl ?? o.pathsDir!;
  const paths = Object.entries(o.paths ?? {})
    .filter(([, targets]) => Array.isArray(targets))
    .map(([pattern, targets]) => {
      const star = pattern.indexOf('*');
      return star < 0
        ? { prefix: pattern, suffix: '', wildcard: false, targets }
        : { prefix: pattern.slice(0, star), suffix: pattern.slice(star + 1), wildcard: true, targets };
    });
  return { pathsBase, paths, baseUrl: o.baseUrl ?? null };
}

export class TsconfigPaths {
  /** Folder → the config that applies there (null: none, or one without paths/baseUrl). */
  private readonly byDir = new Map<string, PathsConfig | null>();

  /**
   * The file a bare specifier imported from `parentFile` means under its tsconfig's paths/baseUrl, or null (no
   * config, no pattern matches, no substitution is a file: Node resolves it as usual). `resolveFile` turns a
   * substituted path into a file (extensions, index files), as TypeScript would.
   */
  resolve(specifier: string, parentFile: string, resolveFile: (candidate: string) => string | null): string | null {
    if (isRelativeLike(specifier) || isBuiltin(specifier) || parentFile.split(/[\\/]/).includes('node_modules')) return null;
    const config = this.configFor(path.dirname(parentFile));
    if (!config) return null;
    for (const candidate of candidates(specifier, config)) {
      const file = resolveFile(candidate);
      if (file) return file;
    }
    return null;
  }

  private configFor(dir: string): PathsConfig | null {
    const cached = this.byDir.get(dir);
    if (cached !== undefined) return cached;
    let config: PathsConfig | null = null;
    const file = path.join(dir, 'tsconfig.json');
    const parent = path.dirname(dir);
    if (isFile(file)) {
      try {
        config = compile(readOptions(file, new Set()));
      } catch {
        // A tsconfig Loss Lens cannot read is left to the script's own tools: no aliases from it.
        config = null;
      }
    } else if (parent !== dir) {
      config = this.configFor(parent);
    }
    this.byDir.set(dir, config);
    return config;
  }
}

function isRelativeLike(specifier: string): boolean {
  return specifier.startsWith('.') || specifier.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(specifier) || specifier.startsWith('#');
}

/** TypeScript's order: the pattern with the longest prefix, its substitutions in order; then baseUrl/specifier. */
function candidates(specifier: string, config: PathsConfig): string[] {
  let best: PathsConfig['paths'][number] | null = null;
  for (const p of config.paths) {
    const fits = p.wildcard
      ? specifier.length >= p.prefix.length + p.suffix.length && specifier.startsWith(p.prefix) && specifier.endsWith(p.suffix)
      : specifier === p.prefix;
    if (fits && (!best || (!p.wildcard && best.wildcard) || (p.wildcard === best.wildcard && p.prefix.length > best.prefix.length))) best = p;
  }
  const out: string[] = [];
  if (best) {
    const matched = best.wildcard ? specifier.slice(best.prefix.length, specifier.length - best.suffix.length) : '';
    for (const target of best.targets) out.push(path.resolve(config.pathsBase, target.replace('*', matched)));
  }
  if (config.baseUrl) out.push(path.resolve(config.baseUrl, specifier));
  return out;
}
