import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunArchive } from '../../src/host/vscode/run-archive';
import { emptyRunState } from '../../src/shared/model/run-state';

const dirs: string[] = [];
const archive = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-archive-'));
  dirs.push(dir);
  return new RunArchive(dir);
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the run archive (what a window reload restores)', () => {
  it("keeps a comparison's decoupled run with the run as written", async () => {
    const a = archive();
    const state = emptyRunState('/ws/train.ts');
    const compare = { ...emptyRunState('/ws/train.ts'), weightDecay: 'decoupled' as const };
    await a.save(state, [], compare);
    const saved = await a.load('/ws/train.ts');
    expect(saved?.state.weightDecay).toBe('as-written');
    expect(saved?.compare?.weightDecay).toBe('decoupled');
  });

  it('a later plain run replaces the comparison; a saved what-if of another script is dropped, the run kept', async () => {
    const a = archive();
    await a.save(emptyRunState('/ws/train.ts'), [], { ...emptyRunState('/ws/train.ts'), weightDecay: 'decoupled' });
    await a.save(emptyRunState('/ws/train.ts'), []);
    expect((await a.load('/ws/train.ts'))?.compare).toBeNull();
    await a.save(emptyRunState('/ws/train.ts'), [], { ...emptyRunState('/ws/other.ts'), weightDecay: 'decoupled' });
    const saved = await a.load('/ws/train.ts');
    expect(saved?.state.script).toBe('/ws/train.ts');
    expect(saved?.compare).toBeNull();
  });

  it('saves in call order: two saves at once leave the last one', async () => {
    const a = archive();
    const first = a.save(emptyRunState('/ws/train.ts'), []);
    const second = a.save(emptyRunState('/ws/train.ts'), [], { ...emptyRunState('/ws/train.ts'), weightDecay: 'decoupled' });
    await Promise.all([first, second]);
    expect((await a.load('/ws/train.ts'))?.compare?.weightDecay).toBe('decoupled');
  });
});
