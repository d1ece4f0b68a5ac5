// `npx vscode-test`: the same extension-host suite on a downloaded VS Code (@vscode/test-cli + test-electron),
// for machines that can reach Microsoft's update servers. Our CI runs it on code-server instead: npm run test:vscode.
import { defineConfig } from '@vscode/test-cli';
import { buildVscodeSuite, makeSuiteWorkspace } from './test/vscode/vscode-suite.mjs';

const out = await buildVscodeSuite();

export default defineConfig({
  label: 'extension-host',
  files: `${out}/*.test.js`,
  workspaceFolder: makeSuiteWorkspace(),
  version: '1.139.1',
  mocha: { ui: 'bdd', timeout: 180_000 },
});
