// Transpiling the user's TypeScript one file at a time, as tsx does: each file's module kind, the esbuild call, package.json "type".
import * as esbuild from 'esbuild';
import type { Metafile } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TranspiledModule } from '../shared/protocol/runner-protocol';
import { scanErrors, type ScanError, type ScanFailure } from './script-types';

type Transpiled = { ok: true; modules: Record<string, TranspiledModule> } | ScanFailure;

/**
 * A TypeScript file's module kind, as TypeScript tools decide it: `.mts` is ESM and `.cts` CommonJS; in a
 * `"type": "module"` package `.ts` is ESM. Elsewhere `.ts` is CommonJS (its imports become require(), as
 * ts-node and tsc with `module: commonjs` do, so `__dirname`, `require` and `require.main === module` work),
 * unless it needs ESM: top-level await or `import.meta`, or an ES module imports it. ESM TypeScript keeps
 * `__dirname`, `__filename` and `require` pointing at its own file, as Loss Lens's bundle always did.
 */
export async function transpileTypeScript(
  files: string[],
  babel: Map<string, string>,
  metafile: Metafile | null,
  scriptDir: string,
  outDir: string,
  types: PackageTypes,
): Promise<Transpiled> {
  if (files.length === 0 && babel.size === 0) return { ok: true, modules: {} };
  fs.mkdirSync(outDir, { recursive: true });
  const kind = new Map<string, 'module' | 'commonjs' | 'either'>();
  for (const f of babel.keys()) kind.set(f, 'commonjs');
  for (const f of files) {
    kind.set(f, f.endsWith('.mts') ? 'module' : f.endsWith('.cts') ? 'commonjs' : types.of(f) === 'module' ? 'module' : 'either');
  }
  const cjs = new Map<string, string>();
  const failures: ScanError[] = [];
  for (const [f, code] of babel) cjs.set(f, code);
  await Promise.all(
    files
      .filter((f) => kind.get(f) !== 'module')
      .map(async (f) => {
        const r = await transpile(f, 'commonjs');
        if (r.ok) cjs.set(f, r.code);
        else if (kind.get(f) === 'either' && r.needsEsm) kind.set(f, 'module');
        else failures.push(...r.errors);
      }),
  );
  if (failures.length > 0) return { ok: false, missing: false, errors: failures };
  if (metafile) propagateEsm(metafile, scriptDir, kind, types);

  const modules: Record<string, TranspiledModule> = {};
  let n = 0;
  const write = (source: string, code: string, format: TranspiledModule['format']) => {
    const file = path.join(outDir, `${n++}-${path.basename(source).replace(/\.[cm]?[jt]sx?$/, '')}.js`);
    fs.writeFileSync(file, code);
    modules[source] = { file, format };
  };
  await Promise.all(
    [...babel.keys(), ...files].map(async (f) => {
      if (kind.get(f) !== 'module') return write(f, cjs.get(f)!, 'commonjs');
      const r = await transpile(f, 'module');
      if (r.ok) write(f, r.code, 'module');
      else failures.push(...r.errors);
    }),
  );
  if (failures.length > 0) return { ok: false, missing: false, errors: failures };
  return { ok: true, modules };
}

type TranspileResult = { ok: true; code: string } | { ok: false; needsEsm: boolean; errors: ScanError[] };

export async function transpile(file: string, format: TranspiledModule['format']): Promise<TranspileResult> {
  const dir = path.dirname(file);
  try {
    const r = await esbuild.build({
      entryPoints: [file],
      bundle: false,
      write: false,
      format: format === 'module' ? 'esm' : 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      // The output "sits" next to its source, so the map's relative source path is the .ts file itself.
      outdir: dir,
      outExtension: { '.js': '.loss-lens.js' },
      absWorkingDir: dir,
      logLevel: 'silent',
      ...(format === 'module'
        ? {
            define: { __dirname: JSON.stringify(dir), __filename: JSON.stringify(file), require: '__lossLensRequire' },
            banner: { js: 'import { createRequire as __lossLensCreateRequire } from "node:module"; const __lossLensRequire = __lossLensCreateRequire(import.meta.url);' },
          }
        : {}),
    });
    if (format === 'commonjs' && r.warnings.some((w) => w.text.includes('import.meta'))) return { ok: false, needsEsm: true, errors: [] };
    return { ok: true, code: r.outputFiles[0].text };
  } catch (err) {
    const errors = (err as esbuild.BuildFailure).errors;
    if (!Array.isArray(errors)) throw err;
    if (format === 'commonjs' && errors.every((e) => /Top-level await|output format/.test(e.text))) return { ok: false, needsEsm: true, errors: [] };
    return { ok: false, needsEsm: false, errors: scanErrors(errors, dir) };
  }
}

/** A TypeScript file an ES module imports is an ES module too: Node could not give it named exports otherwise. */
function propagateEsm(metafile: Metafile, scriptDir: string, kind: Map<string, 'module' | 'commonjs' | 'either'>, types: PackageTypes): void {
  const abs = (p: string) => path.resolve(scriptDir, p);
  const isEsm = (file: string, format: string | undefined): boolean => {
    const k = kind.get(file);
    if (k) return k === 'module';
    if (file.endsWith('.mjs')) return true;
    if (file.endsWith('.cjs')) return false;
    return types.of(file) === 'module' || format === 'esm';
  };
  const queue = Object.entries(metafile.inputs)
    .filter(([p, input]) => isEsm(abs(p), input.format))
    .map(([p]) => p);
  const seen = new Set(queue);
  while (queue.length > 0) {
    const input = metafile.inputs[queue.pop()!];
    for (const imp of input?.imports ?? []) {
      if (imp.external || (imp.kind !== 'import-statement' && imp.kind !== 'dynamic-import')) continue;
      const target = abs(imp.path);
      if (kind.get(target) !== 'either') continue;
      kind.set(target, 'module');
      if (!seen.has(imp.path)) {
        seen.add(imp.path);
        queue.push(imp.path);
      }
    }
  }
  for (const [f, k] of kind) if (k === 'either') kind.set(f, 'commonjs');
}

/** The nearest package.json's "type", per folder, as Node reads it. */
export class PackageTypes {
  private readonly cache = new Map<string, 'module' | 'commonjs' | null>();
  /** Every package.json read (the scan's list of files it looked at: nothing may write over them). */
  readonly read = new Set<string>();

  of(file: string): 'module' | 'commonjs' | null {
    return this.dir(path.dirname(file));
  }

  private dir(dir: string): 'module' | 'commonjs' | null {
    const cached = this.cache.get(dir);
    if (cached !== undefined) return cached;
    let type: 'module' | 'commonjs' | null = null;
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      this.read.add(pkg);
      try {
        const t = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { type?: unknown }).type;
        type = t === 'module' ? 'module' : 'commonjs';
      } catch {
        type = 'commonjs';
      }
    } else {
      const parent = path.dirname(dir);
      type = parent === dir ? null : this.dir(parent);
    }
    this.cache.set(dir, type);
    return type;
  }
}
