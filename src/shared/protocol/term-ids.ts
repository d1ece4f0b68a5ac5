/** Stable ids for the additive parts of a loss; the runner, report and views all key terms by these. */
export const DATA_TERM_ID = 'data';

export function penaltyTermId(weightId: string): string {
  return `penalty:${weightId}`;
}

export function activityTermId(layerName: string): string {
  return `activity:${layerName}`;
}

/**
 * A hand-written penalty: named after the first variable it covers, `+N` for the others it covers, and `#k`
 * when an earlier term of the same step already has that name (an L1 and an L2 term on the same variable).
 */
export function handWrittenTermId(weightIds: readonly string[], occurrence = 1): string {
  const base = `hand:${weightIds[0] ?? '?'}${weightIds.length > 1 ? `+${weightIds.length - 1}` : ''}`;
  return occurrence > 1 ? `${base}#${occurrence}` : base;
}
