import * as fs from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MODULES_GLOBAL, type TranspiledModule } from '../shared/protocol/runner-protocol';
import {
  aliasedFile,
  isRelativeOrAbsolute,
  isTypeScript,
  mappedSource,
  TS_EXTENSIONS,
  typeScriptCandidates,
  typeScriptRetry,
  type HooksData,
  type TfjsStandIns,
} from './module-map';

export interface ModuleHooksOptions {
  /** Every @tensorflow specifier the script may load → the one instrumented instance it gets. */
  modules: Record<string, unknown>;
  transpiled: Record<string, TranspiledModule>;
  /** User ES modules only ever required → a CommonJS version, for Node < 22.15 (see InitCommand.requiredEsm). */
  requiredEsm: Record<string, string>;
  /** The run's private folder: the tfjs stand-in modules are written there. */
  workDir: string;
  /** dist/ (esm-loader-hooks.mjs and esbuild's package are found from here). */
  distDir: string;
}

export type HooksKind = 'registerHooks' | 'register';

/**
 * Makes the script's module loading Loss Lens-aware, without changing anything else about it:
 * - every `@tensorflow/tfjs*` specifier, required or imported, from the script or from its packages, loads a
 *   generated stand-in module that hands out the runner's one instrumented tfjs instance;
 * - `.ts/.tsx/.mts/.cts` files load the JavaScript the host transpiled (inline source maps);
 * - a relative import from TypeScript may leave out the extension or say `.js` for a `.ts`, as TypeScript allows;
 * - a tsconfig `paths`/`baseUrl` alias from a file outside node_modules resolves as tsx resolves it.
 *
 * Node ≥ 22.15 (and 23.5): `module.registerHooks`, in-thread, for require() and import alike. Node 20–22.14:
 * `Module._resolveFilename` and `Module._extensions` for CommonJS, and `module.register` for ES modules.
 */
export function installModuleHooks(o: ModuleHooksOptions): HooksKind {
  (globalThis as Record<string, unknown>)[MODULES_GLOBAL] = o.modules;
  const data: HooksData = { tfjs: writeStandIns(o.modules, path.join(o.workDir, 'tfjs')), transpiled: o.transpiled, esbuildFrom: o.distDir };
  const registerHooks = (nodeModule as unknown as { registerHooks?: (hooks: SyncHooks) => unknown }).registerHooks;
  if (typeof registerHooks === 'function') {
    registerHooks(syncHooks(data));
    return 'registerHooks';
  }
  installCommonJsHooks(data, o.requiredEsm);
  nodeModule.register(pathToFileURL(path.join(o.distDir, 'esm-loader-hooks.mjs')).href, { data });
  return 'register';
}

/** Stand-ins: `module.exports = <instance>` for require(), and named exports of its keys for import. */
export function writeStandIns(modules: Record<string, unknown>, dir: string): TfjsStandIns {
  fs.mkdirSync(dir, { recursive: true });
  const out: TfjsStandIns = {};
  for (const [specifier, instance] of Object.entries(modules)) {
    const base = path.join(dir, specifier.replace(/[^A-Za-z0-9-]/g, '_'));
    const access = `globalThis[${JSON.stringify(MODULES_GLOBAL)}][${JSON.stringify(specifier)}]`;
    fs.writeFileSync(`${base}.cjs`, `module.exports = ${access};\n`);
    const names = instance && typeof instance === 'object' ? Object.keys(instance).filter((n) => n !== 'default') : [];
    const exportName = (n: string) => (/^[A-Za-z_$][\w$]*$/.test(n) ? n : JSON.stringify(n));
    fs.writeFileSync(
      `${base}.mjs`,
      `const m = ${access};\nexport default m;\n` +
        names.map((n, i) => `const _${i} = m[${JSON.stringify(n)}];\n`).join('') +
        `export { ${names.map((n, i) => `_${i} as ${exportName(n)}`).join(', ')} };\n`,
    );
    out[specifier] = { cjs: `${base}.cjs`, esm: `${base}.mjs` };
  }
  return out;
}

// ---- Node ≥ 22.15: synchronous, in-thread hooks for both module systems -------------------------------------

interface SyncResolveContext {
  parentURL?: string;
  conditions?: string[];
}
interface SyncHooks {
  resolve(specifier: string, context: SyncResolveContext, next: (s: string, c?: SyncResolveContext) => { url: string; format?: string | null }): {
    url: string;
    format?: string | null;
    shortCircuit?: boolean;
  };
  load(
    url: string,
    context: { format?: string | null; conditions?: string[] },
    next: (u: string, c?: unknown) => { format: string; source?: unknown },
  ): { format: string; source?: unknown; shortCircuit?: boolean };
}

function syncHooks(data: HooksData): SyncHooks {
  return {
    resolve(specifier, context, next) {
      const standIn = data.tfjs[specifier];
      if (standIn) {
        const required = context.conditions?.includes('require') ?? false;
        return { url: pathToFileURL(required ? standIn.cjs : standIn.esm).href, format: required ? 'commonjs' : 'module', shortCircuit: true };
      }
      const aliased = aliasedFile(specifier, context.parentURL);
      // require() resolves paths, import URLs.
      if (aliased) return next(context.conditions?.includes('require') ? aliased : pathToFileURL(aliased).href, context);
      try {
        return next(specifier, context);
      } catch (err) {
        const retry = typeScriptRetry(specifier, context.parentURL, err);
        if (retry) return next(retry, context);
        throw err;
      }
    },
    load(url, context, next) {
      const wanted = context.conditions?.includes('require') ? 'commonjs' : 'module';
      const mapped = url.startsWith('file:') ? mappedSource(fileURLToPath(url), wanted, data) : null;
      if (mapped) return { format: mapped.format, source: mapped.source, shortCircuit: true };
      return next(url, context);
    },
  };
}

// ---- Node 20–22.14: the CommonJS loader's own extension points ----------------------------------------------

interface ModuleInternals {
  _resolveFilename(request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean, options?: unknown): string;
  _extensions: Record<string, (module: CompilableModule, filename: string) => void>;
}
interface CompilableModule {
  _compile(content: string, filename: string, format?: 'module' | 'commonjs'): unknown;
}

function installCommonJsHooks(data: HooksData, requiredEsm: Record<string, string>): void {
  const Module = nodeModule.Module as unknown as ModuleInternals;
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    const standIn = data.tfjs[request];
    if (standIn) return standIn.cjs;
    const aliased = aliasedFile(request, parent?.filename);
    if (aliased) return resolveFilename.call(this, aliased, parent, isMain, options);
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (err) {
      const from = parent?.filename;
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND' || !from || !isTypeScript(from) || !isRelativeOrAbsolute(request)) throw err;
      for (const candidate of typeScriptCandidates(request)) {
        try {
          return resolveFilename.call(this, candidate, parent, isMain, options);
        } catch {
          // not this one
        }
      }
      throw err;
    }
  };
  for (const ext of TS_EXTENSIONS) {
    Module._extensions[ext] = (module, filename) => {
      const { format, source } = mappedSource(filename, 'commonjs', data)!;
      // 'module' goes through Node's require(esm), which hands the file to the ES module loader (and our hooks).
      module._compile(source, filename, format);
    };
  }
  // A required ES module is loaded here without the ES module hooks: its CommonJS version, so tfjs stays mapped.
  for (const ext of ['.mjs', ...TS_EXTENSIONS]) {
    const load = Module._extensions[ext];
    if (!load || Object.keys(requiredEsm).length === 0) continue;
    Module._extensions[ext] = (module, filename) => {
      const cjs = requiredEsm[filename];
      if (cjs) module._compile(fs.readFileSync(cjs, 'utf8'), filename, 'commonjs');
      else load(module, filename);
    };
  }
  // JavaScript written for Babel, which the host compiled to CommonJS; every other .js file as Node loads it.
  if (!Object.keys(data.transpiled).some((f) => !isTypeScript(f)) && Object.keys(requiredEsm).length === 0) return;
  const loadJs = Module._extensions['.js'];
  Module._extensions['.js'] = (module, filename) => {
    const cjs = requiredEsm[filename];
    const mapped = cjs ? { source: fs.readFileSync(cjs, 'utf8'), format: 'commonjs' as const } : data.transpiled[filename] ? mappedSource(filename, 'commonjs', data) : null;
    if (mapped) module._compile(mapped.source, filename, mapped.format);
    else loadJs(module, filename);
  };
}
