import type { WebviewToHost } from '../shared/panel/webview-protocol';

/** What VS Code's acquireVsCodeApi() returns; declared here so no vscode types reach the webview. */
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

/**
 * The one place the webview talks to its host. Inside VS Code that is acquireVsCodeApi(); anywhere
 * else (the standalone harness, a saved report) it is the parent window, with the UI state kept in
 * sessionStorage so a reload restores it the way VS Code's getState does.
 */
export interface HostBridge {
  post(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
  /** Messages from the host, unchecked: the caller parses them. */
  onMessage(handler: (data: unknown) => void): void;
  readonly kind: 'vscode' | 'window';
}

const STATE_KEY = 'loss-lens.webview-state';

export function connectHost(win: Window = window): HostBridge {
  const onMessage = (handler: (data: unknown) => void) => {
    win.addEventListener('message', (event: MessageEvent) => {
      // Outside VS Code only the embedding page may talk to us.
      if (bridge.kind === 'window' && event.source !== win.parent && event.source !== win) return;
      handler(event.data);
    });
  };
  let bridge: HostBridge;
  if (typeof acquireVsCodeApi === 'function') {
    const api = acquireVsCodeApi();
    bridge = {
      kind: 'vscode',
      post: (m) => api.postMessage(m),
      getState: () => api.getState(),
      setState: (s) => api.setState(s),
      onMessage,
    };
  } else {
    bridge = {
      kind: 'window',
      post: (m) => win.parent.postMessage(m, '*'),
      getState: () => {
        try {
          const raw = win.sessionStorage.getItem(STATE_KEY);
          return raw ? JSON.parse(raw) : undefined;
        } catch {
          return undefined;
        }
      },
      setState: (s) => {
        try {
          win.sessionStorage.setItem(STATE_KEY, JSON.stringify(s));
        } catch {
          // Storage can be off (sandboxed frame); the state is then only lost on reload.
        }
      },
      onMessage,
    };
  }
  return bridge;
}
