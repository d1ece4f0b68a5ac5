import * as path from 'node:path';
import yauzl from 'yauzl';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, shared with npm start and the e2e
import { packageVsix, TARGETS } from '../../scripts/package-vsix.mjs';
import { PYTHON_RUNNER_FILES } from '../helpers/python';

/** Every entry of a zip (a VSIX), with a way to read one as text. */
function entries(vsix: string): Promise<{ names: string[]; read(name: string): Promise<string> }> {
  return new Promise((resolve, reject) => {
    yauzl.open(vsix, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err || !zip) return reject(err);
      const byName = new Map<string, yauzl.Entry>();
      zip.on('entry', (e: yauzl.Entry) => {
        byName.set(e.fileName, e);
        zip.readEntry();
      });
      zip.on('error', reject);
      zip.on('end', () =>
        resolve({
          names: [...byName.keys()],
          read: (name) =>
            new Promise((res, rej) =>
              zip.openReadStream(byName.get(name)!, (e, stream) => {
                if (e || !stream) return rej(e);
                const chunks: Buffer[] = [];
                stream.on('data', (c: Buffer) => chunks.push(c));
                stream.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
                stream.on('error', rej);
              }),
            ),
        }),
      );
      zip.readEntry();
    });
  });
}

const ESBUILD_BINARY = /^extension\/node_modules\/(@esbuild\/[^/]+\/(bin\/esbuild|esbuild\.exe)|esbuild\/bin\/esbuild)$/;

describe('one VSIX per VS Code platform', () => {
  let vsixes: string[];
  beforeAll(() => {
    // dist/ is built by `npm test` before the tests run.
    vsixes = packageVsix(TARGETS, { build: false });
  }, 600_000);

  it('writes out/loss-lens-<target>.vsix for all six targets', () => {
    expect(TARGETS).toEqual(['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64']);
    expect(vsixes.map((v) => path.basename(v))).toEqual(TARGETS.map((t: string) => `loss-lens-${t}.vsix`));
  });

  for (const [i, target] of ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'].entries()) {
    it(`${target}: its own esbuild binary once, its TargetPlatform, the wasm binaries, and nothing of tests or benches`, async () => {
      const zip = await entries(vsixes[i]);
      const binaries = zip.names.filter((n) => ESBUILD_BINARY.test(n));
      const exe = target.startsWith('win32') ? 'esbuild.exe' : 'bin/esbuild';
      expect(binaries).toEqual([`extension/node_modules/@esbuild/${target}/${exe}`]);
      expect(zip.names.filter((n) => n.startsWith('extension/node_modules/@esbuild/') && !n.startsWith(`extension/node_modules/@esbuild/${target}/`))).toEqual([]);
      expect(await zip.read('extension.vsixmanifest')).toContain(`TargetPlatform="${target}"`);
      const wasm = zip.names.filter((n) => n.startsWith('extension/node_modules/@tensorflow/tfjs-backend-wasm/') && n.endsWith('.wasm'));
      expect(wasm.length).toBeGreaterThanOrEqual(3);
      for (const entry of PYTHON_RUNNER_FILES) expect(zip.names).toContain(`extension/${entry}`);
      expect(zip.names.filter((n) => n.startsWith('extension/src/') && !(n.startsWith('extension/src/python/') && n.endsWith('.py')))).toEqual([]);
      for (const entry of ['extension/dist/extension.js', 'extension/dist/host.js', 'extension/dist/engine.js', 'extension/dist/runner.js', 'extension/dist/cli.js', 'extension/dist/webview/main.js', 'extension/package.json', 'extension/schema/runner-events.schema.json']) {
        expect(zip.names).toContain(entry);
      }
      // Browser bundles of tfjs, sources, tests, benches, fixtures and the harness stay out.
      const unwanted = zip.names.filter((n) =>
        (/^extension\/(src|test|bench|scripts|\.cache|out|dist\/harness)\//.test(n) && !n.startsWith('extension/src/python/')) ||
        /\.(ts|map)$/.test(n) && !n.startsWith('extension/examples/') ||
        /node_modules\/@tensorflow\/[^/]+\/dist\/[^/]*(?<!\.node)\.js$/.test(n) ||
        /(^|\/)(test|tests|__tests__|\.rollup\.cache)\//.test(n),
      );
      expect(unwanted).toEqual([]);
      // No file twice (a hard-linked binary used to be zipped twice).
      expect(new Set(zip.names).size).toBe(zip.names.length);
    });
  }

  // Open VSX (code-server, VSCodium and similar editors install from there) refuses an extension without a
  // license, takes the namespace from `publisher`, and serves only extensions that use no proposed API.
  it('is ready for Open VSX: a license in the VSIX, a valid namespace, no proposed API', async () => {
    const zip = await entries(vsixes[0]);
    const manifest = await zip.read('extension.vsixmanifest');
    expect(manifest).toContain('<License>extension/LICENSE.txt</License>');
    expect(zip.names).toContain('extension/LICENSE.txt');
    expect(await zip.read('extension/LICENSE.txt')).toMatch(/^MIT License/);
    expect(manifest).toContain('<Property Id="Microsoft.VisualStudio.Code.EnabledApiProposals" Value="" />');
    const pkg = JSON.parse(await zip.read('extension/package.json')) as Record<string, unknown>;
    expect(pkg.publisher).toMatch(/^[\w\-+$~]+$/);
    expect(pkg.name).toMatch(/^[\w\-+$~]+$/);
    expect(pkg.license).toBe('MIT');
    expect(pkg.enabledApiProposals).toBeUndefined();
    expect(pkg.repository).toMatchObject({ type: 'git' });
    expect((pkg.engines as Record<string, string>).vscode).toMatch(/^\^1\.\d+\.\d+$/);
  });
});
