/** Stable ids for the additive parts of a loss; the runner, report and views all key terms by these. */
export const DATA_TERM_ID = 'data';

export function penaltyTermId(weightId: string): string {
  return `penalty:${weightId}`;
}

export function activityTermId(layerName: string): string {
  return `activity:${layerName}`;
}
