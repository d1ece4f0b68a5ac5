import { createRequire } from 'node:module';

// Node's own util object, which tfjs-node requires: an `import * as` namespace would be a copy.
const util = createRequire(__filename)('node:util') as Record<string, unknown>;

/**
 * tfjs-node 4.22 calls `util.isNullOrUndefined` and `util.isArray` from Node's util module on every op with
 * tensor inputs. Node 23 removed both (deprecated since Node 4), so on Node 24, the runtime of VS Code's
 * extension host, tfjs-node loads and then throws at its first op. Put them back, with the semantics Node
 * had, before tfjs-node is required, and only where they are missing: the script then runs as it does under
 * the Node ≤ 22 that tfjs-node supports.
 */
export function restoreUtilForTfjsNode(): void {
  const restore = (name: string, fn: (v: unknown) => boolean) => {
    if (typeof util[name] === 'function') return;
    try {
      Object.defineProperty(util, name, { value: fn, writable: true, configurable: true, enumerable: true });
    } catch {
      // A frozen util (not Node's own) keeps its shape; tfjs-node then fails as it would without Loss Lens.
    }
  };
  restore('isNullOrUndefined', (v) => v === null || v === undefined);
  restore('isArray', (v) => Array.isArray(v));
}
