// Looking at the user's script before it runs: the esbuild scan pass, tfjs imports, the user's files, and what to transpile.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { babelStyleFiles, requiredEsModules } from './script-commonjs';
import { PackageTypes, transpileTypeScript } from './script-transpile';
import { scanErrors, type ScanFailure, type ScanOk } from './script-types';
import { TFJS_PACKAGE } from './tfjs-packages';

const TS_FILE = /\.(ts|tsx|mts|cts)$/;

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
    readFiles: [...new Set([entry, ...userFiles, ...types.read])],
    transpiled: transpiled.modules,
    requiredEsm,
    notices,
    scanMs: performance.now() - started,
  };
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
        return { ok: false, missing: false, errors: scanErrors(real, scriptDir) };
      }
    }
  }
  return { ok: true, tfjsImports, metafile: null };
}

function tfjsPlugin(seen: Set<string>): esbuild.Plugin {
  return {
    name: 'loss-lens-tfjs',
    setup(build) {
      build.onResolve({ filter: TFJS_PACKAGE }, (args) => {
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
