import type { RunState } from '../model/run-state';
import type { LayerInfo, SourcePosition } from '../protocol/run-data';
import { penaltyTermId } from '../protocol/term-ids';
import { decayPerStep, describeRegularizer } from './decay';
import { collectTerms, type TermView } from './terms';

export type NoteTone = 'reaches' | 'missing' | 'neutral' | 'pending';

export interface WeightNote {
  weight: string;
  shortName: string;
  shape: number[];
  regularizer: string | null;
  reaches: boolean | null;
  decayPerStep: number | undefined;
  norm: number | null;
  /** The term's share of the minimized loss at the latest step (0 when it does not reach it). */
  share: number | null;
  value: number | null;
}

/** What the editor says at the end of one line that created layers. */
export interface LineNote {
  file: string;
  line: number;
  text: string;
  tone: NoteTone;
  layers: Array<{ name: string; className: string; weights: WeightNote[] }>;
}

function latest(values: Array<number | null> | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

function verdictOf(t: TermView | undefined): boolean | null {
  if (!t || t.stepsObserved === 0) return null;
  return t.reachesMinimizedLoss;
}

function weightNotes(state: RunState, layer: LayerInfo, terms: Map<string, TermView>): WeightNote[] {
  const series = state.series[0];
  const total = series ? latest(series.totalLoss) : null;
  return layer.weights.map((w) => {
    const term = terms.get(penaltyTermId(w.id));
    const reaches = w.regularizer ? verdictOf(term) : null;
    const value = term ? latest(state.series[term.objective ?? 0]?.terms[term.id]) : null;
    const optimizer = state.optimizers[term?.objective ?? 0];
    return {
      weight: w.id,
      shortName: w.name,
      shape: w.shape,
      regularizer: w.regularizer ? describeRegularizer(w.regularizer) : null,
      reaches,
      decayPerStep: w.regularizer && reaches !== null ? decayPerStep(optimizer, w.regularizer, reaches) : undefined,
      norm: latest(series?.weightNorms[w.id]),
      share: value !== null && total ? (reaches ? value / total : 0) : null,
      value,
    };
  });
}

/** "L2 1e-3 on kernel", or "L2 1e-3 on kernel, L2 1e-4 on bias". */
function decaySummary(weights: WeightNote[]): string {
  const byReg = new Map<string, string[]>();
  for (const w of weights) {
    if (!w.regularizer) continue;
    byReg.set(w.regularizer, [...(byReg.get(w.regularizer) ?? []), w.shortName]);
  }
  return [...byReg].map(([reg, names]) => `${reg} on ${[...new Set(names)].join(', ')}`).join(', ');
}

function noteFor(layers: Array<{ layer: LayerInfo; weights: WeightNote[] }>): { text: string; tone: NoteTone } {
  const decayed = layers.flatMap((l) => l.weights.filter((w) => w.regularizer));
  const many = layers.length > 1 ? `${layers.length} layers · ` : '';
  if (decayed.length === 0) {
    const trainable = layers.some((l) => l.layer.weights.some((w) => w.trainable));
    return { text: `${many}${trainable ? 'no decay' : 'no weights'}`, tone: 'neutral' };
  }
  const summary = decaySummary(decayed);
  const verdicts = decayed.map((w) => w.reaches);
  if (verdicts.every((v) => v === null)) return { text: `${many}${summary} · waiting for a step`, tone: 'pending' };
  const missing = verdicts.filter((v) => v === false).length;
  if (missing === 0) return { text: `${many}${summary} · reaches loss`, tone: 'reaches' };
  if (layers.length > 1) {
    const none = missing === decayed.length ? 'none reach' : `${missing} of ${decayed.length} never reach`;
    return { text: `${many}${summary.replace(/ on [^,]+/g, '')} · ⚠ ${none} the loss`, tone: 'missing' };
  }
  const which = decayed.filter((w) => w.reaches === false);
  const what = which.length === decayed.length ? summary.replace(/ on [^,]+/g, '') : decaySummary(which);
  return { text: `⚠ ${what} never reaches the minimized loss`, tone: 'missing' };
}

/** One note per source line that created layers, for inline decorations and their hovers. */
export function layerNotes(state: RunState): LineNote[] {
  const terms = new Map(collectTerms(state).map((t) => [t.id, t]));
  const byLine = new Map<string, { source: SourcePosition; layers: Array<{ layer: LayerInfo; weights: WeightNote[] }> }>();
  for (const layer of state.layers) {
    if (!layer.source) continue;
    const key = `${layer.source.file}:${layer.source.line}`;
    const entry = byLine.get(key) ?? { source: layer.source, layers: [] };
    entry.layers.push({ layer, weights: weightNotes(state, layer, terms) });
    byLine.set(key, entry);
  }
  return [...byLine.values()].map(({ source, layers }) => ({
    file: source.file,
    line: source.line,
    ...noteFor(layers),
    layers: layers.map((l) => ({ name: l.layer.name, className: l.layer.className, weights: l.weights })),
  }));
}
