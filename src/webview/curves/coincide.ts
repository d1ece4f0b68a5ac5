import type { Curve } from '../series/curve-set';
import { nearestRow, type Scale } from './chart-data';

/**
 * Lines that lie on one another. Compared runs make them on purpose: every decoupled weight decays by the same
 * 2·lr·l2, so their dashed lines are one line, on the dotted SGD reference, and the last one drawn hides the rest.
 * Found on screen (in pixels), so the same two curves coincide at one zoom and part at another.
 */
export interface Coincidence {
  /** Groups of two or more curve ids whose lines are within the tolerance everywhere both are drawn, in draw order. */
  groups: string[][];
  /** Curve id → the id of the reference line it lies on. */
  onRule: Map<string, string>;
}

/** Past this many curves a legend cannot tell them apart anyway; the pointer names the line under it. */
const MAX_CURVES = 24;

/** A curve's value at a row as drawn on top: the smoothed one when smoothing is on and has reached the row. */
export function drawnValue(curve: Curve, row: number, smoothed: boolean): number | null {
  return smoothed && curve.ema.synced > row ? curve.ema.valueAt(row) : curve.valueAt(row);
}

/** Where a curve is on screen at evenly spread steps across the view (NaN where it has no finite value). */
function samplesOf(curve: Curve, x0: number, x1: number, y: Scale, count: number, smoothed: boolean): Float64Array {
  const out = new Float64Array(count).fill(NaN);
  const steps = curve.steps;
  const n = Math.min(steps.length, curve.raw.length);
  if (n === 0) return out;
  for (let k = 0; k < count; k++) {
    const at = x0 + ((k + 0.5) * (x1 - x0)) / count;
    const row = nearestRow(steps, at);
    if (row >= n || steps[row] < x0 || steps[row] > x1) continue;
    const v = drawnValue(curve, row, smoothed);
    if (v !== null && Number.isFinite(v)) out[k] = y(v);
  }
  return out;
}

/** Both drawn at two or more of the samples, and never further apart than `tolerance` where both are. */
function together(a: Float64Array, b: Float64Array, tolerance: number): boolean {
  let both = 0;
  for (let k = 0; k < a.length; k++) {
    if (!Number.isFinite(a[k]) || !Number.isFinite(b[k])) continue;
    if (Math.abs(a[k] - b[k]) > tolerance) return false;
    both++;
  }
  return both >= 2;
}

/** "pal-1 dashed" → its colour and its stroke. */
function looks(cls: string): { color: string; stroke: string } {
  const parts = cls.split(/\s+/);
  return { color: parts[0] ?? '', stroke: parts.includes('dashed') ? 'dashed' : parts.includes('dotted') ? 'dotted' : 'solid' };
}

/**
 * Lines on one another still tell apart when each has its own colour and its own stroke (a dashed line over a solid
 * one of another colour shows both); two of one colour, or two of one stroke, show as one line.
 */
function needsMarkers(members: ReadonlyArray<{ cls: string }>): boolean {
  const l = members.map((m) => looks(m.cls));
  return new Set(l.map((x) => x.color)).size < l.length || new Set(l.map((x) => x.stroke)).size < l.length;
}

export function coinciding(
  curves: ReadonlyArray<{ curve: Curve; cls: string }>,
  x0: number,
  x1: number,
  y: Scale,
  rules: ReadonlyArray<{ id: string; y: number }> = [],
  options: { smoothed?: boolean; tolerance?: number; count?: number } = {},
): Coincidence {
  const { smoothed = false, tolerance = 1.5, count = 32 } = options;
  const none: Coincidence = { groups: [], onRule: new Map() };
  if (curves.length > MAX_CURVES || !(x1 > x0)) return none;
  const samples = curves.map((c) => samplesOf(c.curve, x0, x1, y, count, smoothed));
  const parent = curves.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  for (let i = 0; i < curves.length; i++)
    for (let j = i + 1; j < curves.length; j++) if (together(samples[i], samples[j], tolerance)) parent[root(j)] = root(i);
  const byRoot = new Map<number, Array<{ curve: Curve; cls: string }>>();
  curves.forEach((c, i) => byRoot.set(root(i), [...(byRoot.get(root(i)) ?? []), c]));
  const onRule = new Map<string, string>();
  for (const r of rules) {
    const py = y(r.y);
    if (!Number.isFinite(py)) continue;
    const flat = new Float64Array(count).fill(py);
    curves.forEach((c, i) => {
      if (!onRule.has(c.curve.id) && together(samples[i], flat, tolerance)) onRule.set(c.curve.id, r.id);
    });
  }
  const groups = [...byRoot.values()].filter((g) => g.length > 1 && needsMarkers(g)).map((g) => g.map((c) => c.curve.id));
  return { groups, onRule };
}

/** "a", "a and b", "a, b and c". */
export function listOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "dense_Dense1 · decoupled" → ["dense_Dense1", "decoupled"]; a label without a variant has none. */
function splitVariant(label: string): [string, string | null] {
  const i = label.lastIndexOf(' · ');
  return i < 0 ? [label, null] : [label.slice(0, i), label.slice(i + 3)];
}

/**
 * What the legend says about lines on one another, as few sentences as it takes. Pairs of one line in two runs
 * ("dense_Dense1 · as written" and "· decoupled") are said once for all their layers; lines that differ by name
 * share a suffix said once: "dense_Dense1, dense_Dense2 and dense_Dense3 (decoupled)".
 */
export function coincidenceNotes(co: Coincidence, labelOf: (id: string) => string, ruleLabelOf: (id: string) => string): string[] {
  const onRule = new Map(co.onRule);
  const notes: string[] = [];
  const variants = new Map<string, { layers: string[]; suffixes: string[]; tail: string }>();
  for (const group of co.groups) {
    const marks = group.map((_, i) => MARKER_GLYPHS[i % MARKER_GLYPHS.length]).join(' ');
    const rule = onRule.get(group[0]);
    const allOnRule = rule !== undefined && group.every((id) => onRule.get(id) === rule);
    if (allOnRule) for (const id of group) onRule.delete(id);
    const where = allOnRule ? ` and on the dotted reference ${ruleLabelOf(rule)}` : '';
    const parts = group.map((id) => splitVariant(labelOf(id)));
    const suffixes = parts.map((p) => p[1]);
    if (parts.every((p) => p[0] === parts[0][0]) && suffixes.every((x): x is string => x !== null) && new Set(suffixes).size === suffixes.length) {
      const tail = `${listOf(suffixes)} lie on one another${where}, told apart by their markers ${marks}`;
      const v = variants.get(tail) ?? { layers: [], suffixes, tail };
      v.layers.push(parts[0][0]);
      variants.set(tail, v);
      continue;
    }
    notes.push(`${namesOf(parts)} lie on one another${where}: told apart by their markers ${marks}`);
  }
  for (const v of variants.values()) notes.unshift(`${listOf(v.layers)}: ${v.tail}`);
  const byRule = new Map<string, Array<[string, string | null]>>();
  for (const [id, rule] of onRule) byRule.set(rule, [...(byRule.get(rule) ?? []), splitVariant(labelOf(id))]);
  for (const [rule, parts] of byRule) notes.push(`${namesOf(parts)} ${parts.length === 1 ? 'lies' : 'lie'} on the dotted reference ${ruleLabelOf(rule)}`);
  return notes;
}

/** Names with a variant they all share said once: "a, b and c (decoupled)". */
function namesOf(parts: ReadonlyArray<[string, string | null]>): string {
  const suffix = parts[0]?.[1];
  if (parts.length > 1 && suffix && parts.every((p) => p[1] === suffix)) return `${listOf(parts.map((p) => p[0]))} (${suffix})`;
  return listOf(parts.map(([a, b]) => (b === null ? a : `${a} · ${b}`)));
}

/** The marker shapes, in the order a group's members get them; the legend shows the same glyphs. */
export const MARKER_GLYPHS = ['●', '■', '▲', '◆'] as const;

/** Pixels between two markers of one line; the members of a group take turns inside that spacing. */
export const MARKER_SPACING = 44;

/**
 * Where member `index` of a group of `size` draws its markers: every MARKER_SPACING pixels, shifted by its turn,
 * so along a shared line the markers of each member alternate and each colour shows. Each marker sits on the
 * curve's own value at the nearest step (it never invents a point between steps).
 */
export function markerPoints(
  curve: Curve,
  index: number,
  size: number,
  scales: { x: Scale; y: Scale; invert: Scale },
  view: { x0: number; x1: number; width: number; smoothed: boolean },
): Array<[number, number]> {
  const { x, y, invert } = scales;
  const { x0, x1, width, smoothed } = view;
  const out: Array<[number, number]> = [];
  const steps = curve.steps;
  const n = Math.min(steps.length, curve.raw.length);
  if (n === 0) return out;
  const put = (row: number) => {
    const v = drawnValue(curve, row, smoothed);
    if (v === null || !Number.isFinite(v)) return;
    const py = y(v);
    if (Number.isFinite(py)) out.push([x(steps[row]), py]);
  };
  const first = nearestRow(steps, x0);
  const i0 = steps[first] < x0 ? first + 1 : first;
  let i1 = nearestRow(steps, x1);
  if (steps[i1] > x1) i1--;
  const rows = Math.min(i1, n - 1) - i0 + 1;
  if (rows <= 0) return out;
  // Few steps in view: the members take the steps in turn (a shift in pixels would land them on the same step).
  const rowSpacing = width / rows;
  if (rowSpacing * size >= MARKER_SPACING / 2) {
    const stride = size * Math.max(1, Math.ceil(MARKER_SPACING / (rowSpacing * size)));
    for (let r = i0 + index; r < i0 + rows; r += stride) put(r);
    return out;
  }
  let lastRow = -1;
  for (let px = 6 + (index * MARKER_SPACING) / size; px <= width; px += MARKER_SPACING) {
    const row = nearestRow(steps, invert(px));
    if (row >= n || row === lastRow || steps[row] < x0 || steps[row] > x1) continue;
    lastRow = row;
    put(row);
  }
  return out;
}
