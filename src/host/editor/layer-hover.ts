/**
 * The hover of an inline note, as markdown (pure: no vscode, so unit tests read exactly what a user sees).
 * The table comes first, since VS Code stacks the Problems messages of the line above a decoration's hover and the
 * table is what only this hover has; every column of a decayed weight says something; no number wraps.
 */
import type { LineNote, WeightNote } from '../../shared/analysis/layer-notes';
import { formatFactor, formatNumber, formatPercent, formatShape } from '../../shared/format';

const escapeMarkdown = (text: string) => text.replace(/[\\`*_[\]<>()#|!]/g, '\\$&');

/**
 * A table cell that never wraps: spaces become no-break spaces and a word joiner follows each hyphen and minus
 * ("L2 1e-3" stays on one line instead of "L2 1e-" / "3"). The hover sanitizer drops style attributes, so no
 * `white-space: nowrap` span would survive; these characters do, and copy as what they look like.
 */
export function noWrap(text: string): string {
  return text.replace(/ /g, '\u00a0').replace(/([-−–])/g, '$1\u2060');
}

const HEADER = ['weight', 'shape', 'decay', 'minimized loss', 'decay/step (SGD)', 'shrinks per step (measured)', '‖w‖', 'share of loss'];

/** The plain-SGD decay factor: the one computed for the optimizer if it is SGD-like, else plain SGD's reference. */
function sgdColumn(w: WeightNote): string {
  if (w.decayPerStep !== undefined) return `×${formatFactor(w.decayPerStep)}`;
  const sgd = w.effectiveDecay?.sgdEquivalent;
  if (sgd != null) return `×${formatFactor(1 - sgd)}`;
  return w.regularizer ? 'n/a' : '—';
}

function measuredColumn(w: WeightNote): string {
  const d = w.effectiveDecay;
  if (d?.median != null) return formatNumber(d.median, 2);
  if (d?.unavailable) return 'not measured';
  if (!w.trained) return 'not trained';
  return w.regularizer || w.decoupled ? 'waiting for a step' : '—';
}

function verdictColumn(w: WeightNote): string {
  if (w.regularizer === null) return w.decoupled ? 'outside the loss' : '—';
  if (!w.trained) return 'not trained';
  return w.reaches === null ? 'pending' : w.reaches ? '✓ reaches' : '⚠ **never reaches**';
}

function weightRow(w: WeightNote, prefix: string): string {
  const decay = [w.regularizer, w.decoupled].filter(Boolean).join(', ') || 'none';
  const cells = [
    `\`${noWrap(prefix + w.shortName)}\``,
    formatShape(w.shape),
    escapeMarkdown(decay),
    verdictColumn(w),
    sgdColumn(w),
    measuredColumn(w),
    w.norm === null ? '—' : formatNumber(w.norm),
    w.share === null ? '—' : formatPercent(w.share, 1),
  ];
  return `| ${cells.map(noWrap).join(' | ')} |`;
}

/** `link(layer)` gives the "Show in Loss Graph" link target for a layer (a command URI in VS Code). */
export function hoverMarkdown(note: LineNote, link: (layer: string) => string): string {
  const several = note.layers.length > 1;
  const rows = note.layers.flatMap((l) => l.weights.map((w) => weightRow(w, several ? `${l.name}/` : '')));
  const parts: string[] = [];
  if (rows.length) parts.push([`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...rows].join('\n'));
  parts.push(`**Loss Lens** · ${escapeMarkdown(note.text)}`);
  for (const l of note.layers) {
    parts.push(`${escapeMarkdown(l.name)} (${escapeMarkdown(l.className)}) · [Show in Loss Graph](${link(l.name)})`);
    // What each decay really does under the optimizer that trains it, in words.
    for (const w of l.weights) if (w.decaySentence) parts.push(`**${escapeMarkdown(w.shortName)}**: ${escapeMarkdown(w.decaySentence)}`);
  }
  return parts.join('\n\n') + '\n\n';
}
