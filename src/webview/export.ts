import type { ExportFormat, WebviewToHost } from '../shared/panel/webview-protocol';
import { toWireJson } from '../shared/protocol/wire-number';
import type { Series } from '../shared/model/run-state';

/**
 * Exports. The webview cannot write files: it hands the bytes to the host, which asks where to save.
 * SVG colours come from CSS variables that mean nothing outside VS Code, so the copy gets the
 * resolved colours as presentation attributes (not style attributes, which the CSP forbids).
 */
const PAINT = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'opacity', 'fill-opacity', 'stroke-opacity', 'font-size', 'font-family', 'font-weight', 'display', 'visibility'] as const;

export function standaloneSvg(svg: SVGSVGElement, bounds: { x: number; y: number; width: number; height: number }): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  // The copy shows the whole graph, not the current zoom.
  clone.querySelector('g.ll-viewport')?.removeAttribute('transform');
  const originals = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
  const view = svg.ownerDocument.defaultView!;
  originals.forEach((o, i) => {
    const c = copies[i];
    const cs = view.getComputedStyle(o);
    for (const p of PAINT) {
      const v = cs.getPropertyValue(p);
      if (v) c.setAttribute(p, v);
    }
    c.removeAttribute('tabindex');
    c.removeAttribute('class');
  });
  const pad = 16;
  const vb = [bounds.x - pad, bounds.y - pad, bounds.width + 2 * pad, bounds.height + 2 * pad];
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('viewBox', vb.join(' '));
  clone.setAttribute('width', String(vb[2]));
  clone.setAttribute('height', String(vb[3]));
  const bg = svg.ownerDocument.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('x', String(vb[0]));
  bg.setAttribute('y', String(vb[1]));
  bg.setAttribute('width', String(vb[2]));
  bg.setAttribute('height', String(vb[3]));
  bg.setAttribute('fill', view.getComputedStyle(svg.ownerDocument.body).backgroundColor || '#ffffff');
  clone.insertBefore(bg, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

/** Rasterize the standalone SVG at 2× (capped so huge graphs stay within canvas limits). */
export async function svgToPngBase64(svgText: string, width: number, height: number): Promise<string> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('could not rasterize the SVG'));
      img.src = url;
    });
    const scale = Math.min(2, 16000 / width, 16000 / height);
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    const dataUrl = canvas.toDataURL('image/png');
    return dataUrl.slice(dataUrl.indexOf(',') + 1);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function cell(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return Number.isFinite(v) ? String(v) : String(v);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Every raw step as CSV: fixed columns, then one per penalty term and one per weight norm. */
export function seriesToCsv(series: Series): string {
  const terms = Object.keys(series.terms);
  const norms = Object.keys(series.weightNorms);
  const header = ['step', 'totalLoss', 'dataLoss', 'regularizationLoss', 'learningRate', 'wallMs', ...terms.map((t) => `term:${t}`), ...norms.map((w) => `weightNorm:${w}`)];
  const lines: string[] = [header.map(csvField).join(',')];
  for (let i = 0; i < series.step.length; i++) {
    const row = [
      String(series.step[i]),
      cell(series.totalLoss[i]),
      cell(series.dataLoss[i]),
      cell(series.regularizationLoss[i]),
      cell(series.learningRate[i]),
      cell(series.wallMs[i]),
      ...terms.map((t) => cell(series.terms[t][i])),
      ...norms.map((w) => cell(series.weightNorms[w][i])),
    ];
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

export function seriesToJson(script: string, objective: number, series: Series): string {
  return toWireJson({ script, objective, series });
}

const EXPORTS = {
  'graph-svg': { ext: 'svg', mime: 'image/svg+xml', kind: 'loss-graph', encoding: 'utf8' },
  'graph-png': { ext: 'png', mime: 'image/png', kind: 'loss-graph', encoding: 'base64' },
  'curves-csv': { ext: 'csv', mime: 'text/csv', kind: 'curves', encoding: 'utf8' },
  'curves-json': { ext: 'json', mime: 'application/json', kind: 'curves', encoding: 'utf8' },
} as const;

/** The message that hands an export to the host, named after the script: `train.loss-graph.svg`. */
export function exportMessage(format: ExportFormat, script: string | null, data: string): Extract<WebviewToHost, { type: 'export' }> {
  const base = (script?.split(/[\\/]/).pop() || 'run').replace(/\.[^.]+$/, '');
  const e = EXPORTS[format];
  return { type: 'export', format, suggestedName: `${base}.${e.kind}.${e.ext}`, mime: e.mime, encoding: e.encoding, data };
}
