// --events FILE through the real CLI: it never writes over the script or a file the scan read (paths, symlinks,
// hard links), opens FILE only when there is something to write, and never hangs on a FIFO.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/shared/analysis/report';
import { parseRunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { fixtureScript, ROOT } from '../helpers/run';
import { sarifValidator } from '../helpers/sarif-schema';

const CLI = path.join(ROOT, 'bin', 'loss-lens.js');

function cli(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonReport(stdout: string) {
  const parsed = reportSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues.slice(0, 5)));
  return parsed.data;
}

// A script with a file of its own and a package.json: the scan reads all three.
const TRAIN = `const tf = require('@tensorflow/tfjs');
const { buildModel } = require('./helper.js');
console.log('the script ran');
const model = buildModel(tf);
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
model.fit(tf.ones([4, 2]), tf.zeros([4, 1]), { epochs: 2, batchSize: 4, verbose: 0 });
`;
const HELPER = `exports.buildModel = (tf) => {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [2], units: 1, kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }) }));
  return model;
};
`;
const PACKAGE = '{ "name": "events-test", "private": true }\n';

let dir: string;
const file = (name: string) => path.join(dir, name);
const snapshot = () => Object.fromEntries(['train.js', 'helper.js', 'package.json'].map((n) => [n, fs.readFileSync(file(n))]));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-events-'));
  fs.writeFileSync(file('train.js'), TRAIN);
  fs.writeFileSync(file('helper.js'), HELPER);
  fs.writeFileSync(file('package.json'), PACKAGE);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('--events never writes over the script or a file it reads', () => {
  it('refuses the script, a symlink to it and a hard link to it: exit 2, one JSON document, the script byte-identical', () => {
    fs.symlinkSync(file('train.js'), file('soft.ndjson'));
    fs.linkSync(file('train.js'), file('hard.ndjson'));
    const before = snapshot();
    for (const target of ['train.js', './train.js', file('train.js'), 'soft.ndjson', 'hard.ndjson']) {
      const r = cli(dir, 'analyze', 'train.js', '--events', target, '--json');
      expect(r.code, target).toBe(2);
      const report = jsonReport(r.stdout);
      expect(report).toMatchObject({ status: 'failed', error: { name: 'UsageError' } });
      expect(report.error?.message).toMatch(/^--events \S+ is the script, .*train\.js.*; Loss Lens never writes over the script or the files it reads$/);
      expect(r.stderr, target).toBe('');
      expect(snapshot()).toEqual(before);
    }
  });

  it("refuses the script's own files the scan read (an imported helper, its hard link, the package.json) before the script runs", () => {
    fs.linkSync(file('helper.js'), file('helper-link.ndjson'));
    const before = snapshot();
    for (const target of ['helper.js', 'helper-link.ndjson', 'package.json']) {
      const r = cli(dir, 'analyze', 'train.js', '--events', target, '--json');
      expect(r.code, target).toBe(2);
      const report = jsonReport(r.stdout);
      expect(report).toMatchObject({ status: 'failed', error: { name: 'UsageError' } });
      expect(report.error?.message).toMatch(/^--events \S+ is a file the script reads, .*; Loss Lens never writes over the script or the files it reads$/);
      expect(r.stderr, target).not.toContain('the script ran');
      expect(snapshot()).toEqual(before);
    }
  });

  it('the refusal is one valid SARIF document under --format sarif, and the usage text under text', () => {
    const before = snapshot();
    const sarif = cli(dir, 'analyze', 'train.js', '--events', 'helper.js', '--format', 'sarif');
    expect(sarif.code).toBe(2);
    const doc = JSON.parse(sarif.stdout);
    expect(sarifValidator()(doc)).toEqual([]);
    expect(doc.runs[0].invocations[0]).toMatchObject({ executionSuccessful: false });
    expect(doc.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toContain('--events helper.js is');
    const text = cli(dir, 'analyze', 'train.js', '--events', 'train.js');
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^loss-lens: --events train\.js is the script, .*train\.js; Loss Lens never writes over/);
    expect(text.stderr).toContain('Usage: loss-lens analyze');
    expect(snapshot()).toEqual(before);
  });
});

describe('--events never writes into the report it goes with', () => {
  it('refuses the file stdout is redirected to: the report stays one whole JSON document', () => {
    const out = fs.openSync(file('out.json'), 'w');
    try {
      const r = spawnSync(process.execPath, [CLI, 'analyze', 'train.js', '--events', 'out.json', '--json'], { cwd: dir, stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
      expect(r.status).toBe(2);
    } finally {
      fs.closeSync(out);
    }
    const report = jsonReport(fs.readFileSync(file('out.json'), 'utf8'));
    expect(report.error).toMatchObject({ name: 'UsageError', message: '--events out.json is where this command writes its report (stdout); the recording needs a file of its own' });
  });
});

describe('--events FILE is written only when there is something to write', () => {
  it('a script that fails to build leaves no file behind', () => {
    const r = cli(dir, 'analyze', fixtureScript('syntax-error.ts'), '--events', 'rec.ndjson', '--json');
    expect(r.code).toBe(2);
    expect(jsonReport(r.stdout).status).toBe('failed');
    expect(fs.existsSync(file('rec.ndjson'))).toBe(false);
  });

  it('an existing file that is not one of the script’s is replaced by the recording (the documented meaning)', () => {
    fs.writeFileSync(file('rec.ndjson'), 'an old recording, longer than nothing\n'.repeat(1000));
    const r = cli(dir, 'analyze', 'train.js', '--events', 'rec.ndjson', '--json');
    expect(r.code).toBe(0);
    expect(jsonReport(r.stdout).status).toBe('completed');
    const lines = fs.readFileSync(file('rec.ndjson'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => parseRunnerEvent(l).ok)).not.toContain(false);
    expect(JSON.parse(lines[0]).type).toBe('hello');
    expect(JSON.parse(lines.at(-1)!).type).toBe('end');
  });
});

describe('--events into a FIFO never blocks the CLI', () => {
  it('nobody reads it: the recording is skipped with a notice, the analysis completes as without --events', () => {
    spawnSync('mkfifo', [file('fifo')]);
    const r = cli(dir, 'analyze', 'train.js', '--events', 'fifo', '--json');
    expect(r.code).toBe(0);
    const report = jsonReport(r.stdout);
    expect(report).toMatchObject({ status: 'completed', steps: 2 });
    expect(report.notices).toContain('--events: nobody reads the FIFO fifo, so no recording was written.');
    expect(r.stderr).toContain('loss-lens: --events: nobody reads the FIFO fifo');
  });

  it('its reader never reads: the recording stops early with a notice, and the report is whole', () => {
    spawnSync('mkfifo', [file('fifo')]);
    // A reader that holds the FIFO open and reads nothing: the pipe fills at the first large event.
    const reader = fs.openSync(file('fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const r = cli(dir, 'analyze', fixtureScript('long-layer-name.js'), '--events', 'fifo', '--json');
      expect(r.code).toBe(0);
      const report = jsonReport(r.stdout);
      expect(report).toMatchObject({ status: 'completed', steps: 2 });
      expect(report.layers).toHaveLength(1);
      expect(report.notices.find((n) => n.startsWith('--events:'))).toMatch(/the reader of fifo did not keep up \(EAGAIN\)/);
    } finally {
      fs.closeSync(reader);
    }
  });
});

describe('--events records what a replay needs', () => {
  it('a decoupled run: the recording says so (the runner no longer does), so its replay reports the mode', () => {
    const r = cli(dir, 'analyze', 'train.js', '--weight-decay', 'decoupled', '--events', 'rec.ndjson', '--json');
    expect(r.code).toBe(0);
    expect(jsonReport(r.stdout).weightDecay).toBe('decoupled');
    const events = fs.readFileSync(file('rec.ndjson'), 'utf8').trimEnd().split('\n').map((l) => parseRunnerEvent(l));
    expect(events.map((e) => e.ok)).not.toContain(false);
    const modes = events.flatMap((e) => (e.ok && e.value.type === 'weight-decay' ? [e.value.mode] : []));
    expect(modes).toEqual(['decoupled']);
  });
});
