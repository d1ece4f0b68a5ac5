// Small helpers the rule modules share: where a term's finding points, and sentence casing.
import type { TermView } from './terms';

/** A finding's location fields for a term: its layer, weight, source line and term id. */
export const where = (t: TermView) => ({ layer: t.layer, weight: t.weight, source: t.source, termId: t.id });

export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
