// The README's Rules table, generated from the registry: `npm run docs:rules` writes it between the markers, and a
// unit test fails when the README's copy is not what the registry gives.
import { RULE_LIST, type AnyRule } from './registry';

export const RULES_TABLE_START = '<!-- rules:start -->';
export const RULES_TABLE_END = '<!-- rules:end -->';

/** A table cell: one line, with the pipes that would end the cell escaped. */
function cell(text: string): string {
  if (/[\r\n]/.test(text)) throw new Error(`A rule's docs text must be one line for the README's table: ${JSON.stringify(text.slice(0, 60))}`);
  return text.replace(/\|/g, '\\|');
}

/** The Markdown table, one row per rule in registry order: id, severities, when it fires. */
export function rulesTable(rules: readonly AnyRule[] = RULE_LIST): string {
  const rows = rules.map((r) => `| \`${r.id}\` | ${[r.severity, ...(r.otherSeverities ?? [])].join(' / ')} | ${cell(r.firesWhen)} |`);
  return ['| rule id | severity | fires when |', '|---|---|---|', ...rows].join('\n');
}

/** The README with the text between its rules markers replaced by the generated table; throws when the markers are missing or out of order. */
export function withRulesTable(readme: string, table: string = rulesTable()): string {
  const start = readme.indexOf(RULES_TABLE_START);
  const end = readme.indexOf(RULES_TABLE_END);
  if (start < 0 || end < 0 || end < start || readme.indexOf(RULES_TABLE_START, start + 1) >= 0 || readme.indexOf(RULES_TABLE_END, end + 1) >= 0) {
    throw new Error(`The README needs exactly one ${RULES_TABLE_START} followed by one ${RULES_TABLE_END} around its Rules table.`);
  }
  // Blank lines around the table: every Markdown renderer then ends the comment and the table where they end.
  return `${readme.slice(0, start + RULES_TABLE_START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}
