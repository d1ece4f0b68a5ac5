import type { RunState } from '../model/run-state';
import type { SourcePosition, WeightInfo } from '../protocol/run-data';
import { formatNumber } from '../format';
import { describePieces, describeRegularizer, PLAIN_SGD } from './decay';
import { describeDecoupled, describeHorizon, planOf } from './decoupled-decay';
import { effectiveDecayOf, type EffectiveDecayView } from './effective-decay';
import { collectTerms, decayFactor, weightViews, type TermView, type WeightView } from './terms';
import { isPython } from './rule-text';

export type NoteTone = 'reaches' | 'missing' | 'neutral' | 'pending';

export interface WeightNote {
  weight: string;
  shortName: string;
  shape: number[];
  /** Every penalty on the weight, each as its own regularizer says ("L2 1e-3", "hand-written L2 2e-3"). */
  regularizer: string | null;
  reaches: boolean | null;
  decayPerStep: number | undefined;
  norm: number | null;
  /** The term's share of the minimized loss at the latest step (0 when it does not reach it). */
  share: number | null;
  value: number | null;
  /** The inner layer that holds the weight (an RNN's cell), as a detail for the hover. */
  heldBy: string | null;
  /** True when tfjs itself drops this penalty: it sits on an RNN cell, which no loss ever includes. */
  droppedByTfjs: boolean;
  /** False when no optimizer updates the weight (a frozen target network): its penalty decays nothing either way. */
  trained: boolean;
  /** The decay measured under the weight's own optimizer (issue 11), for penalized weights and those the script decays. */
  effectiveDecay: EffectiveDecayView | null;
  /** One sentence for the hover: "L2 1e-2 · Adam shrinks this kernel 7e-8 per step (plain SGD with this L2: 2e-5)". */
  decaySentence: string | null;
  /** A decay no penalty expresses, measured: "decoupled 1e-4/step (AdamW)"; null when there is none. */
  decoupled: string | null;
}

/** What the editor says at the end of one line that created layers. */
export interface LineNote {
  file: string;
  line: number;
  text: string;
  tone: NoteTone;
  /** A note that says only "no decay" or "no weights": true of most lines, so the editor hides it unless asked. */
  quiet: boolean;
  layers: Array<{ name: string; className: string; weights: WeightNote[] }>;
}

function latest(values: Array<number | null> | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

/** All penalties on a weight reach the loss (true), some never do (false), or no step has decided yet (null). */
function verdictOf(penalties: readonly TermView[]): boolean | null {
  if (penalties.length === 0 || penalties.some((t) => t.stepsObserved === 0)) return null;
  return penalties.every((t) => t.reachesMinimizedLoss);
}

function penaltyText(t: TermView, weightId: string): string {
  if (t.kind === 'hand-written') return `hand-written ${describePieces(t.pieces.filter((p) => p.weight === weightId))}`;
  return t.regularizer ? describeRegularizer(t.regularizer) : 'penalty';
}

const shrink = (x: number) => formatNumber(x, 2);

/** " · τ ≈ 1e4 steps (2.6 epochs)": how long the decay takes to act, when it is measured. */
function horizonText(state: RunState, d: EffectiveDecayView): string {
  return d.horizonSteps === null ? '' : ` · ${describeHorizon(d.horizonSteps, planOf(state, d.weight).stepsPerEpoch)}`;
}

/** What the decay of one weight really does, in a sentence; null when there is nothing measured or said yet. */
function decaySentence(state: RunState, v: WeightView, regularizer: string | null, reaches: boolean | null, d: EffectiveDecayView | null): string | null {
  if (!d) return null;
  const w = v.info;
  // A raw tf.variable has no layer to give it a role: its shape alone does not make it a kernel.
  const what = `this ${v.layer === null ? 'variable' : w.role === 'other' ? 'weight' : w.role}`;
  const decoupled = d.decoupled && state.weightDecay !== 'decoupled' ? describeDecoupled(d.decoupled) : null;
  const head = [regularizer, decoupled].filter(Boolean).join(' + ') || 'decayed outside the update';
  const tau = horizonText(state, d);
  const follows = d.decoupled?.followsLearningRate === true ? ', lr·λ' : d.decoupled?.followsLearningRate === false ? ', not scaled by lr' : '';
  if (d.unavailable) {
    // The optimizer's own share is unknown; the part applied outside it is still measured.
    const outside = decoupled ? ` · outside the update it shrinks ${what} ${shrink(d.decoupled!.shrinkPerStep)} per step${tau}` : '';
    return `${head} · its effective decay is not measured: ${d.unavailable}${outside}`;
  }
  if (d.median === null) return null;
  const opt = d.optimizer ?? 'its optimizer';
  if (state.weightDecay === 'decoupled') return `${head}, decoupled (what-if) · shrinks ${what} ${shrink(d.median)} per step, after each ${opt} update${tau}`;
  if (!regularizer && d.decoupled) return `${head} · shrinks ${what} ${shrink(d.median)} per step${follows}${tau}`;
  const reference = d.sgdEquivalent === null ? '' : d.optimizer === PLAIN_SGD ? ' (2·lr·l2, as expected)' : ` (plain SGD with this L2: ${shrink(d.sgdEquivalent)})`;
  // A penalty that never reaches the loss shrinks nothing: say why, not "shrinks it 0".
  if (reaches === false && !d.decoupled) {
    const sgd = d.sgdEquivalent === null ? '' : ` (in the loss, plain SGD would shrink it ${shrink(d.sgdEquivalent)} per step)`;
    return `${head} · never reaches the minimized loss, so ${opt} does not shrink ${what}${sgd}${tau}`;
  }
  if (d.median === 0) return `${head} · ${opt} measured no shrink of ${what}${reference}${tau}`;
  return `${head} · ${opt} shrinks ${what} ${shrink(d.median)} per step${reference}${tau}`;
}

function weightNote(state: RunState, v: WeightView): WeightNote {
  const w: WeightInfo = v.info;
  const penalties = v.penalties.filter((t) => t.kind !== 'activity-penalty');
  const objective = penalties.find((t) => t.objective !== null)?.objective ?? 0;
  const series = state.series[objective] ?? state.series[0];
  const total = series ? latest(series.totalLoss) : null;
  const reaches = v.updated === false ? null : verdictOf(penalties);
  const values = penalties.map((t) => latest(state.series[t.objective ?? 0]?.terms[t.id]));
  // A hand-written term over several weights counts once in the loss: its share is given on each of them.
  const value = values.some((x) => x !== null) ? values.reduce<number>((s, x) => s + (x ?? 0), 0) : null;
  const reachingValue = penalties.reduce((s, t, i) => s + (t.reachesMinimizedLoss ? values[i] ?? 0 : 0), 0);
  const regularizer = penalties.length ? penalties.map((t) => penaltyText(t, w.id)).join(', ') : null;
  const effective = v.updated === false ? null : (effectiveDecayOf(state, v) ?? null);
  return {
    weight: w.id,
    shortName: v.layer ? w.name : w.id,
    shape: w.shape,
    regularizer,
    reaches,
    decayPerStep: reaches === null ? undefined : decayFactor(v),
    norm: latest(series?.weightNorms[w.id]),
    share: value !== null && total ? reachingValue / total : null,
    value,
    heldBy: w.heldBy ? `${w.heldBy.className} ${w.heldBy.layer} (${w.heldBy.path})` : null,
    trained: v.updated !== false,
    // Keras adds an RNN cell's penalties like any layer's: only a tfjs run drops them for being on a cell.
    droppedByTfjs: !isPython(state) && !!w.heldBy && /(^|\.)cells?(\[\d+\])?$/.test(w.heldBy.path) && penalties.some((t) => t.kind === 'weight-penalty' && !t.reachesMinimizedLoss),
    effectiveDecay: effective,
    decaySentence: decaySentence(state, v, regularizer, reaches, effective),
    decoupled: effective?.decoupled && state.weightDecay !== 'decoupled' ? describeDecoupled(effective.decoupled) : null,
  };
}

/**
 * The measured decay, where it says more than the verdict: under any optimizer but plain SGD (where it is 2·lr·l2,
 * the factor the hover already gives) and in the decoupled what-if. "Adam shrinks it 7e-8/step (plain SGD: 2e-5)".
 */
function measuredSuffix(layers: NoteLayer[], decoupled: boolean): string {
  const measured = layers.flatMap((l) => l.weights.filter((w) => w.effectiveDecay?.median != null && w.trained));
  if (measured.length === 0) return '';
  const opts = [...new Set(measured.map((w) => w.effectiveDecay!.optimizer ?? 'its optimizer'))];
  if (!decoupled && opts.length === 1 && opts[0] === PLAIN_SGD) return '';
  const who = decoupled ? 'decoupled' : opts.join('/');
  const values = measured.map((w) => w.effectiveDecay!.median!);
  if (layers.length > 1) {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    return ` · ${who}: ${lo === hi ? shrink(lo) : `${shrink(lo)}–${shrink(hi)}`}/step`;
  }
  if (measured.length === 1) {
    const d = measured[0].effectiveDecay!;
    const sgd = d.sgdEquivalent !== null && !decoupled && d.optimizer !== PLAIN_SGD ? ` (plain SGD: ${shrink(d.sgdEquivalent)})` : '';
    return ` · ${decoupled ? 'decoupled: shrinks' : `${who} shrinks`} it ${shrink(d.median!)}/step${sgd}`;
  }
  return ` · ${who} shrinks ${measured.map((w) => `${w.shortName} ${shrink(w.effectiveDecay!.median!)}`).join(', ')}/step`;
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

interface NoteLayer {
  name: string;
  className: string;
  weights: WeightNote[];
  trainable: boolean;
}

/** "decoupled 1e-4/step (AdamW) on kernel, bias": the decays no penalty expresses, grouped by what they say. */
function decoupledSummary(weights: WeightNote[]): string {
  const byText = new Map<string, string[]>();
  for (const w of weights) if (w.decoupled) byText.set(w.decoupled, [...(byText.get(w.decoupled) ?? []), w.shortName]);
  return [...byText].map(([text, names]) => `${text} on ${[...new Set(names)].join(', ')}`).join(', ');
}

function noteFor(layers: NoteLayer[]): { text: string; tone: NoteTone; quiet?: boolean } {
  const decayed = layers.flatMap((l) => l.weights.filter((w) => w.regularizer));
  const many = layers.length > 1 ? `${layers.length} ${layers.every((l) => l.className === VARIABLE) ? 'variables' : 'layers'} · ` : '';
  const outside = decoupledSummary(layers.flatMap((l) => l.weights.filter((w) => w.trained)));
  if (decayed.length === 0) {
    // Decay by the optimizer or the script is decay: never "no decay" for it.
    if (outside) return { text: `${many}${outside}`, tone: 'reaches' };
    const trainable = layers.some((l) => l.trainable);
    return { text: `${many}${trainable ? 'no decay' : 'no weights'}`, tone: 'neutral', quiet: true };
  }
  const summary = decaySummary(decayed) + (outside ? `, ${outside}` : '');
  if (decayed.every((w) => !w.trained)) return { text: `${many}${summary} · not trained`, tone: 'neutral' };
  const verdicts = decayed.filter((w) => w.trained).map((w) => w.reaches);
  if (verdicts.every((v) => v === null)) return { text: `${many}${summary} · waiting for a step`, tone: 'pending' };
  const missing = verdicts.filter((v) => v === false).length;
  if (missing === 0) return { text: `${many}${summary} · reaches loss`, tone: 'reaches' };
  if (layers.length > 1) {
    const trained = decayed.filter((w) => w.trained).length;
    const none = missing === trained ? 'none reach' : `${missing} of ${trained} never reach`;
    return { text: `${many}${summary.replace(/ on [^,]+/g, '')} · ⚠ ${none} the loss`, tone: 'missing' };
  }
  const which = decayed.filter((w) => w.reaches === false);
  const what = which.length === decayed.filter((w) => w.trained).length ? summary.replace(/ on [^,]+/g, '') : decaySummary(which);
  const why = which.every((w) => w.droppedByTfjs) ? ' (RNN cell: tfjs never adds it)' : '';
  return { text: `⚠ ${what} never reaches the minimized loss${why}`, tone: 'missing' };
}

/** The class shown for a raw tf.variable in notes and hovers. */
const VARIABLE = 'tf.variable';

/** One note per source line that created layers or raw tf.variables, for inline decorations and their hovers. */
export function layerNotes(state: RunState): LineNote[] {
  const terms = collectTerms(state);
  const views = weightViews(state, terms);
  const byWeight = new Map(views.map((v) => [v.info.id, v]));
  const byLine = new Map<string, { source: SourcePosition; layers: NoteLayer[] }>();
  const add = (source: SourcePosition | null, layer: NoteLayer) => {
    if (!source) return;
    const key = `${source.file}:${source.line}`;
    const entry = byLine.get(key) ?? { source, layers: [] };
    entry.layers.push(layer);
    byLine.set(key, entry);
  };
  for (const layer of state.layers) {
    const weights = layer.weights.map((w) => byWeight.get(w.id)).filter((v): v is WeightView => v !== undefined);
    add(layer.source, {
      name: layer.name,
      className: layer.className,
      weights: weights.map((v) => weightNote(state, v)),
      trainable: layer.weights.some((w) => w.trainable),
    });
  }
  for (const v of views) {
    if (v.layer !== null) continue;
    add(v.source, { name: v.info.id, className: VARIABLE, weights: [weightNote(state, v)], trainable: v.info.trainable });
  }
  const decoupled = state.weightDecay === 'decoupled';
  return [...byLine.values()].map(({ source, layers }) => {
    const note = noteFor(layers);
    // A layer decayed only outside its optimizer's update already says by how much.
    const onlyOutside = layers.every((l) => l.weights.every((w) => !w.regularizer));
    const suffix = !onlyOutside && (note.tone === 'reaches' || decoupled) ? measuredSuffix(layers, decoupled) : '';
    return {
      file: source.file,
      line: source.line,
      text: note.text + suffix,
      tone: note.tone,
      quiet: note.quiet === true,
      layers: layers.map((l) => ({ name: l.name, className: l.className, weights: l.weights })),
    };
  });
}
