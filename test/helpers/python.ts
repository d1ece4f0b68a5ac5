import * as path from 'node:path';
import { ROOT } from './run';

/** The Python runner's core files (its entry and what every run imports): shipped in the npm package and the VSIX. */
export const PYTHON_RUNNER_FILES = ['__init__.py', '__main__.py', 'channel.py', 'session.py', 'script.py', 'runtime.py', 'watchdog.py', 'containment.py'].map(
  (f) => `src/python/loss_lens_runner/${f}`,
);

/** The project venv (`npm run setup:python`, run by pretest): Python with the pinned TensorFlow and Keras. */
export const VENV_PYTHON = path.join(ROOT, '.cache', 'python-venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');

/** The machine's own Python, without TensorFlow: for the "TensorFlow is missing" path. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
