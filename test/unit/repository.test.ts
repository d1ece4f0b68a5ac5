import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What the repository tracks. A worktree's `node_modules` or `.cache` symlinked to a shared copy once got committed
 * (a `.gitignore` entry with a trailing slash matches a folder, not a symlink), and a checkout then replaced the real
 * folder with a link to itself: no tracked path may be a machine's install, cache or build output.
 */
const root = path.resolve(__dirname, '../..');
const tracked = () =>
  execFileSync('git', ['ls-files', '-s', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, file] = line.split('\t');
      return { mode: meta.split(' ')[0], file };
    });

describe('the repository', () => {
  it('tracks no install, cache or build output, as a folder or a symlink', () => {
    const generated = /^(?:node_modules|\.cache|\.tsbuild|dist|out|test-results)(?:\/|$)|\/node_modules(?:\/|$)|__pycache__/;
    expect(tracked().filter((t) => generated.test(t.file)).map((t) => t.file)).toEqual([]);
  });

  it('tracks no symlink', () => {
    expect(tracked().filter((t) => t.mode === '120000').map((t) => t.file)).toEqual([]);
  });
});
