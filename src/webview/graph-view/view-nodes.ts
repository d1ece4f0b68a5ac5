import { decayPerStep, describeRegularizer } from '../../shared/analysis/decay';
import type { DecayStatus } from '../../shared/analysis/terms';
import { formatFactor, formatNumber, formatShape } from '../../shared/format';
import type { GraphNode } from '../../shared/protocol/run-data';
import { DATA_TERM_ID } from '../../shared/protocol/term-ids';
import type { LayerBlock } from './blocks';
import type { NodeGroup } from './graph-groups';
import type { ViewIndex } from './view-index';
import { DECAY_TEXT, NOT_IN_LOSS_BADGE, type ViewNode } from './view-types';

/**
 * The node makers of the view graph: one pure function per kind of drawn node, each reading the
 * lookups of one ViewIndex. Labels, the one-line detail and the hover card's rows are decided here.
 */
type Rows = Array<[string, string]>;

const droppedBadge = (decay: DecayStatus) => (decay === 'dropped' || decay === 'partial' ? `✕ ${DECAY_TEXT[decay]}` : null);

/** A group node's fixed fields: it stands for a whole group and can be expanded. */
function groupBase(ix: ViewIndex, unit: string, gid: string) {
  return { id: unit, group: gid, expandable: true, parent: null, isSink: unit === ix.sinkUnit };
}

/** The hover rows of a penalty term: its weight, regularizer, per-step decay, value and verdict. */
export function termDetails(ix: ViewIndex, termId: string): Rows {
  const t = ix.termsById.get(termId);
  const gt = ix.graphTerms.get(termId);
  const reg = t?.regularizer ?? gt?.regularizer ?? null;
  const weight = t?.weight ?? gt?.weight ?? null;
  const w = weight ? ix.weightById.get(weight) : undefined;
  const reaches = ix.termReaches(termId);
  const optimizer = ix.ctx.optimizer;
  const rows: Rows = [['term', termId]];
  if (weight) rows.push(['weight', `${weight}${w ? ` (${formatShape(w.shape)})` : ''}`]);
  if (reg) rows.push(['regularizer', describeRegularizer(reg)]);
  const factor = decayPerStep(optimizer, reg, reaches);
  rows.push(['decayPerStep', factor === undefined ? `n/a (${optimizer?.className ?? 'unknown optimizer'})` : `×${formatFactor(factor)}`]);
  rows.push(['value', formatNumber(t?.lastValue)]);
  rows.push(['reaches minimized loss', t ? `${t.stepsInLoss} of ${t.stepsObserved} steps` : reaches ? 'yes' : 'no']);
  if (gt && !gt.evaluated) rows.push(['evaluated', 'never computed in the step']);
  return rows;
}

export function layerNode(ix: ViewIndex, unit: string, g: NodeGroup): ViewNode {
  const name = g.layer!;
  const info = ix.layerByName.get(name);
  const decay = ix.decayOf(name);
  const weights = info?.weights ?? [];
  const details: Rows = [['layer', name], ['class', info?.className ?? '?']];
  for (const w of weights) {
    const reg = w.regularizer ? ` · ${describeRegularizer(w.regularizer)}` : '';
    details.push([`weight ${w.name}`, `${formatShape(w.shape)}${reg}${w.trainable ? '' : ' · frozen'}`]);
  }
  details.push(['decay', DECAY_TEXT[decay]]);
  if (info?.source) details.push(['created at', `${info.source.file}:${info.source.line}`]);
  const regs = weights.filter((w) => w.regularizer).map((w) => `${w.name} ${describeRegularizer(w.regularizer!)}`);
  // tf.variables outside any layer (a custom loop's weights): drawn as one node per name scope, named for what it holds.
  const variables = info ? [] : g.members.map((m) => ix.ctx.groups.nodes.get(m)).filter((n): n is GraphNode => n?.kind === 'variable');
  for (const v of variables) details.push([`variable ${v.label}`, formatShape(v.shape)]);
  const detail = info || variables.length === 0 ? `${info?.className ?? 'layer'} · ${regs.length ? regs.join(', ') : 'no decay'}` : `tf.variable · ${variables.map((v) => v.label).join(', ')}`;
  return {
    ...groupBase(ix, unit, g.id),
    kind: 'layer',
    label: name,
    detail,
    role: 'data',
    reaches: true,
    decay,
    badge: droppedBadge(decay),
    layer: name,
    termId: null,
    source: info?.source ?? null,
    details,
    search: `${name} ${info?.className ?? ''}`.toLowerCase(),
  };
}

export function termNode(ix: ViewIndex, unit: string, g: NodeGroup): ViewNode {
  const termId = g.termId!;
  const t = ix.termsById.get(termId);
  const gt = ix.graphTerms.get(termId);
  const reg = t?.regularizer ?? gt?.regularizer ?? null;
  const reaches = ix.termReaches(termId);
  const weight = t?.weight ?? gt?.weight ?? termId;
  // Beside its layer, a penalty needs only the weight's short name ("kernel"); a penalty on variables outside any
  // layer names each of them in full ("local3/weights"), or two such penalties would read alike.
  const vars = [...new Set([weight, ...(t?.pieces ?? []).map((p) => p.weight)])];
  const named = g.layer !== null && ix.layerByName.has(g.layer) ? weight.split('/').pop() : vars.join(', ');
  return {
    ...groupBase(ix, unit, g.id),
    kind: 'term',
    label: `${reg ? describeRegularizer(reg) : 'penalty'} · ${named}`,
    detail: `value ${formatNumber(t?.lastValue)}`,
    role: 'regularization',
    reaches,
    decay: null,
    badge: reaches ? null : NOT_IN_LOSS_BADGE,
    layer: g.layer,
    termId,
    source: t?.source ?? ix.layerByName.get(g.layer ?? '')?.source ?? null,
    details: termDetails(ix, termId),
    search: `${weight} ${termId} penalty`.toLowerCase(),
  };
}

export function dataLossNode(ix: ViewIndex, unit: string, g: NodeGroup): ViewNode {
  const { groups } = ix.ctx;
  const value = formatNumber(ix.termsById.get(DATA_TERM_ID)?.lastValue);
  const out = groups.nodes.get(groups.graph.dataNodeId ?? '');
  const ops = g.members.map((m) => groups.nodes.get(m)?.label ?? m).join(', ');
  return {
    ...groupBase(ix, unit, g.id),
    kind: 'data-loss',
    label: 'data loss',
    detail: `${g.members.length} ops · value ${value}`,
    role: 'data',
    reaches: true,
    decay: null,
    badge: null,
    layer: null,
    termId: DATA_TERM_ID,
    source: null,
    details: [['term', 'data'], ['ops', ops], ['value', value], ['output', out?.label ?? '?']],
    search: 'data loss',
  };
}

export function lossNode(ix: ViewIndex, unit: string, g: NodeGroup): ViewNode {
  const graph = ix.ctx.groups.graph;
  const penalties = graph.terms.filter((t) => t.id !== DATA_TERM_ID);
  const reached = penalties.filter((t) => ix.termReaches(t.id)).length;
  const total = penalties.length;
  const sinkNode = ix.ctx.groups.nodes.get(graph.minimizedNodeId);
  return {
    ...groupBase(ix, unit, g.id),
    kind: 'loss',
    label: 'minimized loss',
    detail: reached > 0 ? `data + ${reached} of ${total} penalties` : total > 0 ? `data loss only (0 of ${total} penalties)` : 'data loss',
    role: reached > 0 ? 'mixed' : 'data',
    reaches: true,
    decay: null,
    badge: null,
    layer: null,
    termId: graph.dataNodeId === graph.minimizedNodeId ? DATA_TERM_ID : null,
    source: null,
    details: [
      ['output', `${sinkNode?.label ?? '?'} (${graph.minimizedNodeId})`],
      ['penalties in it', `${reached} of ${total}`],
      ['ops', String(g.members.length)],
      ['captured at step', String(graph.step)],
    ],
    search: 'minimized loss total',
  };
}

/** The node of a whole group (layer, penalty, data loss or minimized loss), collapsed. */
export function groupNode(ix: ViewIndex, unit: string, g: NodeGroup): ViewNode {
  switch (g.kind) {
    case 'layer':
      return layerNode(ix, unit, g);
    case 'term':
      return termNode(ix, unit, g);
    case 'data-loss':
      return dataLossNode(ix, unit, g);
    case 'loss':
      return lossNode(ix, unit, g);
  }
}

/** The worst verdict among a block's layers: one dropped penalty makes the whole block look dropped. */
function worstDecay(statuses: DecayStatus[]): DecayStatus {
  for (const s of ['dropped', 'partial', 'decayed'] as const) if (statuses.includes(s)) return s;
  return 'none';
}

export function blockNode(ix: ViewIndex, block: LayerBlock): ViewNode {
  const names = block.layers;
  const classes = block.pattern.map((l) => ix.layerByName.get(l)?.className ?? '?');
  const worst = worstDecay(names.map(ix.decayOf));
  const short = classes.length <= 3;
  return {
    id: block.id,
    kind: 'block',
    label: short ? `${classes.join(' → ')} ×${block.repeats}` : `${classes.length} layers ×${block.repeats}`,
    detail: short ? `${names.length} layers, ${names[0]} …` : [...new Set(classes)].join(' → '),
    group: block.id,
    expandable: true,
    parent: null,
    role: 'data',
    reaches: true,
    decay: worst,
    badge: droppedBadge(worst),
    layer: names[0],
    termId: null,
    source: ix.layerByName.get(names[0])?.source ?? null,
    details: [
      ['repeated block', `${block.pattern.length} layers × ${block.repeats}`],
      ['layers', `${names.length}`],
      ['first', names[0]],
      ['last', names[names.length - 1]],
      ['decay', DECAY_TEXT[worst]],
    ],
    search: names.join(' ').toLowerCase(),
    isSink: false,
  };
}

/** The penalties of a folded block that share one verdict, as one node. */
export function blockTermsNode(ix: ViewIndex, unit: string, block: LayerBlock, reaches: boolean, termIds: string[]): ViewNode {
  const values = termIds.map((id) => ix.termsById.get(id)?.lastValue ?? null).filter((v): v is number => v !== null);
  const sum = formatNumber(values.length ? values.reduce((a, b) => a + b, 0) : null);
  const regOf = (id: string) => ix.termsById.get(id)?.regularizer ?? ix.graphTerms.get(id)?.regularizer ?? null;
  const regs = [...new Set(termIds.map(regOf).flatMap((r) => (r ? [describeRegularizer(r)] : [])))];
  return {
    id: unit,
    kind: 'block-terms',
    label: `${termIds.length} penalties · ${regs.join(', ') || 'penalty'}`,
    detail: `sum ${sum}`,
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
    details: [
      ['penalties', String(termIds.length)],
      ['regularizers', regs.join(', ')],
      ['sum of values', sum],
      ['reach minimized loss', reaches ? 'yes' : 'no'],
    ],
    search: termIds.join(' ').toLowerCase(),
    isSink: false,
  };
}

/** One op or variable of an expanded group, inside its group's frame. */
export function tapeNode(ix: ViewIndex, node: GraphNode, g: NodeGroup): ViewNode {
  const reg = node.weight ? ix.weightById.get(node.weight)?.regularizer ?? null : null;
  const details: Rows = [['op', node.label], ['id', node.id], ['shape', formatShape(node.shape)], ['role', node.role]];
  if (node.weight) details.push(['weight', node.weight], ['regularizer', reg ? describeRegularizer(reg) : 'none']);
  if (node.termId) details.push(...termDetails(ix, node.termId).slice(1));
  return {
    id: node.id,
    kind: node.kind === 'variable' ? 'variable' : 'op',
    label: node.kind === 'unevaluated-term' ? 'penalty (never computed)' : node.label,
    detail: formatShape(node.shape),
    group: g.id,
    expandable: false,
    parent: g.id,
    role: node.role,
    reaches: node.reachesMinimizedLoss,
    decay: null,
    badge: node.termId && !ix.termReaches(node.termId) ? NOT_IN_LOSS_BADGE : null,
    layer: g.layer,
    termId: node.termId,
    source: g.layer ? ix.layerByName.get(g.layer)?.source ?? null : null,
    details,
    search: `${node.label} ${node.weight ?? ''} ${node.id}`.toLowerCase(),
    isSink: node.id === ix.ctx.groups.graph.minimizedNodeId,
  };
}
