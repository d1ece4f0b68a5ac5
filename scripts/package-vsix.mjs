#!/usr/bin/env node
// Packages the extension the way it ships: one VSIX per VS Code platform, out/loss-lens-<target>.vsix, each with
// only its own platform's esbuild binary (the engine transpiles and scans the user's script with esbuild, a native
// program). `npm run package` writes all six; `npm start` and the end-to-end test package and install this
// machine's.
//
// How: the production dependency tree (`npm ls --omit=dev`) is copied into out/stage/<target>/, without any
// @esbuild/* platform package and without esbuild's own copy of the binary (esbuild's JS API runs
// @esbuild/<platform>/bin/esbuild); the target's @esbuild package is fetched with `npm pack` (cached under
// .cache/esbuild-platforms/) and unpacked there; then `vsce package --target <target>` runs in the stage.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
const OUT = path.join(ROOT, 'out');
const PLATFORM_CACHE = path.join(ROOT, '.cache', 'esbuild-platforms');
/** What the extension needs at its top level, besides node_modules; everything else stays out. */
const TOP_LEVEL = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', '.vscodeignore', 'dist', 'examples', 'media', 'schema'];

/** The VS Code target of the machine we run on, e.g. linux-x64. */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

function npm(args, cwd, options = {}) {
  // npm on Windows is a .cmd; through the shell there, directly elsewhere.
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', shell: process.platform === 'win32', ...options });
}

function esbuildVersion() {
  return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
}

/** The production packages, as folders relative to the root (nested ones too), without the root itself. */
function productionPackages() {
  // --omit=optional: @tensorflow/tfjs-node (and what only it needs) is built for this machine by
  // `npm run setup:tfjs-node`, against libraries under .cache/; the extension finds a workspace's own instead.
  const out = npm(['ls', '--omit=dev', '--omit=optional', '--all', '--parseable'], ROOT, { stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  return out
    .split(/\r?\n/)
    .map((p) => path.relative(ROOT, p))
    .filter((p) => p && p.startsWith('node_modules'))
    .filter((p) => !/node_modules[\\/]@esbuild[\\/]/.test(p))
    // npm lists the workspace packages (packages/*, linked into node_modules) even with --omit=dev: they are
    // bundled into dist/, so the VSIX needs none of them.
    .filter((p) => !lstatSync(path.join(ROOT, p)).isSymbolicLink());
}

/** @esbuild/<target> unpacked into `into`, fetched once per version from the npm registry. */
function unpackEsbuildPlatform(target, into) {
  const version = esbuildVersion();
  const dir = path.join(PLATFORM_CACHE, version);
  mkdirSync(dir, { recursive: true });
  // npm names a scoped package's tarball <scope>-<name>-<version>.tgz.
  const tarball = path.join(dir, `esbuild-${target}-${version}.tgz`);
  if (!existsSync(tarball)) npm(['pack', `@esbuild/${target}@${version}`, '--pack-destination', dir, '--silent'], dir);
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', into, '--strip-components=1']);
}

function stage(target, packages) {
  const dir = path.join(OUT, 'stage', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of TOP_LEVEL) {
    if (existsSync(path.join(ROOT, entry))) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  // The Python runner runs from its sources (src/python, beside dist/ as in the repository): .py files only.
  cpSync(path.join(ROOT, 'src', 'python'), path.join(dir, 'src', 'python'), {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('__pycache__') && (!/\.[^/\\]+$/.test(path.basename(src)) || src.endsWith('.py')),
  });
  // `files` says what the npm package (the CLI) holds; vsce refuses it next to .vscodeignore, which says what the VSIX holds.
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  delete manifest.files;
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const pkg of packages) {
    // Nested node_modules are listed (and copied) on their own.
    cpSync(path.join(ROOT, pkg), path.join(dir, pkg), {
      recursive: true,
      filter: (src) => !path.relative(path.join(ROOT, pkg), src).split(path.sep).includes('node_modules'),
    });
  }
  // esbuild's install step links the binary into esbuild/bin as well: a second 10 MB copy the JS API never runs.
  rmSync(path.join(dir, 'node_modules', 'esbuild', 'bin'), { recursive: true, force: true });
  unpackEsbuildPlatform(target, path.join(dir, 'node_modules', '@esbuild', target));
  return dir;
}

/** Builds dist/ once, then packages each target; returns the VSIX paths. */
export function packageVsix(targets = [hostTarget()], { build = true } = {}) {
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown VS Code target ${t}; one of ${TARGETS.join(', ')}`);
  mkdirSync(OUT, { recursive: true });
  if (build) execFileSync(process.execPath, [path.join(ROOT, 'esbuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const packages = productionPackages();
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  return targets.map((target) => {
    const dir = stage(target, packages);
    const vsix = path.join(OUT, `loss-lens-${target}.vsix`);
    // The repository is not on GitHub, so vsce cannot rewrite the README's relative image links: keep them as they are.
    execFileSync(process.execPath, [vsce, 'package', '--target', target, '--no-rewrite-relative-links', '--out', vsix], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return vsix;
  });
}

/** The files of a staged target as vsce would pack them (`vsce ls`), for checks. */
export function stagedFiles(target) {
  const dir = path.join(OUT, 'stage', target);
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  return execFileSync(process.execPath, [vsce, 'ls', '--no-rewrite-relative-links'], { cwd: dir, encoding: 'utf8' }).split(/\r?\n/).filter(Boolean);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const asked = process.argv.slice(2);
  const targets = asked.length === 0 || asked.includes('--all') ? TARGETS : asked;
  for (const vsix of packageVsix(targets)) process.stdout.write(`${path.relative(ROOT, vsix)}\n`);
}
