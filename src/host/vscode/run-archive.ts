import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { finding, type Finding } from '../../shared/analysis/finding';
import { runState, type RunState } from '../../shared/model/run-state';
import { toWireJson } from '../../shared/protocol/wire-number';
import { z } from '../../shared/protocol/zod';

/** `compare`: the decoupled what-if of a Compare with Decoupled Weight Decay, kept so a reload still overlays it. */
const archived = z.object({ state: runState, findings: z.array(finding), compare: runState.nullable().default(null) });
export type ArchivedRun = z.output<typeof archived>;

/**
 * The last finished run of each script, on disk in the extension's workspace storage, so a panel restored
 * after a window reload shows what it showed before (the processes themselves never survive a reload).
 */
export class RunArchive {
  /** Saves one after another: both sides of a comparison may end at once, and two writes of one file must not interleave. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string | undefined) {}

  private file(script: string): string | undefined {
    if (!this.dir) return undefined;
    return path.join(this.dir, 'runs', `${createHash('sha1').update(script).digest('hex').slice(0, 16)}.json`);
  }

  save(state: RunState, findings: Finding[], compare: RunState | null = null): Promise<void> {
    const file = this.file(state.script);
    if (!file) return Promise.resolve();
    const text = toWireJson({ state, findings, compare });
    this.queue = this.queue.then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, text);
    // A save that failed (a full disk) only costs the restore after a reload; the next save must still happen.
    }).catch(() => undefined);
    return this.queue;
  }

  async load(script: string): Promise<ArchivedRun | null> {
    const file = this.file(script);
    if (!file) return null;
    try {
      const parsed = archived.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
      if (!parsed.success || parsed.data.state.script !== script) return null;
      // A comparison of another script (or a saved what-if that is not one) is not this run's: drop it, keep the run.
      const compare = parsed.data.compare?.script === script && parsed.data.compare.weightDecay === 'decoupled' ? parsed.data.compare : null;
      return { ...parsed.data, compare };
    } catch {
      return null;
    }
  }
}
