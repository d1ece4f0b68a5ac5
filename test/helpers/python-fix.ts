import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyFix, pythonPenaltyFix } from '../../src/host/editor/python-fix';
import { analyzeRun } from '../../src/shared/analysis/rules';
import { readStream, stateFrom } from './events';

export const PYTHON_EXAMPLES = path.resolve(__dirname, '..', '..', 'examples', 'python');
/** The recordings name the examples where they were recorded; read them from this checkout. */
export const exampleFileText = async (file: string) => fs.readFileSync(path.join(PYTHON_EXAMPLES, path.basename(file)), 'utf8');

/**
 * The fix the editor offers for a recorded Python run's first regularizer-not-in-loss finding (python-fix.ts, as
 * quick-fix.ts calls it), applied to the example it edits: its file name, edited text and title. Null: no fix.
 */
export async function fixedExample(stream: string): Promise<{ file: string; text: string; title: string } | null> {
  const state = stateFrom(readStream(stream), '/work/main/examples/python/x.py');
  const finding = analyzeRun(state).find((f) => f.ruleId === 'regularizer-not-in-loss');
  if (!finding) throw new Error(`${stream} has no regularizer-not-in-loss finding`);
  const plan = await pythonPenaltyFix(Object.values(state.graphs), finding, exampleFileText);
  return plan && { file: path.basename(plan.file), text: applyFix(await exampleFileText(plan.file), plan.fix), title: plan.title };
}
