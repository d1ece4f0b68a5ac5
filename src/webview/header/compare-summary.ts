import { effectiveDecayOf } from '../../shared/analysis/effective-decay';
import { collectTerms, weightViews } from '../../shared/analysis/terms';
import { formatInt, formatNumber } from '../../shared/format';
import { primaryObjective, type RunState } from '../../shared/model/run-state';

/**
 * The comparison in one line at the top of the panel (Compare with Decoupled Weight Decay): what each decayed
 * weight loses per step in the decoupled run, what it lost as written, and where the data loss ended up. The
 * curves show the same, but a reader should not have to find it in three charts. Pure: tested without a page.
 */
export interface CompareSummary {
  /** "Decoupled: dense_Dense1 2e-6/step, … (as written: 1.4e-4, …)". */
  decay: string | null;
  /** "Data loss at step 40: 1.093 decoupled, 1.108 as written (−0.0152)". */
  dataLoss: string | null;
}

/** The median fraction each weight's decay removed per step (the report's effective decay), by weight id. */
function medians(state: RunState): Map<string, { layer: string | null; median: number }> {
  const out = new Map<string, { layer: string | null; median: number }>();
  for (const v of weightViews(state, collectTerms(state))) {
    const d = effectiveDecayOf(state, v);
    if (d && d.median !== null && Number.isFinite(d.median)) out.set(v.info.id, { layer: v.layer, median: d.median });
  }
  return out;
}

const perStep = (v: number) => `${formatNumber(v, 2)}/step`;

/** "a", "a and b", "a, b and c". */
function listOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function compareSummary(asWritten: RunState, decoupled: RunState): CompareSummary {
  const after = medians(decoupled);
  const before = medians(asWritten);
  // A layer's name is enough when the layer has one decayed weight (the usual kernel); else the weight's id.
  const perLayer = new Map<string, number>();
  for (const { layer } of after.values()) if (layer !== null) perLayer.set(layer, (perLayer.get(layer) ?? 0) + 1);
  const ids = [...after.keys()];
  const name = (id: string) => {
    const layer = after.get(id)!.layer;
    return layer !== null && perLayer.get(layer) === 1 ? layer : id;
  };
  let decay: string | null = null;
  if (ids.length > 0) {
    const values = ids.map((id) => perStep(after.get(id)!.median));
    // Decoupled decay is lr·2·l2 for every weight alike: one number for all, when it is one.
    const alike = new Set(values).size === 1;
    const each =
      ids.length > 4 ? rangeOf(ids.map((id) => after.get(id)!.median), ids.length) : alike && ids.length > 1 ? `${listOf(ids.map(name))} each ${values[0]}` : ids.map((id, i) => `${name(id)} ${values[i]}`).join(', ');
    const was = ids.map((id) => before.get(id)?.median).map((m) => (m === undefined ? 'not measured' : formatNumber(m, 2)));
    const asWrittenText = ids.length <= 4 ? listOf(was) : rangeOf(ids.map((id) => before.get(id)?.median).filter((m): m is number => m !== undefined), ids.length, false);
    decay = `Decoupled: ${each} (as written: ${asWrittenText})`;
  }
  return { decay, dataLoss: dataLossAtLastStep(asWritten, decoupled) };
}

/** Many weights: the range, "2e-6/step to 3e-6/step over 8 weights". */
function rangeOf(values: readonly number[], count: number, unit = true): string {
  if (values.length === 0) return 'not measured';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const f = (v: number) => (unit ? perStep(v) : formatNumber(v, 2));
  return `${lo === hi ? f(lo) : `${f(lo)} to ${f(hi)}`} over ${formatInt(count)} weights`;
}

/** The data loss of both runs at the last step both reached, and the difference (decoupled minus as written). */
function dataLossAtLastStep(asWritten: RunState, decoupled: RunState): string | null {
  const a = seriesOf(asWritten);
  const b = seriesOf(decoupled);
  if (!a || !b || a.step.length === 0 || b.step.length === 0) return null;
  const last = Math.min(a.step[a.step.length - 1], b.step[b.step.length - 1]);
  const at = (s: { step: number[]; dataLoss: number[] }) => {
    const i = s.step.lastIndexOf(last);
    return i < 0 ? null : s.dataLoss[i];
  };
  const va = at(a);
  const vb = at(b);
  if (va === null || vb === null || !Number.isFinite(va) || !Number.isFinite(vb)) return null;
  const diff = vb - va;
  const signed = diff === 0 ? '±0' : `${diff > 0 ? '+' : '−'}${formatNumber(Math.abs(diff), 3)}`;
  return `Data loss at step ${formatInt(last)}: ${formatNumber(vb)} decoupled, ${formatNumber(va)} as written (${signed})`;
}

function seriesOf(state: RunState) {
  const o = primaryObjective(state);
  return o === null ? undefined : state.series[o];
}
