import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { finding, type Finding } from '../../shared/analysis/finding';
import { runState, type RunState } from '../../shared/model/run-state';
import { toWireJson } from '../../shared/protocol/wire-number';
import { z } from '../../shared/protocol/zod';

const archived = z.object({ state: runState, findings: z.array(finding) });

/**
 * The last finished run of each script, on disk in the extension's workspace storage, so a panel restored
 * after a window reload shows what it showed before (the processes themselves never survive a reload).
 */
export class RunArchive {
  constructor(private readonly dir: string | undefined) {}

  private file(script: string): string | undefined {
    if (!this.dir) return undefined;
    return path.join(this.dir, 'runs', `${createHash('sha1').update(script).digest('hex').slice(0, 16)}.json`);
  }

  async save(state: RunState, findings: Finding[]): Promise<void> {
    const file = this.file(state.script);
    if (!file) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, toWireJson({ state, findings }));
  }

  async load(script: string): Promise<{ state: RunState; findings: Finding[] } | null> {
    const file = this.file(script);
    if (!file) return null;
    try {
      const parsed = archived.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
      return parsed.success && parsed.data.state.script === script ? parsed.data : null;
    } catch {
      return null;
    }
  }
}
