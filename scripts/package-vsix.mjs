// Packages the extension the way it ships: `vsce package` → out/loss-lens.vsix. Used by `npm start` and the
// end-to-end test, which both install this file into code-server.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './code-server.mjs';

export function packageVsix() {
  const vsix = path.join(ROOT, 'out', 'loss-lens.vsix');
  mkdirSync(path.dirname(vsix), { recursive: true });
  execFileSync(process.execPath, [path.join(ROOT, 'esbuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
  // The repository is not on GitHub, so vsce cannot rewrite the README's relative image links: keep them as they are.
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-rewrite-relative-links', '--out', vsix],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return vsix;
}
