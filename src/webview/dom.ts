import { select, type Selection } from 'd3';
import { displaySafe } from '../shared/format';

/**
 * Tiny DOM helpers. Every string from the user's script (layer names, messages, paths) goes in through
 * textContent (d3's .text()), never innerHTML: names are untrusted. `el` also passes its text through
 * displaySafe(), so control and bidi characters show as escapes instead of reordering what is read.
 */
export type Sel<E extends Element = HTMLElement> = Selection<E, unknown, null, undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(
  parent: Element,
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = parent.ownerDocument.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = displaySafe(text);
  parent.appendChild(e);
  return e;
}

/** Like `el`, for a multi-line message from the script (an error): newlines are kept, shown as line breaks. */
export function message<K extends keyof HTMLElementTagNameMap>(parent: Element, tag: K, className: string, text: string): HTMLElementTagNameMap[K] {
  const e = el(parent, tag, `${className} ll-multiline`.trim());
  e.textContent = displaySafe(text, { keepNewlines: true });
  return e;
}

export function button(parent: Element, label: string, title: string, onClick: () => void, className = 'll-button'): HTMLButtonElement {
  const b = el(parent, 'button', className, label);
  b.type = 'button';
  b.title = title;
  b.setAttribute('aria-label', title);
  b.addEventListener('click', onClick);
  return b;
}

/**
 * Sentences that hold names and numbers ("@tensorflow/tfjs-node", "model.calculateLosses()", "2e-6"): each such
 * token is kept on one line (styles.css .ll-token), so a narrow column wraps between words, never at a token's
 * hyphen or slash. A token wider than the line still breaks, as a last resort. Replaces the element's children.
 */
export function setProse(e: HTMLElement, text: string): void {
  e.replaceChildren();
  const doc = e.ownerDocument;
  for (const part of displaySafe(text).split(/(\S*[-/–]\S*)/)) {
    if (!part) continue;
    if (/[-/–]/.test(part) && /\S/.test(part)) {
      const span = doc.createElement('span');
      span.className = 'll-token';
      // Too wide for the line after all ("layer_name/gamma" in a narrow column): break after a slash, not mid-word.
      part.split(/(?<=\/)/).forEach((piece, i) => {
        if (i > 0) span.appendChild(doc.createElement('wbr'));
        span.appendChild(doc.createTextNode(piece));
      });
      e.appendChild(span);
    } else e.appendChild(doc.createTextNode(part));
  }
}

/** Like `el`, for a sentence with names and numbers in it (see setProse). */
export function prose<K extends keyof HTMLElementTagNameMap>(parent: Element, tag: K, className: string, text: string): HTMLElementTagNameMap[K] {
  const e = el(parent, tag, className);
  setProse(e, text);
  return e;
}

export function sel<E extends Element>(e: E): Sel<E> {
  return select(e) as unknown as Sel<E>;
}

/** A titled panel section with its toolbar: the shape every Loss Lens panel shares. */
export function panelSection(
  parent: HTMLElement,
  className: string,
  titleId: string,
  title: string,
  toolbarLabel: string,
): { root: HTMLElement; tools: HTMLElement } {
  const root = el(parent, 'section', `ll-panel ${className}`);
  root.setAttribute('aria-labelledby', titleId);
  const header = el(root, 'header', 'll-panel-header');
  el(header, 'h2', 'll-panel-title', title).id = titleId;
  const tools = el(header, 'div', 'll-toolbar');
  tools.setAttribute('role', 'toolbar');
  tools.setAttribute('aria-label', toolbarLabel);
  return { root, tools };
}
