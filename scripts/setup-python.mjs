#!/usr/bin/env node
// Makes the project-local Python venv the Python runner's tests use: .cache/python-venv, with pinned TensorFlow,
// Keras, pytest and jsonschema from PyPI. Loss Lens itself never installs anything into a user's environment;
// this venv is only for this repository's tests (pytest, and the CLI/VS Code tests on .py scripts).
//
// Idempotent and cached: the venv holds a stamp with the hash of the pins and of the interpreter it was made
// with; when the stamp matches, a run only reads two small files. A changed pin (or interpreter) rebuilds it.
//
// Options: --python <exe> (the interpreter to make the venv with; default python3, or $LOSS_LENS_SETUP_PYTHON),
// --force (rebuild even when the stamp matches).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The pins (docs: /work/notes/python-contract.md). tensorflow-cpu 2.20 and Keras 3.12 are the newest pair here. */
const PINS = ['tensorflow-cpu==2.20.0', 'keras==3.12.0', 'pytest==8.3.4', 'jsonschema==4.23.0'];
const MIN_PYTHON = [3, 9];
const VENV = path.join(ROOT, '.cache', 'python-venv');
const STAMP = path.join(VENV, 'loss-lens-pins.sha256');

const argv = process.argv.slice(2);
const at = argv.indexOf('--python');
const python = at >= 0 ? argv[at + 1] : (process.env.LOSS_LENS_SETUP_PYTHON ?? 'python3');
const force = argv.includes('--force');
const started = Date.now();
const log = (m) => console.log(`[setup:python +${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);
const fail = (m) => {
  console.error(`setup:python failed: ${m}`);
  process.exit(1);
};

function venvPython(venv = VENV) {
  return process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
}

function run(cmd, args, inherit = false) {
  const r = spawnSync(cmd, args, { stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n')}`);
  return r.stdout ?? '';
}

/** The interpreter's version, or a clear failure when there is none or it is too old. */
function checkPython() {
  const r = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fail(
      `no Python interpreter "${python}" (${r.error?.message ?? r.stderr.trim()}). The Python runner's tests need Python ` +
        `${MIN_PYTHON.join('.')} or newer with the venv module: install it (Debian/Ubuntu: sudo apt-get install -y python3 python3-venv), ` +
        'or name one with --python <exe> or LOSS_LENS_SETUP_PYTHON.',
    );
  }
  const [version, executable] = r.stdout.trim().split('\n');
  const [major, minor] = version.split('.').map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    fail(`${python} is Python ${version}; the Python runner's tests need ${MIN_PYTHON.join('.')} or newer (--python <exe> to choose another).`);
  }
  return { version, executable };
}

const { version, executable } = checkPython();
const hash = createHash('sha256').update(JSON.stringify({ pins: PINS, python: version, executable })).digest('hex');
if (!force && existsSync(STAMP) && existsSync(venvPython()) && readFileSync(STAMP, 'utf8').trim() === hash) {
  log(`${path.relative(ROOT, VENV)} is up to date (Python ${version}; ${PINS.join(', ')})`);
  process.exit(0);
}

log(`making ${path.relative(ROOT, VENV)} with ${executable} (Python ${version})`);
// A stale or half-made venv goes entirely: pip would otherwise keep packages no pin names any more.
rmSync(VENV, { recursive: true, force: true });
run(python, ['-m', 'venv', VENV]);
log(`installing ${PINS.join(' ')} from PyPI`);
run(venvPython(), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...PINS], true);
// A smoke check that the wheels import here (a wheel built for another libc would fail only now).
const check = run(venvPython(), ['-c', 'import tensorflow as tf, keras, pytest, jsonschema; print(tf.__version__, keras.__version__)']);
log(`imports work: tensorflow ${check.trim().split(' ')[0]}, keras ${check.trim().split(' ')[1]}`);
// Last: a venv whose install was interrupted has no stamp, so the next run makes it again.
writeFileSync(STAMP, `${hash}\n`);
log('done');
