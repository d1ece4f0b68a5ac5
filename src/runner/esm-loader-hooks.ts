/**
 * ES module customization hooks (`module.register`, off the main thread on Node 20–22), built to
 * dist/esm-loader-hooks.mjs. On Node ≥ 22.15 the same decisions run in-thread through `module.registerHooks`
 * (module-hooks.ts), which covers require() too.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { aliasedFile, mappedSource, typeScriptRetry, type HooksData } from './module-map';

let data: HooksData = { tfjs: {}, transpiled: {}, esbuildFrom: '' };

interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadResult {
  format: string;
  source?: string | Uint8Array | null;
  shortCircuit?: boolean;
}

export function initialize(d: HooksData): void {
  data = d;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  const standIn = data.tfjs[specifier];
  if (standIn) return { url: pathToFileURL(standIn.esm).href, format: 'module', shortCircuit: true };
  const aliased = aliasedFile(specifier, context.parentURL);
  if (aliased) return next(pathToFileURL(aliased).href, context);
  try {
    return await next(specifier, context);
  } catch (err) {
    const retry = typeScriptRetry(specifier, context.parentURL, err);
    if (retry) return next(retry, context);
    throw err;
  }
}

export async function load(
  url: string,
  context: { format?: string | null },
  next: (url: string, context: { format?: string | null }) => Promise<LoadResult>,
): Promise<LoadResult> {
  const mapped = url.startsWith('file:') ? mappedSource(fileURLToPath(url), 'module', data) : null;
  if (mapped) {
    // CommonJS without a source: Node's own CommonJS loader runs it (Module._extensions), with the usual require.
    if (mapped.format === 'commonjs') return { format: 'commonjs', source: null, shortCircuit: true };
    return { format: 'module', source: mapped.source, shortCircuit: true };
  }
  return next(url, context);
}
