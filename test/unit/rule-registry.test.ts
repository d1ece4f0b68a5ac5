import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSarif } from '../../src/cli/sarif-report';
import { ruleId } from '../../src/shared/analysis/finding';
import { makeFinding, RULES } from '../../src/shared/analysis/rules/registry';
import { buildReport } from '../../src/shared/analysis/report';
import { analyzeRun, analyzeWith, foldBySource } from '../../src/shared/analysis/rules';
import { RULE_LIST } from '../../src/shared/analysis/rules/registry';
import { RULE_IDS } from '../../src/shared/analysis/rules/rule-ids';
import { defineRule } from '../../src/shared/analysis/rules/rule';
import { RULES_TABLE_END, RULES_TABLE_START, rulesTable, withRulesTable } from '../../src/shared/analysis/rules/rules-table';
import { FIXTURES, readStream, stateFrom } from '../helpers/events';

const ROOT = path.resolve(__dirname, '..', '..');
const RULES_DIR = path.join(ROOT, 'src', 'shared', 'analysis', 'rules');
const streams = fs.readdirSync(path.join(FIXTURES, 'streams')).filter((f) => f.endsWith('.ndjson')).map((f) => f.replace(/\.ndjson$/, ''));

describe('rule registry', () => {
  it('holds each rule once, in a file named after its id that defines it', () => {
    const ids = RULE_LIST.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULE_LIST) {
      const file = path.join(RULES_DIR, `${rule.id}.ts`);
      expect(fs.existsSync(file), `${rule.id} has no file ${path.relative(ROOT, file)}`).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toContain(`id: '${rule.id}'`);
    }
    // The finding schema accepts exactly the registry's ids, and RULES looks each one up.
    expect(ruleId.options).toEqual(ids);
    expect(Object.keys(RULES)).toEqual(ids);
    for (const rule of RULE_LIST) expect(RULES[rule.id]).toBe(rule);
  });

  it("lists exactly the ids of rule-ids.ts, in that order (the finding schema's ids, and SARIF's ruleIndex)", () => {
    expect(RULE_LIST.map((r) => r.id)).toEqual([...RULE_IDS]);
    expect(ruleId.options).toEqual([...RULE_IDS]);
  });

  it('gives every rule a SARIF name, one-line docs and a default severity', () => {
    const names = RULE_LIST.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of RULE_LIST) {
      expect(rule.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      expect(rule.firesWhen.length).toBeGreaterThan(10);
      expect(rule.firesWhen).not.toMatch(/[\r\n]/);
      expect(rule.otherSeverities ?? []).not.toContain(rule.severity);
    }
  });

  it('gives the same findings whatever order the registry lists its rules in', () => {
    const reversed = [...RULE_LIST].reverse();
    for (const name of streams) {
      const state = stateFrom(readStream(name));
      expect(analyzeWith(reversed, state), name).toEqual(analyzeRun(state));
    }
  });

  it('folds findings of one rule at one line unless the rule says its findings stand alone (script-error, non-finite-loss)', () => {
    const at = { file: '/ws/train.ts', line: 3, column: 1 };
    const standAlone = RULE_LIST.filter((r) => r.foldsBySource === false).map((r) => r.id);
    expect(standAlone).toEqual(['non-finite-loss', 'script-error']);
    const folded = foldBySource([
      makeFinding('script-error', 'Build error: one', { source: at }),
      makeFinding('script-error', 'Build error: two', { source: at }),
      makeFinding('no-decay', 'k1 has no decay.', { weight: 'k1', source: at }),
      makeFinding('no-decay', 'k2 has no decay.', { weight: 'k2', source: at }),
    ]);
    expect(folded.map((f) => f.message)).toEqual([
      'Build error: one',
      'Build error: two',
      'k1 has no decay. The same holds for 1 more created at this line (k2).',
    ]);
  });

  it("lets a rule report only under its own id and severity, unless the check says otherwise", () => {
    const state = stateFrom(readStream('custom-loop-drops-penalty'));
    const mine = defineRule({
      id: 'no-decay',
      severity: 'info',
      name: 'NoDecay',
      summary: 'x',
      help: 'x',
      firesWhen: 'x',
      check: ({ weights }) => [{ message: `${weights.length} weights` }, { message: 'louder', severity: 'error' }],
    });
    const found = analyzeWith([mine], state);
    expect(found.map((f) => [f.ruleId, f.severity, f.message])).toEqual([
      ['no-decay', 'error', 'louder'],
      ['no-decay', 'info', `${state.layers.flatMap((l) => l.weights).length} weights`],
    ]);
  });
});

describe('docs generated from the registry', () => {
  it("README.md's Rules table is the one the registry gives (run `npm run docs:rules` after changing a rule)", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(RULES_TABLE_START);
    expect(withRulesTable(readme)).toBe(readme);
  });

  it('writes one row per rule with its severities, and escapes a pipe in a cell', () => {
    const table = rulesTable().split('\n');
    expect(table).toHaveLength(RULE_LIST.length + 2);
    expect(table).toContain(`| \`invalid-regularizer\` | error / warning | ${RULES['invalid-regularizer'].firesWhen} |`);
    const piped = { ...RULES['no-decay'], firesWhen: 'a | b' };
    expect(rulesTable([piped])).toContain('| `no-decay` | info | a \\| b |');
    expect(() => rulesTable([{ ...piped, firesWhen: 'two\nlines' }])).toThrow(/one line/);
  });

  it('replaces only what lies between the markers, and refuses a README without them', () => {
    const readme = `# x\n\nbefore\n\n${RULES_TABLE_START}\nstale\n${RULES_TABLE_END}\n\nafter\n`;
    const next = withRulesTable(readme, '| t |');
    expect(next).toBe(`# x\n\nbefore\n\n${RULES_TABLE_START}\n\n| t |\n\n${RULES_TABLE_END}\n\nafter\n`);
    expect(withRulesTable(next, '| t |')).toBe(next);
    expect(() => withRulesTable('# no markers\n')).toThrow(/rules:start/);
    expect(() => withRulesTable(`${RULES_TABLE_END}\n${RULES_TABLE_START}\n`)).toThrow(/rules:start/);
  });

  it("SARIF's tool.driver.rules is the registry: each rule's id, name, texts and level, in registry order", () => {
    const state = stateFrom(readStream('fit-cnn-with-decay'));
    state.status = 'step-limit';
    const sarif = JSON.parse(renderSarif(buildReport(state, { toolVersion: '1.2.3', durationMs: 1 }), '/ws'));
    const level = { error: 'error', warning: 'warning', info: 'note' } as const;
    expect(sarif.runs[0].tool.driver.rules).toEqual(
      RULE_LIST.map((r) => ({
        id: r.id,
        name: r.name,
        shortDescription: { text: r.summary },
        fullDescription: { text: r.help },
        help: { text: r.help },
        defaultConfiguration: { level: level[r.severity] },
      })),
    );
  });
});
