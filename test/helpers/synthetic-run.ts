import type { LayerInfo, LossGraph, RegularizerInfo, TermInfo } from '../../src/shared/protocol/run-data';
import type { RunnerEventInput } from '../../src/shared/protocol/runner-protocol';
import { penaltyTermId } from '../../src/shared/protocol/term-ids';

/** A compact way to describe a run for rule tests: layers, which penalties reach the loss, and the step values. */
export interface SyntheticLayer {
  name: string;
  className?: string;
  line: number;
  weights: Array<{ name: string; role?: LayerInfo['weights'][number]['role']; reg?: RegularizerInfo }>;
}

export const L2 = (l2: number): RegularizerInfo => ({ className: 'L1L2', l1: 0, l2 });

export function syntheticRun(opts: {
  layers: SyntheticLayer[];
  optimizer?: { className: string; config: Record<string, number> };
  /** Per step: total loss and, per penalty weight id, [value, inLoss]. */
  /** `decay`: the effective decay s per weight, sent after the step (as the runner sends it once the update is known). */
  steps: Array<{ total: number; penalties?: Record<string, [number, boolean]>; norms?: Record<string, number>; decay?: Record<string, number | null> }>;
  evaluated?: boolean;
}): RunnerEventInput[] {
  const layers: LayerInfo[] = opts.layers.map((l) => ({
    name: l.name,
    className: l.className ?? 'Dense',
    source: { file: '/ws/train.ts', line: l.line, column: 3 },
    activityRegularizer: null,
    weights: l.weights.map((w) => ({
      id: `${l.name}/${w.name}`,
      name: w.name,
      shape: [4, 4],
      trainable: true,
      role: w.role ?? (w.name === 'bias' ? 'bias' : 'kernel'),
      regularizer: w.reg ?? null,
    })),
  }));
  const regularized = layers.flatMap((l) => l.weights.filter((w) => w.regularizer).map((w) => ({ l, w })));
  const firstPenalties = opts.steps[0]?.penalties ?? {};
  const terms: TermInfo[] = [
    { id: 'data', collection: 'data', kind: 'data', layer: null, weight: null, regularizer: null, nodeId: 'op:1', evaluated: true, reachesMinimizedLoss: true },
    ...regularized.map(({ l, w }) => ({
      id: penaltyTermId(w.id),
      collection: 'regularization' as const,
      kind: 'weight-penalty' as const,
      layer: l.name,
      weight: w.id,
      regularizer: w.regularizer,
      nodeId: `term:${w.id}`,
      evaluated: opts.evaluated ?? false,
      reachesMinimizedLoss: firstPenalties[w.id]?.[1] ?? false,
    })),
  ];
  const graph: LossGraph = {
    objective: 0,
    step: 1,
    nodes: [],
    edges: [],
    minimizedNodeId: 'op:1',
    dataNodeId: 'op:1',
    terms,
    variables: layers.flatMap((l) => l.weights.map((w) => w.id)),
    source: { file: '/ws/train.ts', line: 40, column: 5 },
    captureMs: 0.1,
  };
  const events: RunnerEventInput[] = [
    { type: 'layers', layers },
    { type: 'optimizer', objective: 0, optimizer: opts.optimizer ?? { className: 'SGD', config: { learningRate: 0.1 } } },
    { type: 'graph', graph },
  ];
  opts.steps.forEach((s, i) => {
    const penalties = s.penalties ?? {};
    const inLoss = Object.entries(penalties).filter(([, [, inL]]) => inL);
    const reg = inLoss.reduce((sum, [, [v]]) => sum + v, 0);
    events.push({
      type: 'step',
      record: {
        objective: 0,
        step: i + 1,
        totalLoss: s.total,
        dataLoss: s.total - reg,
        regularizationLoss: reg,
        terms: Object.fromEntries(Object.entries(penalties).map(([id, [v]]) => [penaltyTermId(id), v])),
        inLoss: inLoss.map(([id]) => penaltyTermId(id)),
        weightNorms: s.norms ?? {},
        learningRate: 0.1,
        wallMs: 10,
      },
    });
    if (s.decay) events.push({ type: 'decay', record: { objective: 0, step: i + 1, values: s.decay } });
  });
  return events;
}
