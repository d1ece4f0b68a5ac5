import { displaySafe } from '../../shared/format';

/**
 * The Loss Lens panel's HTML, as a plain string: the VS Code host (asWebviewUri URIs, webview.cspSource)
 * and the standalone test harness both call this, so the page under test is the page that ships.
 */
export interface WebviewHtmlOptions {
  /** URI of dist/webview/main.js as the webview may load it. */
  scriptUri: string;
  /** URI of dist/webview/main.css. */
  styleUri: string;
  /** `webview.cspSource` in VS Code; the harness's own origin in tests. */
  cspSource: string;
  /** A fresh random nonce per page load (base64 or hex, at least 128 bits). */
  nonce: string;
  title?: string;
  /**
   * The script the panel is for: its name and "Starting…" are in the markup itself, so the panel's first
   * paint (before any script runs, in the theme's colours) already says what it is doing.
   */
  script?: string;
}

const ATTRIBUTE_ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&"<>']/g, (c) => ATTRIBUTE_ESCAPES[c]);
}

/**
 * Nothing inline, nothing remote: scripts only with the nonce, styles from the extension's files and the one
 * nonced <style> of the first paint (d3 sets element.style through the CSSOM, which CSP allows; style
 * attributes stay refused), images from blob: for the PNG export, and a blob: worker for the graph layout.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} blob: data:`,
    `font-src ${cspSource}`,
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * Just enough style for the first paint, in the theme's colours: the page, the header and its phase line.
 * The full stylesheet is linked after the header, and a stylesheet in the body only holds back what comes
 * after it, so the header paints while main.css (fetched through the webview's service worker) is on its
 * way. The same rules are in styles.css.
 */
export const FIRST_PAINT_CSS = [
  'html,body{margin:0;padding:0;background:var(--vscode-editor-background);color:var(--vscode-foreground);',
  'font-family:var(--vscode-font-family);font-size:var(--vscode-font-size,13px)}',
  '.ll-root{padding:8px 12px 16px}',
  '.ll-header{display:flex;align-items:flex-start;gap:8px 16px;flex-wrap:nowrap;margin-bottom:6px}',
  '.ll-title{font-size:1.25em;font-weight:600;margin:0;flex:none;white-space:nowrap}',
  '.ll-run{display:flex;gap:6px 12px;align-items:center;flex-wrap:wrap;min-width:0;flex:1 1 auto;padding-top:2px}',
  '.ll-script{font-weight:600}',
  '.ll-phase{display:inline-flex;align-items:center;gap:6px;color:var(--vscode-descriptionForeground)}',
  '.ll-spinner{width:10px;height:10px;border-radius:50%;border:2px solid currentColor;border-right-color:transparent;',
  'animation:ll-spin .9s linear infinite}@keyframes ll-spin{to{transform:rotate(360deg)}}',
  '.ll-run-action{margin-left:auto;flex:none;white-space:nowrap;font:inherit;padding:2px 10px;border-radius:2px;',
  'border:1px solid var(--vscode-button-border,transparent);',
  'background:var(--vscode-button-secondaryBackground,var(--vscode-button-background));',
  'color:var(--vscode-button-secondaryForeground,var(--vscode-button-foreground))}',
].join('');

export function renderWebviewHtml(options: WebviewHtmlOptions): string {
  const { scriptUri, styleUri, cspSource, nonce } = options;
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(nonce)) throw new Error('nonce must be at least 16 base64/hex characters');
  const title = escapeHtml(options.title ?? 'Loss Lens');
  const script = options.script ?? '';
  const name = escapeHtml(displaySafe(script.split(/[\\/]/).pop() || script));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${escapeHtml(nonce)}">${FIRST_PAINT_CSS}</style>
<title>${title}</title>
</head>
<body>
<div id="loss-lens-root" class="ll-root" aria-busy="true" data-script="${escapeHtml(script)}">
<header class="ll-header"><h1 class="ll-title">Loss Lens</h1>
<div class="ll-run">
<span class="ll-script" title="${escapeHtml(displaySafe(script))}">${name}</span>
<span class="ll-phase phase-starting" role="status"><span class="ll-spinner" aria-hidden="true"></span>
<span class="ll-phase-text">Starting…</span></span>
</div>
<button type="button" class="ll-button ll-run-action" title="Stop this run" aria-label="Stop this run">Cancel</button>
</header>
</div>
<link rel="stylesheet" href="${escapeHtml(styleUri)}">
<script nonce="${escapeHtml(nonce)}" src="${escapeHtml(scriptUri)}"></script>
</body>
</html>
`;
}
