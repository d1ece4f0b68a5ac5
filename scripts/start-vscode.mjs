#!/usr/bin/env node
// `npm start`, the main job: VS Code in the browser (code-server, installed on demand) with the packaged
// Loss Lens installed and examples/ open. Prints the URL to open; Ctrl+C stops it all.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { ensureCodeServer, installVsix, ROOT, startCodeServer } from './code-server.mjs';
import { packageVsix } from './package-vsix.mjs';

const port = Number(process.env.PORT ?? 8080);
const cache = path.join(ROOT, '.cache');
const extensionsDir = path.join(cache, 'vscode-extensions');
const step = (m) => process.stderr.write(`loss-lens: ${m}\n`);

execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'ensure-system-deps.mjs'), '--only', 'libkrb5-dev'], { stdio: 'inherit' });
step('building and packaging the extension…');
const [vsix] = packageVsix();
ensureCodeServer();
rmSync(extensionsDir, { recursive: true, force: true });
installVsix(vsix, extensionsDir);
const folder = path.join(ROOT, 'examples');
const server = await startCodeServer({ folder, extensionsDir, userDataDir: path.join(cache, 'vscode-user'), port, smokeTestDriver: false });
const url = `${server.url}/?folder=${encodeURIComponent(folder)}`;
process.stdout.write(
  `\nLoss Lens is ready in VS Code:\n\n  ${url}\n\n` +
    'Open a script in examples/, then run "Loss Lens: Visualize Loss Graph" from the Command Palette ' +
    '(Ctrl+Shift+P) or the graph button in the editor title bar. Ctrl+C here stops VS Code.\n',
);
const stop = () => {
  server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Stay up until interrupted.
setInterval(() => {}, 1 << 30);
