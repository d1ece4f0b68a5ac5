import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './run';

/** Node 24, VS Code's extension-host runtime, under .cache/ (installed from npm on first use, as for the VS Code tests). */
export function node24(): string {
  const node = path.join(ROOT, '.cache', 'node24', 'bin', 'node');
  if (!fs.existsSync(node)) {
    const script = pathToFileURL(path.join(ROOT, 'scripts', 'code-server.mjs')).href;
    execFileSync(process.execPath, ['--input-type=module', '-e', `import { ensureNode24 } from '${script}'; ensureNode24();`], { stdio: 'inherit' });
  }
  return node;
}

/** The runtimes scripts must behave the same on: this Node (the CLI's, 20 here) and VS Code's Node 24. */
export function runtimes(): Array<[string, string]> {
  return [
    [`node ${process.versions.node}`, process.execPath],
    ['node 24 (the extension host)', node24()],
  ];
}
