// The Python runner's probe overhead on a small Keras CNN (issue 23): `python keras_cnn.py` against
// `loss-lens analyze keras_cnn.py` with the same interpreter. Each run reports its own median step time after
// warm-up (on_train_batch_end timestamps), so process start, TensorFlow's import and the engine are left out; the
// whole process's wall time is shown beside it. Runs alternate and swap order every pair, so drift on the shared
// machine hits both alike. Interpreter: LOSS_LENS_BENCH_PYTHON, else the project venv (npm run setup:python).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PY = process.env.LOSS_LENS_BENCH_PYTHON ?? path.join(ROOT, '.cache', 'python-venv', 'bin', 'python');
const SCRIPT = path.join(ROOT, 'bench', 'scripts', 'keras_cnn.py');
const PAIRS = Number(process.env.LOSS_LENS_BENCH_PAIRS ?? 5);
const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', CUDA_VISIBLE_DEVICES: '' };

function once(instrumented) {
  const started = performance.now();
  const cmd = instrumented ? [process.execPath, [path.join(ROOT, 'bin', 'loss-lens.js'), 'analyze', SCRIPT, '--json', '--steps', '100000', '--python', PY]] : [PY, [SCRIPT]];
  const r = spawnSync(cmd[0], cmd[1], { cwd: ROOT, env, encoding: 'utf8', timeout: 600_000 });
  const wallMs = performance.now() - started;
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`no BENCH line (${instrumented ? 'instrumented' : 'plain'}):\n${r.stderr.slice(-2000)}`);
  return { ...JSON.parse(line.slice(6)), wallMs };
}

const rows = [];
for (let i = 0; i < PAIRS; i++) {
  const order = i % 2 ? [true, false] : [false, true];
  const got = {};
  for (const instrumented of order) got[instrumented] = once(instrumented);
  rows.push({ plain: got.false, instrumented: got.true });
  console.log(`pair ${i + 1}: plain ${got.false.medianStepMs.toFixed(2)} ms/step (${(got.false.wallMs / 1000).toFixed(1)} s), ` +
    `instrumented ${got.true.medianStepMs.toFixed(2)} ms/step (${(got.true.wallMs / 1000).toFixed(1)} s)`);
}
const ratios = rows.map((r) => r.instrumented.medianStepMs / r.plain.medianStepMs);
const wall = rows.map((r) => r.instrumented.wallMs / r.plain.wallMs);
console.log(`step time: plain ${median(rows.map((r) => r.plain.medianStepMs)).toFixed(2)} ms, instrumented ` +
  `${median(rows.map((r) => r.instrumented.medianStepMs)).toFixed(2)} ms, median slowdown ×${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`whole run (process start to exit): median ×${median(wall).toFixed(3)} (${wall.map((x) => x.toFixed(3)).join(' ')})`);
