#!/usr/bin/env node
// Writes schema/runner-events.schema.json: the runner contract (the events a runner writes, and the init.json it is
// started with) as JSON Schema, generated from the zod schemas (src/shared/protocol/runner-schema.ts). Run by
// `npm run build` (esbuild.mjs); a test checks the committed file is current.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Generates the file; rewrites it only when its text changed (a build leaves an up-to-date tree untouched). */
export async function generateRunnerSchema(root = ROOT) {
  // The TypeScript schemas, bundled in memory with zod (whose toJSONSchema must see the same zod that built them).
  const built = await esbuild.build({
    entryPoints: [path.join(root, 'src/shared/protocol/runner-schema.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  const mod = await import(`data:text/javascript;base64,${Buffer.from(built.outputFiles[0].text).toString('base64')}`);
  const file = path.join(root, mod.RUNNER_SCHEMA_FILE);
  const text = mod.runnerContractJsonText();
  let old = null;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // Not there yet.
  }
  if (old !== text) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(path.relative(process.cwd(), await generateRunnerSchema()));
}
