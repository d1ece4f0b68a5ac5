#!/usr/bin/env node
// Makes @tensorflow/tfjs-node real on a machine that cannot run its install step.
//
// Why: tfjs-node's install script downloads libtensorflow from a host these machines cannot reach, so `npm ci`
// drops it (it is an optional dependency) and everything would run on wasm. PyPI is reachable, and the
// tensorflow-cpu wheel ships TensorFlow's shared libraries with the C and eager C API, plus the C headers. So:
//   1. the pinned tensorflow-cpu wheel goes into a project-local venv (.cache/tfjs-node/tensorflow-cpu-X/venv);
//   2. its libraries and headers are laid out as tfjs-node's binding.gyp expects (deps/lib, deps/include);
//   3. tfjs-node itself goes into node_modules from the lockfile, without its install script;
//   4. its addon is built from its own sources with node-gyp, against local Node headers (no download);
//   5. a child `node` requires it from the project root and trains a small model on it.
// Every step is cached under .cache/tfjs-node/ and skipped when its result is there: a warm run only checks.
// docs/tfjs-node-build.md says which wheel versions were tried and why this one is pinned.
//
// Options: --tensorflow <version> (another wheel, for measuring), --force (rebuild the addon).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The oldest tensorflow-cpu with a Python 3.11 wheel: nearest to the 2.9.1 tfjs-node 4.22 was written against. */
const PINNED_TENSORFLOW = '2.12.1';
/** The N-API version the addon is built for: the highest tfjs-node lists, and the folder it loads from. */
const NAPI_VERSION = 8;

const argv = process.argv.slice(2);
const option = (name) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const tensorflowVersion = option('--tensorflow') ?? PINNED_TENSORFLOW;
const force = argv.includes('--force');

const CACHE = path.join(ROOT, '.cache', 'tfjs-node');
const TF_DIR = path.join(CACHE, `tensorflow-cpu-${tensorflowVersion}`);
const PKG_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const started = Date.now();

function log(message) {
  console.log(`[setup:tfjs-node +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

function fail(message) {
  console.error(`setup:tfjs-node failed: ${message}`);
  process.exit(1);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n${out}`);
  }
  return r.stdout;
}

/** Replaces whatever is at `link` with a relative symlink to `target`. */
function link(target, linkPath) {
  try {
    lstatSync(linkPath);
    rmSync(linkPath, { recursive: true, force: true });
  } catch {
    // nothing there yet
  }
  mkdirSync(path.dirname(linkPath), { recursive: true });
  symlinkSync(path.relative(path.dirname(linkPath), target), linkPath);
}

function tfjsNodeVersion() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const v = pkg.optionalDependencies?.['@tensorflow/tfjs-node'];
  if (!v) fail('package.json lists no optional @tensorflow/tfjs-node');
  return v;
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`the tensorflow-cpu wheel route is for linux-x64; on ${process.platform}-${process.arch} install @tensorflow/tfjs-node normally`);
}

// 1. The wheel, in a venv of its own. --no-deps: only its shared libraries and headers are used, never its
// Python side, so numpy, keras and the rest would be 300 MB for nothing.
function installWheel() {
  const venv = path.join(TF_DIR, 'venv');
  const stamp = path.join(TF_DIR, 'wheel-installed');
  if (!existsSync(stamp)) {
    const python = process.env.PYTHON ?? 'python3';
    log(`installing tensorflow-cpu==${tensorflowVersion} into ${path.relative(ROOT, venv)}`);
    rmSync(venv, { recursive: true, force: true });
    mkdirSync(TF_DIR, { recursive: true });
    run(python, ['-m', 'venv', venv]);
    run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', `tensorflow-cpu==${tensorflowVersion}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    writeFileSync(stamp, `tensorflow-cpu==${tensorflowVersion}\n`);
  }
  const lib = path.join(venv, 'lib');
  const py = readdirSync(lib).find((d) => d.startsWith('python'));
  const tf = py && path.join(lib, py, 'site-packages', 'tensorflow');
  if (!tf || !existsSync(path.join(tf, 'libtensorflow_framework.so.2'))) {
    fail(`the venv at ${venv} has no tensorflow/libtensorflow_framework.so.2: delete ${TF_DIR} and run again`);
  }
  return tf;
}

// 2. deps/ as binding.gyp wants it: it links -ltensorflow -ltensorflow_framework from deps/lib and includes
// deps/include. libtensorflow.so is the library that exports the C and eager C API (TF_*, TFE_*):
// libtensorflow_cc.so.2 in wheels from 2.12 on. Its SONAME is what the addon records as NEEDED, so that name
// must be in deps/lib too; the addon's rpath ($ORIGIN/../../deps/lib) finds both at run time.
function layOutDeps(tf) {
  const deps = path.join(TF_DIR, 'deps');
  const capi = path.join(tf, 'libtensorflow_cc.so.2');
  if (!existsSync(capi)) fail(`${capi} is missing: tensorflow-cpu ${tensorflowVersion} does not ship the C API as this script expects`);
  link(capi, path.join(deps, 'lib', 'libtensorflow_cc.so.2'));
  link(path.join(deps, 'lib', 'libtensorflow_cc.so.2'), path.join(deps, 'lib', 'libtensorflow.so'));
  link(path.join(tf, 'libtensorflow_framework.so.2'), path.join(deps, 'lib', 'libtensorflow_framework.so.2'));
  link(path.join(deps, 'lib', 'libtensorflow_framework.so.2'), path.join(deps, 'lib', 'libtensorflow_framework.so'));
  const include = path.join(tf, 'include');
  for (const h of ['tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h']) {
    if (!existsSync(path.join(include, h))) fail(`the wheel has no ${h}`);
  }
  link(include, path.join(deps, 'include'));
  return deps;
}

// 3. tfjs-node from the lockfile, as `npm ci` would have installed it had its download worked. --no-save leaves
// package.json and the lockfile alone; --ignore-scripts skips the download that cannot work here.
function installPackage(version) {
  const manifest = path.join(PKG_DIR, 'package.json');
  const have = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : null;
  const runtimeDeps = ['@mapbox/node-pre-gyp', 'google-protobuf', 'adm-zip'];
  const depsThere = runtimeDeps.every((d) => existsSync(path.join(ROOT, 'node_modules', d, 'package.json')));
  if (have === version && depsThere) return;
  log(`installing @tensorflow/tfjs-node@${version} from the lockfile, without its install script`);
  run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--include=optional'], { cwd: ROOT });
  if (!existsSync(manifest) || JSON.parse(readFileSync(manifest, 'utf8')).version !== version) {
    fail(`npm did not install @tensorflow/tfjs-node@${version} into node_modules`);
  }
}

// Node's headers, offline. node-gyp would download them; Node installed from a distribution tarball or a
// Debian/NodeSource package has them at <prefix>/include/node. If not, the npm registry has the official
// tarball for this exact version as node-<platform>-<arch>, include/node and all.
function nodeHeaders() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(realpathSync(process.execPath)), '..')].filter(Boolean);
  for (const dir of candidates) if (existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) return dir;
  const name = `node-${process.platform}-${process.arch}@${process.versions.node}`;
  const dir = path.join(CACHE, 'node-headers', process.versions.node);
  if (!existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) {
    log(`no local Node headers: unpacking ${name} from the npm registry`);
    mkdirSync(dir, { recursive: true });
    const tgz = run('npm', ['pack', name, '--silent', '--pack-destination', dir], { cwd: dir }).trim().split('\n').pop();
    run('tar', ['xzf', path.join(dir, tgz), '-C', dir, '--strip-components=1', 'package/include']);
  }
  return dir;
}

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    const npmCli = realpathSync(execFileSync('which', ['npm'], { encoding: 'utf8' }).trim());
    candidates.push(path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  } catch {
    // no npm on PATH: the env variable is the only way
  }
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) fail('cannot find node-gyp (npm ships one; set npm_config_node_gyp to its bin/node-gyp.js)');
  return found;
}

/** TF_/TFE_ symbols the addon needs that the libraries in deps/lib do not define: the evidence when a wheel cannot work. */
function missingCApiSymbols(addon, libDir) {
  const names = (args, file) =>
    run('nm', [...args, file])
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop()?.replace(/@.*$/, ''))
      .filter((s) => s && /^TFE?_/.test(s));
  const needed = new Set(names(['-D', '--undefined-only'], addon));
  for (const lib of ['libtensorflow.so', 'libtensorflow_framework.so']) {
    for (const s of names(['-D', '--defined-only'], realpathSync(path.join(libDir, lib)))) needed.delete(s);
  }
  return [...needed].sort();
}

// 4. The addon, built once per (tfjs-node, TensorFlow, N-API) and copied in from the cache afterwards.
function buildAddon(version, deps) {
  const cached = path.join(CACHE, 'addons', `tfjs-node-${version}-tf-${tensorflowVersion}-napi-v${NAPI_VERSION}`, 'tfjs_binding.node');
  const target = path.join(PKG_DIR, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node');
  link(deps, path.join(PKG_DIR, 'deps'));
  if (existsSync(cached) && !force) {
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(cached, target);
    return target;
  }
  const nodedir = nodeHeaders();
  log(`building tfjs_binding.node with node-gyp against ${path.relative(ROOT, deps)} and Node headers in ${nodedir}`);
  rmSync(path.join(PKG_DIR, 'build'), { recursive: true, force: true });
  // binding.gyp reads module_name, module_path and napi_build_version, which node-pre-gyp passes as gyp
  // variables when it builds; node-gyp takes them after `--`.
  run(process.execPath, [
    nodeGyp(), 'rebuild', `--nodedir=${nodedir}`, '--jobs=2', '--',
    '-Dmodule_name=tfjs_binding', `-Dmodule_path=${path.dirname(target)}`, `-Dnapi_build_version=${NAPI_VERSION}`,
  ], { cwd: PKG_DIR });
  const missing = missingCApiSymbols(target, path.join(deps, 'lib'));
  if (missing.length) fail(`tensorflow-cpu ${tensorflowVersion} does not define ${missing.length} symbols the addon needs: ${missing.join(' ')}`);
  mkdirSync(path.dirname(cached), { recursive: true });
  copyFileSync(target, cached);
  return target;
}

// 5. What a user would do: require it from the project and train on it, in a fresh process.
function verify() {
  const check = `
    const tf = require('@tensorflow/tfjs-node');
    (async () => {
      if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
      const p = tf.tensor2d([[1, 2], [3, 4]]).matMul(tf.tensor2d([[5, 6], [7, 8]])).dataSync().join(',');
      if (p !== '19,22,43,50') throw new Error('matMul gave ' + p);
      const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      m.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const h = await m.fit(tf.tensor2d([[0, 1], [1, 0], [1, 1], [0, 0]]), tf.tensor2d([[1], [2], [3], [0]]), { epochs: 30, verbose: 0 });
      const [first, last] = [h.history.loss[0], h.history.loss.at(-1)];
      if (!(last < first)) throw new Error('fit did not lower the loss: ' + first + ' -> ' + last);
      console.log('TensorFlow ' + tf.backend().binding.TF_Version + ', matMul ok, fit loss ' + first.toFixed(3) + ' -> ' + last.toFixed(3));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  // TF_CPP_MIN_LOG_LEVEL=2: keep TensorFlow's start-up banner (CPU features, oneDNN) out of the log.
  return run(process.execPath, ['-e', check], { cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }).trim();
}

const version = tfjsNodeVersion();
const tf = installWheel();
const deps = layOutDeps(tf);
installPackage(version);
buildAddon(version, deps);
log(`@tensorflow/tfjs-node ${version} on tensorflow-cpu ${tensorflowVersion}: ${verify()}`);
