import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** The @vscode/test-electron contract: VS Code calls run() inside the extension host and waits. */
export function run(): Promise<void> {
  // LOSS_LENS_SUITE_GREP runs a part of the suite (the activation benchmark runs only its own test).
  const grep = process.env.LOSS_LENS_SUITE_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec', ...(grep ? { grep: new RegExp(grep) } : {}) });
  for (const f of fs.readdirSync(__dirname)) {
    if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} extension test(s) failed`)) : resolve()));
  });
}
