import type { DecayStatus } from '../../shared/analysis/terms';
import type { NodeRole, SourcePosition } from '../../shared/protocol/run-data';
import type { LayerBlock } from './blocks';

/** What a drawn node stands for: a group of tape nodes, a folded block or chain, or (expanded) one op or variable. */
export type ViewNodeKind = 'layer' | 'block' | 'chain' | 'term' | 'block-terms' | 'data-loss' | 'loss' | 'op' | 'variable';

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

export const NOT_IN_LOSS_BADGE = '✕ not in minimized loss';

export const DECAY_TEXT: Record<DecayStatus, string> = {
  decayed: 'decay reaches the loss',
  none: 'no decay',
  dropped: 'decay never reaches the loss',
  partial: 'decay partly reaches the loss',
};
