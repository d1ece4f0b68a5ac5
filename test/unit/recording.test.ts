// The --events recording on real files and FIFOs: it never writes over a protected file, however it is named,
// and it never blocks, whoever is (not) reading.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventRecording, RefusedPath } from '../../src/cli/recording';
import { scanScript } from '../../src/engine/script-scan';

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-recording-'));
  fs.writeFileSync(file('train.js'), "require('@tensorflow/tfjs');\nrequire('./lib/helper.js');\n");
  fs.mkdirSync(file('lib'));
  fs.writeFileSync(file('lib/helper.js'), 'module.exports = 1;\n');
  fs.writeFileSync(file('package.json'), '{}\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('what the scan read', () => {
  it('lists the script, its own files and the package.json it consulted', async () => {
    const scan = await scanScript(file('train.js'), fs.mkdtempSync(path.join(dir, 'out-')));
    if (!scan.ok) throw new Error(JSON.stringify(scan.errors));
    expect([...scan.readFiles].sort()).toEqual([file('lib/helper.js'), file('package.json'), file('train.js')]);
  });
});

describe('EventRecording', () => {
  it('refuses the script by any name before anything runs: the path, ./relative, a symlink, a hard link', () => {
    fs.symlinkSync(file('train.js'), file('soft'));
    fs.linkSync(file('train.js'), file('hard'));
    for (const name of [file('train.js'), path.relative(process.cwd(), file('train.js')), file('soft'), file('hard'), file('lib/../train.js')]) {
      expect(() => new EventRecording(name, file('train.js')), name).toThrow(RefusedPath);
    }
    expect(fs.readFileSync(file('train.js'), 'utf8')).toContain('tfjs');
  });

  it('refuses a folder, a missing folder and an unwritable place, naming the reason', () => {
    expect(() => new EventRecording(dir, file('train.js'))).toThrow(/cannot write .* \(EISDIR\)/);
    expect(() => new EventRecording(file('no/such/rec.ndjson'), file('train.js'))).toThrow(/cannot write .* \(ENOENT\)/);
  });

  it('protect() refuses a file the scan read, through a symlinked folder too; other files pass', () => {
    fs.symlinkSync(file('lib'), file('lib-link'));
    const byLink = new EventRecording(file('lib-link/helper.js'), file('train.js'));
    expect(byLink.protect([file('train.js'), file('lib/helper.js')])).toMatch(/is a file the script reads, .*lib\/helper\.js \(through a link\); Loss Lens never writes over/);
    const other = new EventRecording(file('rec.ndjson'), file('train.js'));
    expect(other.protect([file('train.js'), file('lib/helper.js')])).toBeNull();
  });

  it('opens nothing until the first write, then replaces the file', () => {
    fs.writeFileSync(file('rec.ndjson'), 'old\n'.repeat(100));
    const rec = new EventRecording(file('rec.ndjson'), file('train.js'));
    expect(rec.protect([file('train.js')])).toBeNull();
    expect(fs.readFileSync(file('rec.ndjson'), 'utf8')).toBe('old\n'.repeat(100));
    rec.write('{"a":1}\n');
    rec.write('{"a":2}\n');
    rec.close();
    expect(fs.readFileSync(file('rec.ndjson'), 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(rec.problem).toBeNull();
  });

  it('a protected file swapped in under the name after the check is never emptied or written', () => {
    const rec = new EventRecording(file('rec.ndjson'), file('train.js'));
    expect(rec.protect([file('train.js'), file('lib/helper.js')])).toBeNull();
    fs.linkSync(file('lib/helper.js'), file('rec.ndjson'));
    rec.write('{"a":1}\n');
    rec.close();
    expect(fs.readFileSync(file('lib/helper.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(rec.problem).toMatch(/became .*helper\.js after the check; nothing was written to it/);
  });

  it('a FIFO nobody reads: the first write returns at once, nothing recorded, a notice says why', () => {
    spawnSync('mkfifo', [file('fifo')]);
    const rec = new EventRecording(file('fifo'), file('train.js'));
    rec.write('{"a":1}\n');
    rec.write('{"a":2}\n');
    rec.close();
    expect(rec.problem).toBe(`--events: nobody reads the FIFO ${file('fifo')}, so no recording was written.`);
  });

  it('a FIFO whose reader stops reading: writes stop at the full pipe (EAGAIN) instead of blocking; what was read is whole lines', () => {
    spawnSync('mkfifo', [file('fifo')]);
    const reader = fs.openSync(file('fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const rec = new EventRecording(file('fifo'), file('train.js'));
      const line = `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n`;
      let written = 0;
      while (rec.problem === null && written < 10_000) {
        rec.write(line);
        written++;
      }
      rec.close();
      expect(rec.problem).toMatch(/the recording stopped early: the reader of .*fifo did not keep up \(EAGAIN\)/);
      // The pipe held some whole lines before it filled.
      const got = Buffer.alloc(1 << 20);
      const n = fs.readSync(reader, got, 0, got.length, null);
      const lines = got.subarray(0, n).toString('utf8').split('\n');
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.slice(0, -2).every((l) => l === line.trimEnd())).toBe(true);
    } finally {
      fs.closeSync(reader);
    }
  });
});
