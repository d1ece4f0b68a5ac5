import { layerDecay, penaltiesByLayer, type DecayStatus, type TermView } from '../../shared/analysis/terms';
import type { LayerInfo, OptimizerInfo, TermInfo, WeightInfo } from '../../shared/protocol/run-data';
import { findRepeatedBlocks, type LayerBlock } from './blocks';
import { variableScope, type GraphGroups, type NodeGroup } from './graph-groups';

export interface ViewContext {
  groups: GraphGroups;
  layers: LayerInfo[];
  terms: TermView[];
  optimizer: OptimizerInfo | undefined;
}

export interface ViewOptions {
  expanded: ReadonlySet<string>;
  collapseRepeats: boolean;
}

/**
 * Every lookup the view graph needs, built once per build: layers, terms and weights by id, the folded
 * blocks, and which drawn unit each tape node belongs to. The node makers and the edge pass read it.
 */
export interface ViewIndex {
  ctx: ViewContext;
  options: ViewOptions;
  layerByName: Map<string, LayerInfo>;
  termsById: Map<string, TermView>;
  graphTerms: Map<string, TermInfo>;
  weightById: Map<string, WeightInfo>;
  decayOf(layer: string): DecayStatus;
  blocks: LayerBlock[];
  /** Only blocks that are folded (not expanded) have their layers here. */
  blockOfLayer: Map<string, LayerBlock>;
  blockById: Map<string, LayerBlock>;
  /** The verdict of a term: the run's (every step) when known, else the captured graph's. */
  termReaches(termId: string | null): boolean;
  groupOfNode(nodeId: string): NodeGroup;
  /** The drawn unit a tape node belongs to: its group, its block, its block's penalties, or itself (expanded). */
  unitOf(nodeId: string): string;
  sinkUnit: string;
}

/** The unit of a folded block's penalties, one per verdict. */
export const blockTermsUnit = (blockId: string, reaches: boolean) => `${blockId}:terms:${reaches ? 'in' : 'out'}`;

export function buildViewIndex(ctx: ViewContext, options: ViewOptions): ViewIndex {
  const { groups, layers } = ctx;
  const layerPenalties = penaltiesByLayer(ctx.terms);
  // Penalties on variables outside any layer (hand-written ones), by the node their variables are drawn as.
  const freePenalties = new Map<string, TermView[]>();
  for (const t of ctx.terms) {
    if (t.layer !== null || t.collection !== 'regularization') continue;
    for (const scope of new Set([t.weight, ...t.pieces.map((p) => p.weight)].filter((w): w is string => !!w).flatMap((w) => [w, variableScope(w)]))) {
      freePenalties.set(scope, [...(freePenalties.get(scope) ?? []), t]);
    }
  }
  const termsById = new Map(ctx.terms.map((t) => [t.id, t]));
  const graphTerms = new Map(groups.graph.terms.map((t) => [t.id, t]));
  const blocks = options.collapseRepeats ? findRepeatedBlocks(groups, layers, ctx.terms) : [];
  const blockOfLayer = new Map<string, LayerBlock>();
  for (const b of blocks) if (!options.expanded.has(b.id)) for (const l of b.layers) blockOfLayer.set(l, b);

  const termReaches = (termId: string | null): boolean => {
    if (termId === null) return true;
    const view = termsById.get(termId);
    return view ? view.reachesMinimizedLoss : graphTerms.get(termId)?.reachesMinimizedLoss ?? false;
  };
  const groupOfNode = (nodeId: string) => groups.groups.get(groups.groupOf.get(nodeId)!)!;
  const unitOf = (nodeId: string): string => {
    const g = groupOfNode(nodeId);
    const block = g.layer !== null ? blockOfLayer.get(g.layer) : undefined;
    if (block && g.kind === 'layer') return block.id;
    if (block && g.kind === 'term') return blockTermsUnit(block.id, termReaches(g.termId));
    return options.expanded.has(g.id) ? nodeId : g.id;
  };

  return {
    ctx,
    options,
    layerByName: new Map(layers.map((l) => [l.name, l])),
    termsById,
    graphTerms,
    weightById: new Map(layers.flatMap((l) => l.weights.map((w) => [w.id, w] as const))),
    decayOf: (name) => layerDecay(layerPenalties.get(name) ?? freePenalties.get(name) ?? []),
    blocks,
    blockOfLayer,
    blockById: new Map(blocks.map((b) => [b.id, b])),
    termReaches,
    groupOfNode,
    unitOf,
    sinkUnit: unitOf(groups.graph.minimizedNodeId),
  };
}
