import type { Finding } from '../../shared/analysis/finding';

/**
 * A run's findings with a version that moves only when they really changed. The host analyzes a live run at most
 * once per batch of events; a fresh analysis builds new objects even when nothing changed, so it is compared here,
 * once, field by field (no text is built), and the webview feed and the views compare versions.
 */
export class VersionedFindings {
  private list: Finding[] = [];
  private current = 0;

  get findings(): Finding[] {
    return this.list;
  }

  get version(): number {
    return this.current;
  }

  /** The findings of a new analysis: kept, and the version bumped, only if they differ from the last ones. */
  set(findings: Finding[]): void {
    if (this.current > 0 && sameValue(this.list, findings)) return;
    this.list = findings;
    this.current++;
  }
}

/** Structural equality of JSON-like values (what findings are); NaN equals NaN, as in their wire form. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], bb[i])) return false;
    return true;
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!Object.prototype.hasOwnProperty.call(b, k) || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
