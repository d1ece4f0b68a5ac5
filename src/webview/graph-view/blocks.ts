import { describeRegularizer } from '../../shared/analysis/decay';
import type { TermView } from '../../shared/analysis/terms';
import type { LayerInfo } from '../../shared/protocol/run-data';
import { blockGroupId, layerGroupId, type GraphGroups } from './graph-groups';

/** A run of layers whose pattern repeats back to back: `pattern` (the first repetition) × `repeats`. */
export interface LayerBlock {
  id: string;
  pattern: string[];
  repeats: number;
  layers: string[];
}

const MAX_PERIOD = 16;

/**
 * What makes two layers "the same" for folding: class, ops, weights with their regularizers and the
 * verdict on each penalty. A block never hides a difference that matters here, such as one layer in
 * the run whose decay is dropped.
 */
export function layerSignature(groups: GraphGroups, layer: LayerInfo | undefined, name: string, terms: Map<string, TermView>): string {
  const members = groups.groups.get(layerGroupId(name))?.members ?? [];
  const ops = members.map((m) => groups.nodes.get(m)!).filter((n) => n.kind === 'op').map((n) => n.label).join(',');
  const weights = (layer?.weights ?? [])
    .map((w) => {
      const t = [...terms.values()].find((x) => x.weight === w.id);
      const verdict = t ? (t.reachesMinimizedLoss ? 'in' : t.stepsInLoss > 0 ? 'some' : 'out') : '-';
      return `${w.role}:${w.trainable}:${w.regularizer ? describeRegularizer(w.regularizer) : ''}:${verdict}`;
    })
    .join(';');
  return `${layer?.className ?? '?'}|${ops}|${weights}`;
}

/**
 * Largest first: the (start, period ≤ 16 layers) whose back-to-back repetition covers the most layers
 * (at least two repetitions, three layers in all) becomes a block, then the same on what is left on
 * either side. Greedy left-to-right would grab a short run and miss the longer period around it.
 */
export function findRepeatedBlocks(groups: GraphGroups, layers: LayerInfo[], termViews: TermView[]): LayerBlock[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const terms = new Map(termViews.map((t) => [t.id, t]));
  const order = groups.layerOrder;
  const sig = order.map((name) => layerSignature(groups, byName.get(name), name, terms));
  const blocks: LayerBlock[] = [];
  const search = (lo: number, hi: number): void => {
    let best = { start: -1, period: 0, repeats: 0 };
    for (let i = lo; i < hi; i++) {
      for (let p = 1; p <= MAX_PERIOD && i + 2 * p <= hi; p++) {
        let r = 1;
        while (i + (r + 1) * p <= hi) {
          let same = true;
          for (let k = 0; k < p && same; k++) same = sig[i + r * p + k] === sig[i + k];
          if (!same) break;
          r++;
        }
        if (r >= 2 && r * p >= 3 && r * p > best.period * best.repeats) best = { start: i, period: p, repeats: r };
      }
    }
    if (best.start < 0) return;
    const end = best.start + best.period * best.repeats;
    search(lo, best.start);
    const covered = order.slice(best.start, end);
    blocks.push({ id: blockGroupId(covered[0]), pattern: covered.slice(0, best.period), repeats: best.repeats, layers: covered });
    search(end, hi);
  };
  search(0, order.length);
  return blocks;
}
