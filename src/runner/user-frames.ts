import { findSourceMap, type SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as path from 'node:path';
import type { SourcePosition } from '../shared/protocol/run-data';

interface CallSiteLike {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  getFunctionName(): string | null;
  isConstructor(): boolean;
}

function toPath(fileOrUrl: string): string {
  return fileOrUrl.startsWith('file:') ? fileURLToPath(fileOrUrl) : fileOrUrl;
}

/**
 * Maps positions in the esbuild bundle back to the user's files, with Node's own
 * source-map support (the runner starts with --enable-source-maps).
 */
export class UserFrames {
  private readonly bundlePath: string;
  private readonly bundleUrl: string;
  private readonly userSources: Set<string>;
  private map: SourceMap | undefined;

  constructor(bundlePath: string, userSources: string[]) {
    this.bundlePath = path.resolve(bundlePath);
    this.bundleUrl = pathToFileURL(this.bundlePath).href;
    this.userSources = new Set(userSources.map((s) => path.resolve(s)));
  }

  private sourceMap(): SourceMap | undefined {
    // The map is known to Node only once the bundle has been imported.
    this.map ??= findSourceMap(this.bundleUrl) ?? findSourceMap(this.bundlePath);
    return this.map;
  }

  isBundle(fileName: string | null | undefined): boolean {
    return fileName === this.bundleUrl || fileName === this.bundlePath;
  }

  /** Map a 1-based position in the bundle to the user's file, or null if it is not user code. */
  mapBundlePosition(line: number, column: number): SourcePosition | null {
    const entry = this.sourceMap()?.findEntry(line - 1, column - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return null;
    const file = path.resolve(path.dirname(this.bundlePath), toPath(entry.originalSource));
    if (!this.isUserFile(file)) return null;
    return { file, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
  }

  isUserFile(file: string): boolean {
    return this.userSources.has(path.resolve(file));
  }

  /**
   * The innermost user frame of the current stack. `skipConstructorsOf` holds class names whose
   * constructor frames are the object being built (a user's Layer subclass calling super()),
   * so the position reported is where the object was created, not the class body.
   */
  captureSite(skipConstructorsOf: ReadonlySet<string> = new Set()): SourcePosition | null {
    const prevPrepare = Error.prepareStackTrace;
    const prevLimit = Error.stackTraceLimit;
    let sites: CallSiteLike[] = [];
    try {
      Error.stackTraceLimit = 60;
      Error.prepareStackTrace = (_e, cs) => cs;
      const holder: { stack?: unknown } = {};
      Error.captureStackTrace(holder, this.captureSite);
      sites = (holder.stack as CallSiteLike[]) ?? [];
    } finally {
      Error.prepareStackTrace = prevPrepare;
      Error.stackTraceLimit = prevLimit;
    }
    for (const site of sites) {
      if (!this.isBundle(site.getFileName())) continue;
      if (site.isConstructor() && skipConstructorsOf.has(site.getFunctionName() ?? '')) continue;
      const line = site.getLineNumber();
      const col = site.getColumnNumber();
      if (line == null || col == null) continue;
      const pos = this.mapBundlePosition(line, col);
      if (pos) return pos;
    }
    return null;
  }

  /**
   * The first user frame of an error's stack text. With --enable-source-maps Node has already
   * mapped the frames to original files, so this only picks the right one.
   */
  firstUserFrame(stack: string | undefined): SourcePosition | null {
    if (!stack) return null;
    const frame = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?\s*$/;
    for (const raw of stack.split('\n')) {
      const line = raw.trim();
      if (!line.startsWith('at ')) continue;
      const m = frame.exec(line);
      if (!m) continue;
      const file = toPath(m[1]);
      const pos = { file, line: Number(m[2]), column: Number(m[3]) };
      if (this.isUserFile(file)) return pos;
      if (this.isBundle(m[1])) {
        const mapped = this.mapBundlePosition(pos.line, pos.column);
        if (mapped) return mapped;
      }
    }
    return null;
  }
}
