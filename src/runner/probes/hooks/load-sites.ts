// Where a loaded model's layers come from: tfjs builds them from the saved topology in a promise continuation,
// where no frame of the script's is on the stack, so the line that loaded the model is their line.
import type { SourcePosition } from '../../../shared/protocol/run-data';
import { nestedLayers, writableExportHome, type LayerLike, type Tf } from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';

/** The functions that build layers from a saved model, by where they live: `tf.<name>` or `tf.models.<name>`. */
const LOADERS = [
  { path: [], name: 'loadLayersModel' },
  { path: ['models'], name: 'modelFromJSON' },
] as const;

type AsyncFn = (this: unknown, ...args: unknown[]) => unknown;

export class LoadSites {
  /** Loads under way, oldest first, each with the line that started it. */
  private readonly pending: Array<{ site: SourcePosition | null }> = [];

  constructor(
    private readonly frames: UserFrames,
    /** Told once a load resolves: every layer of the model it returned, and the line that loaded it. */
    private readonly onLoaded: (layers: LayerLike[], site: SourcePosition | null) => void,
  ) {}

  /** True while a load is under way (a layer built now with no line of the script's on the stack is the load's). */
  loading(): boolean {
    return this.pending.length > 0;
  }

  /** The line of the latest load under way. */
  site(): SourcePosition | null {
    return this.pending[this.pending.length - 1]?.site ?? null;
  }

  install(tf: Tf): void {
    for (const loader of LOADERS) {
      let holder: unknown = tf;
      for (const key of loader.path) holder = (holder as Record<string, unknown> | undefined)?.[key];
      const home = holder ? writableExportHome(holder as object, loader.name) : null;
      if (home) home[loader.name] = this.wrap(home[loader.name] as AsyncFn);
    }
  }

  private wrap(original: AsyncFn): AsyncFn {
    const sites = this;
    return function load(this: unknown, ...args: unknown[]) {
      const entry = { site: sites.frames.captureSite() };
      sites.pending.push(entry);
      const done = () => {
        const i = sites.pending.indexOf(entry);
        if (i >= 0) sites.pending.splice(i, 1);
      };
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        done();
        throw err;
      }
      return Promise.resolve(result).then(
        (model) => {
          done();
          sites.onLoaded(layersOf(model), entry.site);
          return model;
        },
        (err: unknown) => {
          done();
          throw err;
        },
      );
    };
  }
}

/** Every layer of a loaded model: its layers, theirs (nested models), and the cells and layers they wrap. */
export function layersOf(model: unknown): LayerLike[] {
  const out: LayerLike[] = [];
  const seen = new Set<unknown>();
  const visit = (x: unknown, depth: number) => {
    if (typeof x !== 'object' || x === null || seen.has(x) || depth > 32) return;
    seen.add(x);
    const layer = x as LayerLike;
    if (Array.isArray(layer._losses)) out.push(layer);
    if (Array.isArray(layer.layers)) for (const l of layer.layers) visit(l, depth + 1);
    if (Array.isArray(layer._losses)) for (const n of nestedLayers(layer)) visit(n.layer, depth + 1);
  };
  visit(model, 0);
  return out;
}
