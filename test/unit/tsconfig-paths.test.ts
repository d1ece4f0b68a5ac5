import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonc, TsconfigPaths } from '../../src/runner/tsconfig-paths';

let root: string;
const write = (rel: string, text: string) => {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};
/** A candidate is a file when it exists as written or with .ts. */
const asFile = (c: string) => [c, `${c}.ts`].find((f) => fs.existsSync(f) && fs.statSync(f).isFile()) ?? null;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'll-tsconfig-paths-'));
  // app/: paths from a package's config, through a local one; baseUrl of its own (the paths resolve against it).
  write(
    'app/node_modules/@acme/tsconfig/base.json',
    '{ "compilerOptions": { "paths": { "@/*": ["src/*", "generated/*"], "@/models/special": ["src/special-model"], "@lib/*": ["./lib/*"] } } }',
  );
  write('app/config/local.json', '{ "extends": "@acme/tsconfig/base.json", "compilerOptions": { "target": "es2022" } }');
  // override/: its own paths replace the extended ones wholesale, as in TypeScript; without baseUrl they are
  // relative to the config that holds them.
  write('override/base.json', '{ "compilerOptions": { "paths": { "@lib/*": ["./lib/*"] } } }');
  write('override/tsconfig.json', '{ "extends": "./base.json", "compilerOptions": { "paths": { "~/*": ["./code/*"] } } }');
  write('override/lib/util.ts', '');
  write('override/code/util.ts', '');
  write('app/tsconfig.json', '// comment\n{ "extends": "./config/local", "compilerOptions": { "baseUrl": ".", /* here */ "strict": true, }, }');
  write('app/src/models/net.ts', '');
  write('app/generated/schema.ts', '');
  write('app/src/special-model.ts', '');
  write('app/lib/util.ts', '');
  write('app/shared.ts', '');
  write('app/src/deep/dir/file.ts', '');
  write('app/node_modules/pkg/index.js', '');
  // plain/: no tsconfig anywhere above that has paths (root has none either).
  write('plain/tsconfig.json', '{ "compilerOptions": { "strict": true } }');
  write('plain/src/net.ts', '');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('tsconfig paths, as tsx resolves them', () => {
  it('parses tsconfig JSONC: comments, trailing commas, comment-like text inside strings', () => {
    expect(parseJsonc('// a\n{ "a": [1, 2,], /* b */ "url": "http://x/*y*/", "s": "a\\"//b", }')).toEqual({ a: [1, 2], url: 'http://x/*y*/', s: 'a"//b' });
  });

  it('resolves wildcard and exact patterns, in order, relative to baseUrl; then baseUrl itself', () => {
    const paths = new TsconfigPaths();
    const from = path.join(root, 'app', 'src', 'deep', 'dir', 'file.ts');
    const at = (rel: string) => path.join(root, 'app', rel);
    expect(paths.resolve('@/models/net', from, asFile)).toBe(at('src/models/net.ts'));
    // The second substitution when the first is no file.
    expect(paths.resolve('@/schema', from, asFile)).toBe(at('generated/schema.ts'));
    // An exact pattern wins over a wildcard that also matches.
    expect(paths.resolve('@/models/special', from, asFile)).toBe(at('src/special-model.ts'));
    // paths from a package's config, inherited through a local one; baseUrl from the project's own.
    expect(paths.resolve('@lib/util', from, asFile)).toBe(at('lib/util.ts'));
    expect(paths.resolve('shared', from, asFile)).toBe(at('shared.ts'));
  });

  it("a config's own paths replace the extended ones", () => {
    const paths = new TsconfigPaths();
    const from = path.join(root, 'override', 'main.ts');
    expect(paths.resolve('~/util', from, asFile)).toBe(path.join(root, 'override', 'code', 'util.ts'));
    expect(paths.resolve('@lib/util', from, asFile)).toBeNull();
  });

  it('leaves to Node: relative specifiers, builtins, packages with no aliased file, importers in node_modules, projects without paths', () => {
    const paths = new TsconfigPaths();
    const from = path.join(root, 'app', 'src', 'models', 'net.ts');
    expect(paths.resolve('./net', from, asFile)).toBeNull();
    expect(paths.resolve('node:fs', from, asFile)).toBeNull();
    expect(paths.resolve('fs', from, asFile)).toBeNull();
    expect(paths.resolve('pkg', from, asFile)).toBeNull();
    expect(paths.resolve('@/models/net', path.join(root, 'app', 'node_modules', 'pkg', 'index.js'), asFile)).toBeNull();
    expect(paths.resolve('src/net', path.join(root, 'plain', 'src', 'net.ts'), asFile)).toBeNull();
  });
});
