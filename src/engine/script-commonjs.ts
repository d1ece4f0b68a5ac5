// Running user JavaScript the way Babel or ts-node would: CommonJS versions of Babel-style files and of ES modules only require()d.
import * as esbuild from 'esbuild';
import type { Metafile } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TranspiledModule } from '../shared/protocol/runner-protocol';
import { transpile, type PackageTypes } from './script-transpile';

/**
 * ES modules of the user's that user code only ever require()s (Node ≥ 20.19 allows that), each with a CommonJS
 * version. Node < 22.15 loads such a module without the module hooks, so `import '@tensorflow/tfjs'` in it would
 * load another tfjs (or none); the runner there loads the CommonJS version, whose require() is mapped.
 */
export async function requiredEsModules(
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
export async function babelStyleFiles(files: string[], metafile: Metafile, scriptDir: string, types: PackageTypes): Promise<Map<string, string>> {
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
