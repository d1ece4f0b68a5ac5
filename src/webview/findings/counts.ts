import type { Finding, Severity } from '../../shared/analysis/finding';
import { formatInt } from '../../shared/format';

const NAMES: Record<Severity, [string, string]> = { error: ['error', 'errors'], warning: ['warning', 'warnings'], info: ['info', 'info'] };

/** "1 error · 3 warnings": the findings counted by severity, most severe first, leaving out the ones at zero. */
export function severityCounts(findings: readonly Pick<Finding, 'severity'>[]): string {
  const parts: string[] = [];
  for (const s of ['error', 'warning', 'info'] as const) {
    const n = findings.filter((f) => f.severity === s).length;
    if (n > 0) parts.push(`${formatInt(n)} ${NAMES[s][n === 1 ? 0 : 1]}`);
  }
  return parts.length ? parts.join(' · ') : 'no findings';
}
