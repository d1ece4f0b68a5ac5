import type { DecayStatus } from '../../shared/analysis/terms';
import type { LayerBlock } from './blocks';
import { DECAY_TEXT, NOT_IN_LOSS_BADGE, type ViewEdge, type ViewGraph, type ViewNode, type ViewNodeKind } from './view-types';

/**
 * Folding a graph until it fits (issue 21): a chain of layers the data passes through one after the other (each
 * hands its output to the next only, the next takes input from it only) becomes one node that says what it holds.
 * Penalties stay their own nodes, drawn from the chain: what the graph is for (which penalty reaches the loss)
 * is never folded away. Pure; the panel decides how many chains to fold from the laid-out size.
 */
const CHAIN_PREFIX = 'group:chain:';
/** A folded chain, named after its first node. */
export const chainId = (firstNode: string) => `${CHAIN_PREFIX}${firstNode}`;
export const isChainId = (id: string) => id.startsWith(CHAIN_PREFIX);

export interface NodeChain {
  id: string;
  /** View node ids, in data order. */
  members: string[];
  /** The layers they stand for, in model order (a folded block counts each of its layers). */
  layers: string[];
}

/** Nodes that may fold into a chain: a layer or a folded block, drawn at the top level. */
const FOLDABLE: ReadonlySet<ViewNodeKind> = new Set(['layer', 'block']);
/** Penalty nodes hang off the data path; they do not make a layer a branch point. */
const SIDE: ReadonlySet<ViewNodeKind> = new Set(['term', 'block-terms']);

function layersOf(n: ViewNode, blocks: ReadonlyMap<string, LayerBlock>): string[] {
  if (n.kind === 'block') return blocks.get(n.id)?.layers ?? [];
  return n.layer ? [n.layer] : [];
}

/** The most nodes a branching region (a residual block) may hold to fold into a chain. */
const MAX_REGION = 12;

/**
 * The maximal chains of two or more foldable nodes in a view graph, longest first (most layers; then the one nearer
 * the input). Folding the longest first hides the fewest nodes for the room it makes. With `regions`, a chain also
 * runs through a branching region with one way in and one way out (a residual block: the data forks at one node and
 * meets again at another, nothing else goes in or out): the last resort before a graph pans.
 */
export function findChains(view: ViewGraph, options: { regions?: boolean } = {}): NodeChain[] {
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const blocks = new Map(view.blocks.map((b) => [b.id, b]));
  const outs = new Map<string, string[]>();
  const ins = new Map<string, string[]>();
  for (const e of view.edges) {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (e.bus || !from || !to || SIDE.has(from.kind) || SIDE.has(to.kind)) continue;
    (outs.get(e.from) ?? outs.set(e.from, []).get(e.from)!).push(e.to);
    (ins.get(e.to) ?? ins.set(e.to, []).get(e.to)!).push(e.from);
  }
  const foldable = (id: string) => {
    const n = byId.get(id);
    return !!n && FOLDABLE.has(n.kind) && n.parent === null && !n.isSink;
  };
  const outOf = (id: string) => outs.get(id) ?? [];
  const inOf = (id: string) => ins.get(id) ?? [];
  /** The region that forks at `u` and meets at some `w`: its inner nodes in tape order, then `w`; null if none. */
  const region = (u: string): string[] | null => {
    const forks = outOf(u);
    if (forks.length < 2 || !forks.every(foldable)) return null;
    const candidates: string[] = [];
    const seen = new Set([u]);
    for (const queue = [...forks]; queue.length && candidates.length < MAX_REGION; ) {
      const x = queue.shift()!;
      if (seen.has(x) || !foldable(x)) continue;
      seen.add(x);
      candidates.push(x);
      queue.push(...outOf(x));
    }
    for (const w of candidates) {
      // Everything reachable from u short of w: the region, if nothing else goes in or comes out of it.
      const inside = new Set<string>();
      let closed = true;
      for (const stack = [...forks]; stack.length && closed; ) {
        const x = stack.pop()!;
        if (x === w || inside.has(x)) continue;
        if (!foldable(x) || inside.size >= MAX_REGION) closed = false;
        inside.add(x);
        stack.push(...outOf(x));
      }
      if (!closed || inside.size === 0) continue;
      const fromInside = (y: string) => y === u || inside.has(y);
      const intoInside = (y: string) => y === w || inside.has(y);
      if (![...inside].every((x) => inOf(x).every(fromInside) && outOf(x).every(intoInside)) || !inOf(w).every(fromInside)) continue;
      return [...view.nodes.filter((n) => inside.has(n.id)).map((n) => n.id), w];
    }
    return null;
  };
  /** What follows `id` in a chain: the one node it hands on to (which takes from it only), or a whole region. */
  const next = (id: string): string[] | null => {
    const o = outOf(id);
    if (o.length === 1 && foldable(o[0]) && inOf(o[0]).length === 1) return [o[0]];
    return options.regions ? region(id) : null;
  };
  const hasPrev = new Set<string>();
  for (const n of view.nodes) if (foldable(n.id)) for (const to of next(n.id) ?? []) hasPrev.add(to);
  const chains: Array<NodeChain & { at: number }> = [];
  view.nodes.forEach((n, at) => {
    if (!foldable(n.id) || hasPrev.has(n.id)) return;
    const members = [n.id];
    for (let step = next(n.id); step && !step.some((x) => members.includes(x)); step = next(members[members.length - 1])) members.push(...step);
    if (members.length < 2) return;
    chains.push({ id: chainId(n.id), members, layers: members.flatMap((m) => layersOf(byId.get(m)!, blocks)), at });
  });
  chains.sort((a, b) => b.layers.length - a.layers.length || b.members.length - a.members.length || a.at - b.at);
  return chains.map(({ id, members, layers }) => ({ id, members, layers }));
}

function worstDecay(statuses: Array<DecayStatus | null>): DecayStatus {
  for (const s of ['dropped', 'partial', 'decayed'] as const) if (statuses.includes(s)) return s;
  return 'none';
}

/** "dense_Dense1 … add_Add81": a chain by the first and last layer it holds. */
export function chainSpan(chain: NodeChain): string {
  return chain.layers.length > 1 ? `${chain.layers[0]} … ${chain.layers[chain.layers.length - 1]}` : chain.layers[0] ?? chain.members[0];
}

/** The node a chain folds into: how many layers, from which to which, what kinds; the worst decay verdict of them. */
export function chainNode(chain: NodeChain, members: ViewNode[]): ViewNode {
  const decay = worstDecay(members.map((m) => m.decay));
  const blocks = members.filter((m) => m.kind === 'block').length;
  const n = chain.layers.length;
  const classes = [...new Set(members.flatMap((m) => (m.kind === 'layer' ? [Object.fromEntries(m.details).class ?? '?'] : [])))];
  return {
    id: chain.id,
    kind: 'chain',
    label: `${n} layer${n === 1 ? '' : 's'}: ${chainSpan(chain)}`,
    detail: `folded to fit${blocks ? ` · ${blocks} repeated block${blocks === 1 ? '' : 's'}` : ''} · click to unfold`,
    group: chain.id,
    expandable: true,
    parent: null,
    role: 'data',
    reaches: true,
    decay,
    badge: decay === 'dropped' || decay === 'partial' ? `✕ ${DECAY_TEXT[decay]}` : null,
    layer: chain.layers[0] ?? null,
    termId: null,
    source: members[0]?.source ?? null,
    details: [
      ['folded chain', `${n} layers in ${members.length} nodes`],
      ['first', chain.layers[0] ?? '?'],
      ['last', chain.layers[n - 1] ?? '?'],
      ...(classes.length ? ([['classes', classes.join(', ')]] as Array<[string, string]>) : []),
      ...(blocks ? ([['repeated blocks', String(blocks)]] as Array<[string, string]>) : []),
      ['decay', DECAY_TEXT[decay]],
      ['unfold', 'click, or Enter / Space'],
    ],
    search: members.map((m) => m.search).join(' '),
    isSink: false,
  };
}

/** How many penalties a penalty node stands for, and their regularizers (a folded block's node holds several). */
function penaltiesOf(n: ViewNode): { count: number; regs: string[] } {
  const rows = Object.fromEntries(n.details);
  if (n.kind === 'block-terms') return { count: Number(rows.penalties) || 1, regs: (rows.regularizers ?? '').split(', ').filter(Boolean) };
  return { count: 1, regs: rows.regularizer ? [rows.regularizer] : [] };
}

/** The penalties of a folded chain that share one verdict, as one node: the verdict is what the graph must show. */
function chainTermsNode(chain: NodeChain, reaches: boolean, side: ViewNode[]): ViewNode {
  const all = side.map(penaltiesOf);
  const count = all.reduce((n, p) => n + p.count, 0);
  const regs = [...new Set(all.flatMap((p) => p.regs))];
  return {
    id: `${chain.id}:terms:${reaches ? 'in' : 'out'}`,
    kind: 'block-terms',
    // Narrow: it sits beside the chain's other verdict and the data loss, in the rank a fit is short of room in.
    label: `${count} penalt${count === 1 ? 'y' : 'ies'}`,
    detail: regs.join(', ') || 'penalty',
    group: chain.id,
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
      ['penalties', String(count)],
      ['regularizers', regs.join(', ')],
      ['of layers', chainSpan(chain)],
      ['reach minimized loss', reaches ? 'yes' : 'no'],
    ],
    search: side.map((n) => n.search).join(' '),
    isSink: false,
  };
}

/**
 * The view graph with each chain drawn as one node; edges into and out of its members go to it. The penalties
 * hanging off a chain's members fold with it, one node per verdict (reaches the loss or not), when there are two or
 * more of a verdict: side by side they made the graph as wide as it was long.
 */
export function foldChains(view: ViewGraph, chains: readonly NodeChain[]): ViewGraph {
  if (chains.length === 0) return view;
  const unit = new Map<string, string>();
  for (const c of chains) for (const m of c.members) unit.set(m, c.id);
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  // Penalty nodes fed only from inside one chain, by chain and verdict.
  const feeders = new Map<string, Set<string>>();
  for (const e of view.edges) if (!e.bus) (feeders.get(e.to) ?? feeders.set(e.to, new Set()).get(e.to)!).add(unit.get(e.from) ?? e.from);
  const side = new Map<string, ViewNode[]>();
  for (const n of view.nodes) {
    const from = [...(feeders.get(n.id) ?? [])];
    if (!SIDE.has(n.kind) || from.length !== 1 || !isChainId(from[0])) continue;
    const key = `${from[0]}:terms:${n.reaches ? 'in' : 'out'}`;
    side.set(key, [...(side.get(key) ?? []), n]);
  }
  for (const [key, list] of side) {
    if (list.length < 2) continue;
    for (const n of list) unit.set(n.id, key);
  }
  const nodes: ViewNode[] = [];
  const placed = new Set<string>();
  for (const n of view.nodes) {
    const u = unit.get(n.id);
    if (!u) nodes.push(n);
    else if (!placed.has(u)) {
      placed.add(u);
      const chain = chains.find((c) => c.id === u);
      if (chain) nodes.push(chainNode(chain, chain.members.map((m) => byId.get(m)!)));
      else {
        const terms = side.get(u)!;
        nodes.push(chainTermsNode(chains.find((c) => u.startsWith(`${c.id}:terms:`))!, terms[0].reaches, terms));
      }
    }
  }
  const edges = new Map<string, ViewEdge>();
  for (const e of view.edges) {
    const from = unit.get(e.from) ?? e.from;
    const to = unit.get(e.to) ?? e.to;
    if (from === to) continue;
    const id = `${from}->${to}`;
    const had = edges.get(id);
    if (had) {
      had.count += e.count;
      had.reaches &&= e.reaches;
    } else edges.set(id, { ...e, id, from, to });
  }
  return { ...view, nodes, edges: [...edges.values()] };
}
