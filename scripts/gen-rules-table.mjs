// Writes the README's Rules table from the rule registry (src/shared/analysis/rules/): `npm run docs:rules`.
// `--check` writes nothing and exits 1 when the README is not current (test/unit/rule-registry.test.ts checks the same).
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readmePath = join(root, 'README.md');

// The registry is TypeScript: bundle the table module in memory and load it, so the table is the rules' own text.
const bundle = await build({
  entryPoints: [join(root, 'src/shared/analysis/rules/rules-table.ts')],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
  logLevel: 'warning',
});
const { withRulesTable } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`);

const readme = readFileSync(readmePath, 'utf8');
const next = withRulesTable(readme);
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README.md: the Rules table is not what the rule registry gives. Run `npm run docs:rules`.');
    process.exit(1);
  }
  console.log('README.md: the Rules table is current.');
} else if (next === readme) {
  console.log('README.md: the Rules table is already current.');
} else {
  writeFileSync(readmePath, next);
  console.log('README.md: Rules table regenerated from the rule registry.');
}
