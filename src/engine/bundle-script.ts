import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SourcePosition } from '../shared/protocol/run-data';
import { MODULES_GLOBAL } from '../shared/protocol/runner-protocol';
const TF_NAMESPACE = 'loss-lens-tfjs';
/** Any TensorFlow.js package, including the scoped backends; they all resolve to the runner's one instance. */
const TFJS_IMPORT = /^@tensorflow\/tfjs(-[a-z-]+)?$/;

export interface BundleOk {
  ok: true;
  bundlePath: string;
  /** The user's own original files in the bundle (not node_modules). */
  userSources: string[];
  /** The @tensorflow packages the script imports. */
  tfjsImports: string[];
  buildMs: number;
}

export interface BundleFailure {
  ok: false;
  /** The script itself does not exist (as opposed to failing to build). */
  missing: boolean;
  errors: Array<{ message: string; source: SourcePosition | null }>;
}

/**
 * Bundles the user's script (TS or JS, ESM or CJS, top-level await) into one ESM file with a
 * source map. TensorFlow.js stays out of the bundle: every `@tensorflow/tfjs*` import reads the
 * runner's instrumented instance, so one copy of tfjs-layers gets patched and serves the script.
 */
export async function bundleScript(scriptPath: string, outDir: string): Promise<BundleOk | BundleFailure> {
  const entry = path.resolve(scriptPath);
  if (!fs.existsSync(entry)) {
    return { ok: false, missing: true, errors: [{ message: `No such file: ${scriptPath}`, source: null }] };
  }
  if (!fs.statSync(entry).isFile()) {
    return { ok: false, missing: true, errors: [{ message: `Not a file: ${scriptPath}`, source: null }] };
  }
  fs.mkdirSync(outDir, { recursive: true });
  const bundlePath = path.join(outDir, 'bundle.mjs');
  const tfjsImports = new Set<string>();
  const started = performance.now();
  const scriptDir = path.dirname(entry);
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      outfile: bundlePath,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      sourcesContent: false,
      keepNames: true,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: scriptDir,
      // The bundle lives in a temp folder; the script must still see its own location.
      define: {
        __dirname: JSON.stringify(scriptDir),
        __filename: JSON.stringify(entry),
        'import.meta.url': JSON.stringify(pathToFileURL(entry).href),
        'import.meta.dirname': JSON.stringify(scriptDir),
        'import.meta.filename': JSON.stringify(entry),
      },
      banner: {
        // CommonJS code in an ESM bundle still needs require() for Node built-ins and native add-ons.
        js: `import { createRequire as __llCreateRequire } from 'node:module'; const require = __llCreateRequire(${JSON.stringify(entry)});`,
      },
      plugins: [
        {
          name: 'loss-lens-tfjs',
          setup(build) {
            build.onResolve({ filter: TFJS_IMPORT }, (args) => {
              tfjsImports.add(args.path);
              return { path: args.path, namespace: TF_NAMESPACE };
            });
            build.onLoad({ filter: /.*/, namespace: TF_NAMESPACE }, (args) => ({
              loader: 'js',
              contents:
                `const m = globalThis[${JSON.stringify(MODULES_GLOBAL)}];\n` +
                `if (!m) throw new Error('Loss Lens: tfjs was imported outside the runner');\n` +
                `module.exports = m[${JSON.stringify(args.path)}] ?? require(${JSON.stringify(args.path)});\n`,
            }));
          },
        },
      ],
    });
    const userSources = Object.keys(result.metafile.inputs)
      .filter((p) => !p.startsWith(`${TF_NAMESPACE}:`) && !p.includes('node_modules'))
      .map((p) => path.resolve(scriptDir, p));
    return {
      ok: true,
      bundlePath,
      userSources,
      tfjsImports: [...tfjsImports].sort(),
      buildMs: performance.now() - started,
    };
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    if (!Array.isArray(failure.errors)) throw err;
    return {
      ok: false,
      missing: false,
      errors: failure.errors.map((e) => ({
        message: e.text,
        source: e.location
          ? { file: path.resolve(scriptDir, e.location.file), line: e.location.line, column: e.location.column + 1 }
          : null,
      })),
    };
  }
}
