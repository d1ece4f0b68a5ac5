import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourcePosition } from '../shared/protocol/run-data';
import type { TranspiledModule } from '../shared/protocol/runner-protocol';

/** Any TensorFlow.js package, the scoped backends included: they all resolve to the runner's one instance. */
export const TFJS_IMPORT = /^@tensorflow\/tfjs(-[a-z-]+)?$/;
const TS_FILE = /\.(ts|tsx|mts|cts)$/;

export interface ScanOk {
  ok: true;
  /** The @tensorflow packages the script imports (statically, from its own files or its dependencies). */
  tfjsImports: string[];
  /** The user's own files the script reaches statically (not node_modules). */
  userFiles: string[];
  /** Every TypeScript file among them (and JavaScript written for Babel), transpiled in the run's folder. */
  transpiled: Record<string, TranspiledModule>;
  /** User ES modules only ever require()d, by path → a CommonJS version of each (see InitCommand.requiredEsm). */
  requiredEsm: Record<string, string>;
  /** Said once in the report: what Loss Lens ran differently from plain node, and why. */
  notices: string[];
  scanMs: number;
}

export interface ScanFailure {
  ok: false;
  /** The script itself does not exist (as opposed to failing to build). */
  missing: boolean;
  errors: Array<{ message: string; source: SourcePosition | null }>;
}

type Metafile = esbuild.Metafile;

/**
 * Looks at the script before anything runs: a quick esbuild pass over the user's own files (packages left
 * external, nothing written) finds syntax errors with their file:line and whether the script uses
 * TensorFlow.js at all; then each TypeScript file is transpiled on its own, as tsx does, with an inline source
 * map. Lenient where Node would still run: an import that cannot be resolved is left to Node to report.
 */
export async function scanScript(scriptPath: string, outDir: string): Promise<ScanOk | ScanFailure> {
  const entry = path.resolve(scriptPath);
  if (!fs.existsSync(entry)) return { ok: false, missing: true, errors: [{ message: `No such file: ${scriptPath}`, source: null }] };
  if (!fs.statSync(entry).isFile()) return { ok: false, missing: true, errors: [{ message: `Not a file: ${scriptPath}`, source: null }] };
  const started = performance.now();
  const scriptDir = path.dirname(entry);

  const shallow = await scan(entry, scriptDir, false);
  if (!shallow.ok) return shallow;
  let tfjsImports = shallow.tfjsImports;
  if (tfjsImports.size === 0) {
    // Maybe through a dependency: look inside the packages too (only then, it costs more).
    const deep = await scan(entry, scriptDir, true);
    if (deep.ok) tfjsImports = deep.tfjsImports;
  }
  const userFiles = shallow.metafile ? userInputs(shallow.metafile, scriptDir) : [entry];
  const types = new PackageTypes();
  const babel = shallow.metafile ? await babelStyleFiles(userFiles, shallow.metafile, scriptDir, types) : new Map<string, string>();
  const transpiled = await transpileTypeScript(userFiles.filter((f) => TS_FILE.test(f)), babel, shallow.metafile, scriptDir, path.join(outDir, 'ts'), types);
  if (!transpiled.ok) return transpiled;
  const requiredEsm = shallow.metafile ? await requiredEsModules(shallow.metafile, scriptDir, transpiled.modules, path.join(outDir, 'required-esm'), types) : {};
  const notices: string[] = [];
  if (babel.size > 0) {
    const names = [...babel.keys()].map((f) => path.relative(scriptDir, f) || path.basename(f)).sort();
    notices.push(
      `Ran ${names.join(', ')} as CommonJS, the way Babel or ts-node run it: ${names.length === 1 ? 'it mixes' : 'they mix'} ES import syntax ` +
        'with require/module/__dirname or with imports that leave out the file extension, which plain node cannot run.',
    );
  }
  return {
    ok: true,
    tfjsImports: [...tfjsImports].sort(),
    userFiles,
    transpiled: transpiled.modules,
    requiredEsm,
    notices,
    scanMs: performance.now() - started,
  };
}

/**
 * ES modules of the user's that user code only ever require()s (Node ≥ 20.19 allows that), each with a CommonJS
 * version. Node < 22.15 loads such a module without the module hooks, so `import '@tensorflow/tfjs'` in it would
 * load another tfjs (or none); the runner there loads the CommonJS version, whose require() is mapped.
 */
async function requiredEsModules(
  metafile: Metafile,
  scriptDir: string,
  transpiled: Record<string, TranspiledModule>,
  outDir: string,
  types: PackageTypes,
): Promise<Record<string, string>> {
  const abs = (p: string) => path.resolve(scriptDir, p);
  const isEsm = (file: string) => {
    const t = transpiled[file];
    if (t) return t.format === 'module';
    if (file.endsWith('.mjs')) return true;
    if (file.endsWith('.cjs') || !/\.jsx?$/.test(file)) return false;
    return types.of(file) === 'module' || metafile.inputs[path.relative(scriptDir, file)]?.format === 'esm';
  };
  const required = new Set<string>();
  const imported = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imp of input.imports) {
      if (imp.external) continue;
      (imp.kind === 'require-call' ? required : imported).add(abs(imp.path));
    }
  }
  const targets = [...required].filter((f) => !imported.has(f) && !f.split(path.sep).includes('node_modules') && isEsm(f));
  const out: Record<string, string> = {};
  if (targets.length === 0) return out;
  fs.mkdirSync(outDir, { recursive: true });
  await Promise.all(
    targets.map(async (file, i) => {
      const r = await transpile(file, 'commonjs');
      if (!r.ok) return; // top-level await: Node refuses to require it anyway
      const to = path.join(outDir, `${i}-${path.basename(file)}.cjs`);
      fs.writeFileSync(to, r.code);
      out[file] = to;
    }),
  );
  return out;
}

const FREE_CJS = ['require', 'module', 'exports', '__dirname', '__filename'] as const;

/**
 * JavaScript written for Babel (tfjs-examples' `babel-node train.js`): ES import syntax in a package that is not
 * `"type": "module"`, together with CommonJS bindings (`require.main === module`, `require(…)`) or relative imports
 * without their extension. Plain node runs such a file as an ES module and stops at the first of those; Babel
 * compiles its imports to require(), and so do we (esbuild, one file, inline source map), unless it needs ESM
 * (top-level await, import.meta): then Node decides. Returns file → its CommonJS code.
 */
async function babelStyleFiles(files: string[], metafile: Metafile, scriptDir: string, types: PackageTypes): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const inputOf = (f: string) => metafile.inputs[path.relative(scriptDir, f)];
  // ES import syntax: an import statement (esbuild's own '<runtime>' aside), or esbuild calls the file ESM.
  const importSyntax = (f: string) => inputOf(f)?.format === 'esm' || (inputOf(f)?.imports ?? []).some((i) => i.kind === 'import-statement' && i.path !== '<runtime>');
  const candidates = files.filter((f) => /\.jsx?$/.test(f) && types.of(f) !== 'module' && importSyntax(f));
  await Promise.all(
    candidates.map(async (file) => {
      const input = inputOf(file);
      const extensionless = input.imports.some(
        (imp) => !imp.external && imp.original !== undefined && /^\.\.?\//.test(imp.original) && path.resolve(path.dirname(file), imp.original) !== path.resolve(scriptDir, imp.path),
      );
      // esbuild calls a file with import statements CommonJS when it also uses require/module/exports.
      if (!extensionless && input.format !== 'cjs' && !(await usesCommonJsBindings(file))) return;
      const r = await transpile(file, 'commonjs');
      if (r.ok) out.set(file, r.code);
    }),
  );
  if (out.size === 0) return out;
  // A Babel project: babel-node compiles every file it loads, so its ES-syntax helpers become CommonJS too
  // (they are require()d now; and on Node < 22.15 a required ES module would not see the tfjs mapping).
  await Promise.all(
    candidates
      .filter((f) => !out.has(f))
      .map(async (file) => {
        const r = await transpile(file, 'commonjs');
        if (r.ok) out.set(file, r.code);
      }),
  );
  return out;
}

/** Does the file refer to require/module/exports/__dirname/__filename without declaring them? */
async function usesCommonJsBindings(file: string): Promise<boolean> {
  try {
    const r = await esbuild.transform(fs.readFileSync(file, 'utf8'), {
      loader: file.endsWith('x') ? 'jsx' : 'js',
      format: 'esm',
      logLevel: 'silent',
      define: Object.fromEntries(FREE_CJS.map((name) => [name, `__lossLensFree_${name}`])),
    });
    return r.code.includes('__lossLensFree_');
  } catch {
    return false;
  }
}

interface ScanResult {
  ok: true;
  tfjsImports: Set<string>;
  /** Null when esbuild could not bundle the graph for reasons Node does not share (see below). */
  metafile: Metafile | null;
}

/** Messages about esbuild's own output, not about the script: Node has no such limits. */
const NOT_THE_SCRIPTS_FAULT = /output format|No loader is configured|Could not resolve/;

async function scan(entry: string, scriptDir: string, deep: boolean): Promise<ScanResult | ScanFailure> {
  const tfjsImports = new Set<string>();
  const attempt = (format: 'esm' | 'cjs') =>
    esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      platform: 'node',
      format,
      target: 'esnext',
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: scriptDir,
      ...(deep ? {} : { packages: 'external' as const }),
      plugins: [tfjsPlugin(tfjsImports), lenientResolvePlugin(deep)],
    });
  // ESM output is strict (a sloppy `with` fails) and CJS output cannot hold top-level await: try both.
  for (const format of ['esm', 'cjs'] as const) {
    try {
      const result = await attempt(format);
      return { ok: true, tfjsImports, metafile: result.metafile };
    } catch (err) {
      const errors = (err as esbuild.BuildFailure).errors;
      if (!Array.isArray(errors)) throw err;
      const real = errors.filter((e) => !NOT_THE_SCRIPTS_FAULT.test(e.text));
      if (real.length > 0 && !deep) {
        return {
          ok: false,
          missing: false,
          errors: real.map((e) => ({
            message: e.text,
            source: e.location ? { file: path.resolve(scriptDir, e.location.file), line: e.location.line, column: e.location.column + 1 } : null,
          })),
        };
      }
    }
  }
  return { ok: true, tfjsImports, metafile: null };
}

function tfjsPlugin(seen: Set<string>): esbuild.Plugin {
  return {
    name: 'loss-lens-tfjs',
    setup(build) {
      build.onResolve({ filter: TFJS_IMPORT }, (args) => {
        seen.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

/** An import esbuild cannot resolve is not a build error: Node decides at run time (it may be optional). */
function lenientResolvePlugin(deep: boolean): esbuild.Plugin {
  return {
    name: 'loss-lens-lenient-resolve',
    setup(build) {
      build.onResolve({ filter: deep ? /.*/ : /^(\.|\/|[A-Za-z]:[\\/])/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          namespace: args.namespace,
          pluginData: { inner: true },
        });
        if (r.errors.length > 0) return { path: args.path, external: true };
        return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects, suffix: r.suffix };
      });
    },
  };
}

function userInputs(metafile: Metafile, scriptDir: string): string[] {
  return Object.keys(metafile.inputs)
    .filter((p) => !/^[a-z-]+:/.test(p) && !p.split(/[\\/]/).includes('node_modules'))
    .map((p) => path.resolve(scriptDir, p));
}

// ---- TypeScript, one file at a time ------------------------------------------------------------------------

type Transpiled = { ok: true; modules: Record<string, TranspiledModule> } | ScanFailure;

/**
 * A TypeScript file's module kind, as TypeScript tools decide it: `.mts` is ESM and `.cts` CommonJS; in a
 * `"type": "module"` package `.ts` is ESM. Elsewhere `.ts` is CommonJS (its imports become require(), as
 * ts-node and tsc with `module: commonjs` do, so `__dirname`, `require` and `require.main === module` work),
 * unless it needs ESM: top-level await or `import.meta`, or an ES module imports it. ESM TypeScript keeps
 * `__dirname`, `__filename` and `require` pointing at its own file, as Loss Lens's bundle always did.
 */
async function transpileTypeScript(
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
  const failures: ScanFailure['errors'] = [];
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

type TranspileResult = { ok: true; code: string } | { ok: false; needsEsm: boolean; errors: ScanFailure['errors'] };

async function transpile(file: string, format: TranspiledModule['format']): Promise<TranspileResult> {
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
    return {
      ok: false,
      needsEsm: false,
      errors: errors.map((e) => ({
        message: e.text,
        source: e.location ? { file: path.resolve(dir, e.location.file), line: e.location.line, column: e.location.column + 1 } : null,
      })),
    };
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
class PackageTypes {
  private readonly cache = new Map<string, 'module' | 'commonjs' | null>();

  of(file: string): 'module' | 'commonjs' | null {
    return this.dir(path.dirname(file));
  }

  private dir(dir: string): 'module' | 'commonjs' | null {
    const cached = this.cache.get(dir);
    if (cached !== undefined) return cached;
    let type: 'module' | 'commonjs' | null = null;
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
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
