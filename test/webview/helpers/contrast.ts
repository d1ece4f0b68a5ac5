/**
 * WCAG 2.1 text contrast of everything the panel shows, measured in the page on the computed styles:
 * each visible text node's colour (CSS `color`, or `fill` for SVG text) with the opacity of its ancestors,
 * composited over what is behind it (the nearest opaque background, or for SVG text the shape it sits on).
 * `auditContrast` is passed to page.evaluate, so it is self-contained: no imports, no closures.
 */
export interface ContrastIssue {
  text: string;
  where: string;
  ratio: number;
  needed: number;
  fg: string;
  bg: string;
}

export function auditContrast(): ContrastIssue[] {
  type RGBA = [number, number, number, number];
  const parse = (c: string): RGBA | null => {
    let m = c.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    m = c.match(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/);
    if (m) return [+m[1] * 255, +m[2] * 255, +m[3] * 255, m[4] === undefined ? 1 : +m[4]];
    return null;
  };
  const over = (top: RGBA, under: RGBA): RGBA => {
    const a = top[3];
    return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
  };
  const lum = (c: RGBA) => {
    const ch = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  };
  const ratio = (a: RGBA, b: RGBA) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const hex = (c: RGBA) => `#${c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  const opacityOf = (el: Element | null): number => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity || '1');
    return o;
  };
  /** The opaque colour behind an HTML element: its own and its ancestors' backgrounds, composited. */
  const htmlBackground = (el: Element | null): RGBA => {
    const layers: RGBA[] = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) break;
      }
    }
    let c: RGBA = [255, 255, 255, 1];
    for (const l of layers.reverse()) c = over(l, c);
    return c;
  };
  /** What SVG text sits on: the shape its group draws under it (node box, badge, label plate), over the page. */
  const svgBackground = (text: Element): RGBA => {
    const page = htmlBackground(text.closest('svg')!.parentElement);
    const plate = text.closest('.ll-badge, .ll-edge-label, .ll-node');
    const shape = plate?.querySelector(plate.classList.contains('ll-node') ? ':scope > rect.ll-node-box' : ':scope > rect');
    if (!shape) return page;
    const cs = getComputedStyle(shape);
    const fill = parse(cs.fill);
    if (!fill) return page;
    fill[3] *= Number(cs.fillOpacity || '1') * Number(cs.opacity || '1');
    return over(fill, page);
  };
  const issues: ContrastIssue[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = (n.textContent ?? '').trim();
    const el = n.parentElement;
    if (!text || !el || el.closest('script, style, option, [hidden], [aria-hidden="true"]')) continue;
    // Only what is on screen: a closed <details> hides its body, display:none hides everything under it.
    if (el.getClientRects().length === 0) continue;
    const details = el.closest('details');
    if (details && !details.open && !el.closest('summary')) continue;
    // A curve switched off in its legend is shown dimmed on purpose (it says "off"); an inactive control.
    if (el.closest('.ll-legend-toggle.off, :disabled')) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden') continue;
    const isSvg = el instanceof SVGElement;
    const fg = parse(isSvg ? cs.fill : cs.color);
    if (!fg) continue;
    fg[3] *= opacityOf(el) * (isSvg ? Number(cs.fillOpacity || '1') : 1);
    const bg = isSvg ? svgBackground(el) : htmlBackground(el);
    const shown = over(fg, bg);
    const size = parseFloat(cs.fontSize);
    const bold = Number(cs.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const r = ratio(shown, bg);
    if (r + 1e-6 < needed) {
      const where = [el.tagName.toLowerCase(), ...[...el.classList].slice(0, 2)].join('.');
      issues.push({ text: text.slice(0, 60), where, ratio: Math.round(r * 100) / 100, needed, fg: hex(shown), bg: hex(bg) });
    }
  }
  return issues;
}
