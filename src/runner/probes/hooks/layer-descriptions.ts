// What the report says of a layer's weights and regularizers: short weight names, roles, L1/L2 coefficients.
import type { RegularizerInfo, WeightRole } from '../../../shared/protocol/run-data';
import type { LayerLike, RegularizerLike } from '../../tfjs-internals';
import { classNameOf, nameOf } from './describe-names';

/**
 * What the report says of a regularizer: its class and its L1/L2 coefficients as written (0 where it has none).
 * NaN, ±Infinity and negative coefficients are kept: the invalid-regularizer rule reports them.
 */
export function regularizerInfo(reg: RegularizerLike): RegularizerInfo {
  const config = safeConfig(reg);
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  return {
    className: classNameOf(reg, 'Regularizer'),
    l1: num(reg.l1 ?? config.l1),
    l2: num(reg.l2 ?? config.l2),
  };
}

function safeConfig(obj: { getConfig?(): Record<string, unknown> }): Record<string, unknown> {
  try {
    const config: unknown = obj.getConfig?.();
    return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * A layer's name as the report keys it. tfjs always names a layer (and cannot build one named with a number), but
 * the script can rename it afterwards; the layer's unique id keeps a placeholder apart from every other layer's.
 */
export function layerName(layer: LayerLike): string {
  return nameOf(layer.name, `(unnamed ${classNameOf(layer, 'layer')} ${nameOf((layer as { id?: unknown }).id, '?')})`);
}

/**
 * A weight's name inside its listed layer: `kernel`, or for a wrapper's inner layers the part after the
 * wrapper's name (`forward_gru_GRU1/recurrent_kernel`), so a Bidirectional's two kernels read apart.
 */
export function shortWeightName(layerName: string, originalName: string): string {
  const prefix = `${layerName}/`;
  if (originalName.startsWith(prefix)) return originalName.slice(prefix.length);
  return originalName.split('/').pop() ?? originalName;
}

export function weightRole(originalName: string): WeightRole {
  const leaf = originalName.split('/').pop() ?? originalName;
  if (/kernel$/.test(leaf)) return 'kernel';
  if (leaf === 'bias') return 'bias';
  if (leaf === 'gamma') return 'gamma';
  if (leaf === 'beta') return 'beta';
  if (leaf === 'embeddings') return 'embedding';
  return 'other';
}
