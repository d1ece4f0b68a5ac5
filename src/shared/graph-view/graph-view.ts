import { formatFactor, formatNumber, formatShape } from '../format';
import { decayPerStep, describeRegularizer } from '../analysis/decay';
import { layerDecay, penaltiesByLayer, type DecayStatus, type TermView } from '../analysis/terms';
import type { LayerInfo, NodeRole, OptimizerInfo, SourcePosition } from '../protocol/run-data';
import { DATA_TERM_ID } from '../protocol/term-ids';
import { findRepeatedBlocks, type LayerBlock } from './blocks';
import { DATA_LOSS_GROUP, LOSS_GROUP, layerGroupId, type GraphGroups } from './graph-groups';

/**
 * The drawable loss graph for one set of view choices: which groups are expanded to their ops and
 * whether repeated blocks of layers fold into one node. Pure; the webview lays it out and draws it.
 */
export type ViewNodeKind = 'layer' | 'block' | 'term' | 'block-terms' | 'data-loss' | 'loss' | 'op' | 'variable';


export interface ViewNode {
  id: string;
  kind: ViewNodeKind;
  label: string;
  detail: string;
  /** The expandable group this node stands for, or (for an op of an expanded group) belongs to. */
  group: string;
  expandable: boolean;
  /** Set on op/variable nodes of an expanded group: that group's id, drawn as a frame around them. */
  parent: string | null;
  role: NodeRole;
  reaches: boolean;
  decay: DecayStatus | null;
  /** Short warning shown on the node; set on terms that never reach the minimized loss. */
  badge: string | null;
  layer: string | null;
  termId: string | null;
  source: SourcePosition | null;
  /** Rows for the hover card: [label, value]. */
  details: Array<[string, string]>;
  /** Lower-cased text the search box matches. */
  search: string;
  isSink: boolean;
}

export interface ViewEdge {
  id: string;
  from: string;
  to: string;
  shape: number[];
  /** How many op-level edges this edge stands for. */
  count: number;
  role: NodeRole;
  reaches: boolean;
  /** A penalty flowing into the minimized loss: drawn along the regularization bus, not laid out. */
  bus: boolean;
}

export interface ViewGraph {
  nodes: ViewNode[];
  edges: ViewEdge[];
  sink: string;
  blocks: LayerBlock[];
}

export interface ViewOptions {
  expanded: ReadonlySet<string>;
  collapseRepeats: boolean;
}

export interface ViewContext {
  groups: GraphGroups;
  layers: LayerInfo[];
  terms: TermView[];
  optimizer: OptimizerInfo | undefined;
}

export const NOT_IN_LOSS_BADGE = '✕ not in minimized loss';

const DECAY_TEXT: Record<DecayStatus, string> = {
  decayed: 'decay reaches the loss',
  none: 'no decay',
  dropped: 'decay never reaches the loss',
  partial: 'decay partly reaches the loss',
};

export function buildViewGraph(ctx: ViewContext, options: ViewOptions): ViewGraph {
  const { groups, layers, optimizer } = ctx;
  const graph = groups.graph;
  const layerByName = new Map(layers.map((l) => [l.name, l]));
  const termsById = new Map(ctx.terms.map((t) => [t.id, t]));
  const layerPenalties = penaltiesByLayer(ctx.terms);
  const decayOf = (name: string) => layerDecay(layerPenalties.get(name) ?? []);
  const graphTerms = new Map(graph.terms.map((t) => [t.id, t]));
  const weightById = new Map(layers.flatMap((l) => l.weights.map((w) => [w.id, w] as const)));

  const blocks = options.collapseRepeats ? findRepeatedBlocks(groups, layers, ctx.terms) : [];
  const blockOfLayer = new Map<string, LayerBlock>();
  for (const b of blocks) if (!options.expanded.has(b.id)) for (const l of b.layers) blockOfLayer.set(l, b);

  const termReaches = (termId: string | null): boolean => {
    if (termId === null) return true;
    const view = termsById.get(termId);
    return view ? view.reachesMinimizedLoss : graphTerms.get(termId)?.reachesMinimizedLoss ?? false;
  };

  const unitOf = (nodeId: string): string => {
    const gid = groups.groupOf.get(nodeId)!;
    const g = groups.groups.get(gid)!;
    const block = g.layer !== null ? blockOfLayer.get(g.layer) : undefined;
    if (block && g.kind === 'layer') return block.id;
    if (block && g.kind === 'term') return `${block.id}:terms:${termReaches(g.termId) ? 'in' : 'out'}`;
    return options.expanded.has(gid) ? nodeId : gid;
  };

  const nodes = new Map<string, ViewNode>();
  const sinkUnit = unitOf(graph.minimizedNodeId);

  const termDetails = (termId: string): Array<[string, string]> => {
    const t = termsById.get(termId);
    const gt = graphTerms.get(termId);
    const reg = t?.regularizer ?? gt?.regularizer ?? null;
    const weight = t?.weight ?? gt?.weight ?? null;
    const w = weight ? weightById.get(weight) : undefined;
    const reaches = termReaches(termId);
    const rows: Array<[string, string]> = [['term', termId]];
    if (weight) rows.push(['weight', `${weight}${w ? ` (${formatShape(w.shape)})` : ''}`]);
    if (reg) rows.push(['regularizer', describeRegularizer(reg)]);
    const factor = decayPerStep(optimizer, reg, reaches);
    rows.push(['decayPerStep', factor === undefined ? `n/a (${optimizer?.className ?? 'unknown optimizer'})` : `×${formatFactor(factor)}`]);
    rows.push(['value', formatNumber(t?.lastValue)]);
    rows.push(['reaches minimized loss', t ? `${t.stepsInLoss} of ${t.stepsObserved} steps` : reaches ? 'yes' : 'no']);
    if (gt && !gt.evaluated) rows.push(['evaluated', 'never computed in the step']);
    return rows;
  };

  const makeGroupNode = (unit: string, gid: string): ViewNode => {
    const g = groups.groups.get(gid)!;
    const base = { id: unit, group: gid, expandable: true, parent: null, isSink: unit === sinkUnit, source: null as SourcePosition | null };
    if (g.kind === 'layer') {
      const info = layerByName.get(g.layer!);
      const decay = decayOf(g.layer!);
      const details: Array<[string, string]> = [['layer', g.layer!], ['class', info?.className ?? '?']];
      for (const w of info?.weights ?? []) {
        details.push([`weight ${w.name}`, `${formatShape(w.shape)}${w.regularizer ? ` · ${describeRegularizer(w.regularizer)}` : ''}${w.trainable ? '' : ' · frozen'}`]);
      }
      details.push(['decay', DECAY_TEXT[decay]]);
      if (info?.source) details.push(['created at', `${info.source.file}:${info.source.line}`]);
      const regs = (info?.weights ?? []).filter((w) => w.regularizer).map((w) => `${w.name} ${describeRegularizer(w.regularizer!)}`);
      return {
        ...base,
        kind: 'layer',
        label: g.layer!,
        detail: `${info?.className ?? 'layer'} · ${regs.length ? regs.join(', ') : 'no decay'}`,
        role: 'data',
        reaches: true,
        decay,
        badge: decay === 'dropped' || decay === 'partial' ? `✕ ${DECAY_TEXT[decay]}` : null,
        layer: g.layer,
        termId: null,
        source: info?.source ?? null,
        details,
        search: `${g.layer} ${info?.className ?? ''}`.toLowerCase(),
      };
    }
    if (g.kind === 'term') {
      const t = termsById.get(g.termId!);
      const gt = graphTerms.get(g.termId!);
      const reg = t?.regularizer ?? gt?.regularizer ?? null;
      const reaches = termReaches(g.termId);
      const weight = t?.weight ?? gt?.weight ?? g.termId!;
      return {
        ...base,
        kind: 'term',
        label: `${reg ? describeRegularizer(reg) : 'penalty'} · ${weight.split('/').pop()}`,
        detail: `value ${formatNumber(t?.lastValue)}`,
        role: 'regularization',
        reaches,
        decay: null,
        badge: reaches ? null : NOT_IN_LOSS_BADGE,
        layer: g.layer,
        termId: g.termId,
        source: t?.source ?? layerByName.get(g.layer ?? '')?.source ?? null,
        details: termDetails(g.termId!),
        search: `${weight} ${g.termId} penalty`.toLowerCase(),
      };
    }
    const data = termsById.get(DATA_TERM_ID);
    const sinkNode = groups.nodes.get(graph.minimizedNodeId);
    if (g.kind === 'data-loss') {
      const out = groups.nodes.get(graph.dataNodeId ?? '');
      return {
        ...base,
        kind: 'data-loss',
        label: 'data loss',
        detail: `${g.members.length} ops · value ${formatNumber(data?.lastValue)}`,
        role: 'data',
        reaches: true,
        decay: null,
        badge: null,
        layer: null,
        termId: DATA_TERM_ID,
        details: [['term', 'data'], ['ops', g.members.map((m) => groups.nodes.get(m)?.label ?? m).join(', ')], ['value', formatNumber(data?.lastValue)], ['output', out?.label ?? '?']],
        search: 'data loss',
      };
    }
    const reached = graph.terms.filter((t) => t.id !== DATA_TERM_ID && termReaches(t.id)).length;
    const total = graph.terms.filter((t) => t.id !== DATA_TERM_ID).length;
    return {
      ...base,
      kind: 'loss',
      label: 'minimized loss',
      detail: reached > 0 ? `data + ${reached} of ${total} penalties` : total > 0 ? `data loss only (0 of ${total} penalties)` : 'data loss',
      role: reached > 0 ? 'mixed' : 'data',
      reaches: true,
      decay: null,
      badge: null,
      layer: null,
      termId: graph.dataNodeId === graph.minimizedNodeId ? DATA_TERM_ID : null,
      details: [['output', `${sinkNode?.label ?? '?'} (${graph.minimizedNodeId})`], ['penalties in it', `${reached} of ${total}`], ['ops', String(g.members.length)], ['captured at step', String(graph.step)]],
      search: 'minimized loss total',
    };
  };

  const makeBlockNode = (block: LayerBlock): ViewNode => {
    const names = block.layers;
    const classes = block.pattern.map((l) => layerByName.get(l)?.className ?? '?');
    const statuses = names.map(decayOf);
    const worst = statuses.includes('dropped') ? 'dropped' : statuses.includes('partial') ? 'partial' : statuses.includes('decayed') ? 'decayed' : 'none';
    return {
      id: block.id,
      kind: 'block',
      label: classes.length <= 3 ? `${classes.join(' → ')} ×${block.repeats}` : `${classes.length} layers ×${block.repeats}`,
      detail: classes.length <= 3 ? `${names.length} layers, ${names[0]} …` : [...new Set(classes)].join(' → '),
      group: block.id,
      expandable: true,
      parent: null,
      role: 'data',
      reaches: true,
      decay: worst,
      badge: worst === 'dropped' || worst === 'partial' ? `✕ ${DECAY_TEXT[worst]}` : null,
      layer: names[0],
      termId: null,
      source: layerByName.get(names[0])?.source ?? null,
      details: [['repeated block', `${block.pattern.length} layers × ${block.repeats}`], ['layers', `${names.length}`], ['first', names[0]], ['last', names[names.length - 1]], ['decay', DECAY_TEXT[worst]]],
      search: names.join(' ').toLowerCase(),
      isSink: false,
    };
  };

  const makeBlockTermsNode = (unit: string, block: LayerBlock, reaches: boolean, termIds: string[]): ViewNode => {
    const values = termIds.map((id) => termsById.get(id)?.lastValue ?? null).filter((v): v is number => v !== null);
    const sum = values.reduce((a, b) => a + b, 0);
    const regs = [...new Set(termIds.map((id) => termsById.get(id)?.regularizer ?? graphTerms.get(id)?.regularizer).filter((r) => r).map((r) => describeRegularizer(r!)))];
    return {
      id: unit,
      kind: 'block-terms',
      label: `${termIds.length} penalties · ${regs.join(', ') || 'penalty'}`,
      detail: `sum ${formatNumber(values.length ? sum : null)}`,
      group: block.id,
      expandable: true,
      parent: null,
      role: 'regularization',
      reaches,
      decay: null,
      badge: reaches ? null : NOT_IN_LOSS_BADGE,
      layer: null,
      termId: null,
      source: null,
      details: [['penalties', String(termIds.length)], ['regularizers', regs.join(', ')], ['sum of values', formatNumber(values.length ? sum : null)], ['reach minimized loss', reaches ? 'yes' : 'no']],
      search: termIds.join(' ').toLowerCase(),
      isSink: false,
    };
  };

  const blockById = new Map(blocks.map((b) => [b.id, b]));
  for (const node of graph.nodes) {
    const unit = unitOf(node.id);
    if (nodes.has(unit)) continue;
    const gid = groups.groupOf.get(node.id)!;
    const g = groups.groups.get(gid)!;
    if (unit === node.id) {
      // An op or variable of an expanded group.
      const reg = node.weight ? weightById.get(node.weight)?.regularizer ?? null : null;
      const details: Array<[string, string]> = [['op', node.label], ['id', node.id], ['shape', formatShape(node.shape)], ['role', node.role]];
      if (node.weight) details.push(['weight', node.weight], ['regularizer', reg ? describeRegularizer(reg) : 'none']);
      if (node.termId) details.push(...termDetails(node.termId).slice(1));
      nodes.set(unit, {
        id: unit,
        kind: node.kind === 'variable' ? 'variable' : 'op',
        label: node.kind === 'unevaluated-term' ? 'penalty (never computed)' : node.label,
        detail: formatShape(node.shape),
        group: gid,
        expandable: false,
        parent: gid,
        role: node.role,
        reaches: node.reachesMinimizedLoss,
        decay: null,
        badge: node.termId && !termReaches(node.termId) ? NOT_IN_LOSS_BADGE : null,
        layer: g.layer,
        termId: node.termId,
        source: g.layer ? layerByName.get(g.layer)?.source ?? null : null,
        details,
        search: `${node.label} ${node.weight ?? ''} ${node.id}`.toLowerCase(),
        isSink: node.id === graph.minimizedNodeId,
      });
    } else if (groups.groups.has(unit)) {
      nodes.set(unit, makeGroupNode(unit, unit));
    } else if (blockById.has(unit)) {
      nodes.set(unit, makeBlockNode(blockById.get(unit)!));
    }
  }
  // The penalties of a folded block become one node per verdict (in the loss / not in it).
  const blockTerms = new Map<string, { block: LayerBlock; termIds: string[] }>();
  for (const g of groups.groups.values()) {
    const block = g.kind === 'term' && g.layer ? blockOfLayer.get(g.layer) : undefined;
    if (!block) continue;
    const unit = unitOf(g.members[0]);
    const entry = blockTerms.get(unit) ?? { block, termIds: [] };
    entry.termIds.push(g.termId!);
    blockTerms.set(unit, entry);
  }
  for (const [unit, { block, termIds }] of blockTerms) {
    nodes.set(unit, makeBlockTermsNode(unit, block, unit.endsWith(':in'), termIds));
  }

  const edges = new Map<string, ViewEdge>();
  const sinkGroupUnits = new Set<string>([sinkUnit]);
  for (const m of groups.groups.get(groups.sinkGroup)?.members ?? []) sinkGroupUnits.add(unitOf(m));
  for (const e of graph.edges) {
    const from = unitOf(e.from);
    const to = unitOf(e.to);
    if (from === to) continue;
    const key = `${from}->${to}`;
    const existing = edges.get(key);
    if (existing) {
      existing.count++;
      continue;
    }
    const fromNode = nodes.get(from)!;
    const toNode = groups.nodes.get(e.to)!;
    const src = groups.nodes.get(e.from)!;
    const intoSink = sinkGroupUnits.has(to) && (fromNode.kind === 'term' || fromNode.kind === 'block-terms' || (src.role === 'regularization' && groups.groups.get(groups.groupOf.get(e.from)!)?.kind === 'term'));
    edges.set(key, {
      id: key,
      from,
      to,
      shape: e.shape,
      count: 1,
      role: src.role === 'regularization' || toNode.role === 'regularization' ? 'regularization' : src.role === 'data' && toNode.role === 'data' ? 'data' : 'mixed',
      reaches: src.reachesMinimizedLoss && toNode.reachesMinimizedLoss,
      bus: intoSink,
    });
  }

  return { nodes: [...nodes.values()], edges: [...edges.values()], sink: sinkUnit, blocks };
}

/** Every group id (and block id) that can be expanded in this graph: what "expand all" sets. */
export function expandableIds(groups: GraphGroups, blocks: LayerBlock[]): string[] {
  return [...groups.groups.keys(), ...blocks.map((b) => b.id)];
}

export { DATA_LOSS_GROUP, LOSS_GROUP, layerGroupId };
