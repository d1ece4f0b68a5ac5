import type { GraphNode, LayerInfo, LossGraph } from '../../shared/protocol/run-data';
import { DATA_TERM_ID } from '../../shared/protocol/term-ids';

/**
 * How the ops of a captured loss graph fold into the units a person reads: one group per layer
 * (its ops and its variables), one per penalty term (the ops that compute it), the data loss, and
 * the minimized loss (the sums that join the terms). Pure and computed once per graph.
 */
export type GroupKind = 'layer' | 'term' | 'data-loss' | 'loss';

export interface NodeGroup {
  id: string;
  kind: GroupKind;
  layer: string | null;
  termId: string | null;
  members: string[];
}

export interface GraphGroups {
  graph: LossGraph;
  nodes: Map<string, GraphNode>;
  groups: Map<string, NodeGroup>;
  groupOf: Map<string, string>;
  /** Layers in model order (LayerInfo order, then layers only the graph knows). */
  layerOrder: string[];
  /** The group holding the minimized scalar: the graph's sink. */
  sinkGroup: string;
}

// Group ids live in their own "group:" namespace: graph node ids are op:N, var:… and term:….
export const LOSS_GROUP = 'group:loss';
export const DATA_LOSS_GROUP = 'group:data-loss';
export const layerGroupId = (layer: string) => `group:layer:${layer}`;
export const termGroupId = (termId: string) => `group:term:${termId}`;
const BLOCK_PREFIX = 'group:block:';
/** A folded run of repeated layers, named after its first layer. */
export const blockGroupId = (firstLayer: string) => `${BLOCK_PREFIX}${firstLayer}`;
export const isBlockGroupId = (id: string) => id.startsWith(BLOCK_PREFIX);

/**
 * Where a tf.variable that belongs to no layer is drawn: with the other variables of its name scope
 * ("local3/weights" and "local3/biases" make one node "local3"), or alone when it has no scope. Without this
 * the variables fell into the minimized loss's group, so a hand-written penalty's arrows came out of the loss
 * and the data path into it was not drawn (issue 21).
 */
export function variableScope(weightId: string): string {
  const i = weightId.lastIndexOf('/');
  return i > 0 ? weightId.slice(0, i) : weightId;
}

export function groupGraph(graph: LossGraph, layers: LayerInfo[]): GraphGroups {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const weightOwner = new Map<string, string>();
  for (const l of layers) for (const w of l.weights) weightOwner.set(w.id, l.name);

  const incoming = new Map<string, string[]>();
  for (const e of graph.edges) {
    const list = incoming.get(e.to) ?? [];
    list.push(e.from);
    incoming.set(e.to, list);
  }

  const groups = new Map<string, NodeGroup>();
  const groupOf = new Map<string, string>();
  const add = (groupId: string, kind: GroupKind, layer: string | null, termId: string | null, nodeId: string) => {
    let g = groups.get(groupId);
    if (!g) {
      g = { id: groupId, kind, layer, termId, members: [] };
      groups.set(groupId, g);
    }
    g.members.push(nodeId);
    groupOf.set(nodeId, groupId);
  };

  // A penalty term is its output node plus the regularization-only ops upstream of it.
  for (const term of graph.terms) {
    if (term.id === DATA_TERM_ID || !nodes.has(term.nodeId)) continue;
    const id = termGroupId(term.id);
    const stack = [term.nodeId];
    while (stack.length) {
      const nodeId = stack.pop()!;
      if (groupOf.has(nodeId)) continue;
      const node = nodes.get(nodeId);
      if (!node || node.kind === 'variable') continue;
      if (nodeId !== term.nodeId && node.role !== 'regularization') continue;
      add(id, 'term', term.layer, term.id, nodeId);
      for (const from of incoming.get(nodeId) ?? []) stack.push(from);
    }
  }

  const hasMixed = graph.nodes.some((n) => !groupOf.has(n.id) && n.layer === null && n.kind === 'op' && n.role !== 'data');
  const layerNames = new Set([...layers.map((l) => l.name), ...graph.nodes.map((n) => n.layer).filter((l): l is string => l !== null)]);
  /** A free variable's node: its scope, unless a real layer has that name (then the variable's own id). */
  const freeVariable = (weight: string) => (layerNames.has(variableScope(weight)) ? weight : variableScope(weight));
  for (const node of graph.nodes) {
    if (groupOf.has(node.id)) continue;
    const owner = node.kind === 'variable' && node.weight ? weightOwner.get(node.weight) ?? node.layer : node.layer;
    const layer = owner ?? (node.kind === 'variable' && node.weight ? freeVariable(node.weight) : null);
    if (layer !== null) add(layerGroupId(layer), 'layer', layer, null, node.id);
    else if (node.role === 'data' && hasMixed && node.id !== graph.minimizedNodeId) {
      add(DATA_LOSS_GROUP, 'data-loss', null, DATA_TERM_ID, node.id);
    }
    else add(LOSS_GROUP, 'loss', null, null, node.id);
  }

  const present = new Set([...groups.values()].filter((g) => g.kind === 'layer').map((g) => g.layer!));
  const layerOrder = layers.map((l) => l.name).filter((n) => present.has(n));
  for (const name of present) if (!layerOrder.includes(name)) layerOrder.push(name);

  return { graph, nodes, groups, groupOf, layerOrder, sinkGroup: groupOf.get(graph.minimizedNodeId) ?? LOSS_GROUP };
}
