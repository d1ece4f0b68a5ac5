/** The layout worker's bundled source, inlined by esbuild.mjs. */
declare module 'virtual:layout-worker' {
  const source: string;
  export default source;
}

/** CSS imported for its side effect: esbuild emits it as dist/webview/main.css. */
declare module '*.css';
