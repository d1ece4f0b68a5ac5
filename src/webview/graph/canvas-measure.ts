import type { TextKind, TextMeasure } from './node-size';

/** The fonts the graph's SVG text is drawn in (styles.css): keep the two in step. */
const FONTS: Record<TextKind, (family: string, mono: string) => string> = {
  label: (f) => `600 12px ${f}`,
  detail: (f) => `11px ${f}`,
  badge: (f) => `600 11px ${f}`,
  edge: (_f, mono) => `10px ${mono}`,
};

/**
 * Text widths measured with a canvas in the graph's own fonts (the theme's --vscode-font-family), cached
 * per string: node boxes are as wide as their text, so labels are cut only at the widest a node may be.
 */
export function canvasMeasure(svg: SVGSVGElement): TextMeasure {
  const ctx = svg.ownerDocument.createElement('canvas').getContext('2d');
  const style = getComputedStyle(svg);
  const family = style.fontFamily || 'sans-serif';
  const mono = style.getPropertyValue('--vscode-editor-font-family').trim() || 'monospace';
  const cache = new Map<string, number>();
  return {
    width(text, kind) {
      if (!ctx) return text.length * 7;
      const key = `${kind}\u0000${text}`;
      let w = cache.get(key);
      if (w === undefined) {
        ctx.font = FONTS[kind](family, mono);
        w = ctx.measureText(text).width;
        cache.set(key, w);
      }
      return w;
    },
  };
}
