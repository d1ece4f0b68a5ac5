import { chainSpan, findChains, type NodeChain } from '../graph-view/chains';
import type { ViewGraph } from '../graph-view/graph-view';
import type { LayoutDirection, LayoutResult } from './dagre-layout';
import { layoutJob, type LayoutJob } from './layout-job';
import type { TextMeasure } from './node-size';

/**
 * Fold until it fits (issue 21): a graph that is larger than its box at the readable scale is folded a step at a
 * time (first its repeated blocks, when the user left that to us, then its chains of layers, longest first) and laid
 * out again, until one layout fits. The panel runs the layouts; this decides the steps and what the notice says.
 */
export interface FoldStep {
  /** Repeated blocks folded. */
  repeats: boolean;
  /** Chains folded into one node each. */
  chains: NodeChain[];
}

/** The most chains one fit folds: a bound on the layouts it may run (each step is one more). */
const MAX_CHAIN_STEPS = 8;

/**
 * The steps to try, least folded first: repeated blocks, then one more chain each step, then chains through residual
 * blocks. `base`: whether repeated blocks are folded anyway (the user's choice or the
 * host's setting); `mayFoldRepeats`: folding them is left to us. Chains the user unfolded stay unfolded.
 */
/** Below this many layers, a fit never folds chains. */
const MIN_LAYERS_TO_FOLD = 8;

export function foldSteps(build: (repeats: boolean) => ViewGraph, base: boolean, mayFoldRepeats: boolean, unfolded: ReadonlySet<string>): FoldStep[] {
  const steps: FoldStep[] = [{ repeats: base, chains: [] }];
  let repeats = base;
  if (!base && mayFoldRepeats) {
    const folded = build(true);
    if (folded.blocks.length > 0) {
      steps.push({ repeats: true, chains: [] });
      repeats = true;
    }
  }
  const view = build(repeats);
  // A small model folded into one node shows nothing of what the panel is for (which layer's penalty is dropped):
  // it is scaled or panned instead.
  if (build(false).nodes.filter((n) => n.kind === 'layer').length < MIN_LAYERS_TO_FOLD) return steps;
  const chains = findChains(view)
    .filter((c) => !unfolded.has(c.id))
    .slice(0, MAX_CHAIN_STEPS);
  for (let i = 1; i <= chains.length; i++) steps.push({ repeats, chains: chains.slice(0, i) });
  // Last, chains that run through residual blocks too: they fold more than every plain chain together.
  const wide = findChains(view, { regions: true }).filter((c) => !unfolded.has(c.id));
  const saved = (list: NodeChain[]) => list.reduce((n, c) => n + c.members.length - 1, 0);
  if (saved(wide) > saved(chains)) steps.push({ repeats, chains: wide });
  return steps;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The line over the graph that says what a fit folded, or null when it folded nothing: each chain by its layers
 * ("243 layers, dense_Dense1 … add_Add81"), the repeated blocks by their count.
 */
export function foldNotice(step: FoldStep, base: boolean, view: ViewGraph): string | null {
  const parts: string[] = [];
  if (step.repeats && !base && view.blocks.length > 0) {
    const layers = view.blocks.reduce((n, b) => n + b.layers.length, 0);
    parts.push(`${plural(view.blocks.length, 'repeated block')} (${plural(layers, 'layer')})`);
  }
  for (const c of step.chains) parts.push(`${plural(c.layers.length, 'layer')}, ${chainSpan(c)}, into one node`);
  if (parts.length === 0) return null;
  return `Folded to fit the panel: ${parts.join('; ')}. Click a folded node, or press Enter on it, to unfold it.`;
}

/** One layout a fold-to-fit tried: the step, its view graph, the job and what the layout gave. */
export interface FitAttempt {
  step: FoldStep;
  view: ViewGraph;
  job: LayoutJob;
  result: LayoutResult;
}

export interface FitSearch {
  build(step: FoldStep): ViewGraph;
  sizes(view: ViewGraph): Map<string, [number, number]>;
  /** The directions to try for a view, the likelier first. */
  directions(view: ViewGraph, sizes: Map<string, [number, number]>): LayoutDirection[];
  /** Null: superseded by a newer layout, stop. */
  layout(job: LayoutJob, view: ViewGraph): Promise<LayoutResult | null>;
  fits(view: ViewGraph, result: LayoutResult, sizes: Map<string, [number, number]>): boolean;
  measure: TextMeasure;
}

/**
 * Lay out each step in turn, in each of its directions, until one fits; when none does, the most folded step in
 * its likelier direction (it pans then, with an overview). Null when a newer layout superseded this search.
 */
export async function firstFit(steps: readonly FoldStep[], search: FitSearch): Promise<FitAttempt | null> {
  let chosen: FitAttempt | null = null;
  for (const step of steps) {
    const view = search.build(step);
    const sizes = search.sizes(view);
    for (const [i, direction] of search.directions(view, sizes).entries()) {
      const job = layoutJob(view, sizes, direction, search.measure);
      const result = await search.layout(job, view);
      if (!result) return null;
      const attempt = { step, view, job, result };
      if (search.fits(view, result, sizes)) return attempt;
      if (i === 0) chosen = attempt;
    }
  }
  return chosen;
}
