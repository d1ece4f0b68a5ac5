import { findSourceMap, type SourceMap } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SourcePosition } from '../shared/protocol/run-data';

interface CallSiteLike {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  getFunctionName(): string | null;
  isConstructor(): boolean;
}

function toPath(fileOrUrl: string): string {
  try {
    return fileOrUrl.startsWith('file:') ? fileURLToPath(fileOrUrl) : fileOrUrl;
  } catch {
    return fileOrUrl;
  }
}

/** Frames captured for a creation site: deep enough to get out of tfjs-layers' constructors and factories. */
const CAPTURE_FRAMES = 60;

/**
 * Which frames are the user's, and where they are in the user's own files. The script runs as itself (no
 * bundle), so a JavaScript frame is already the user's file and line; a TypeScript file was transpiled with
 * an inline source map, which Node registered when it compiled the file (source maps are on in the runner),
 * so `findSourceMap` turns V8's generated position back into the .ts line.
 *
 * A user frame is one in the script itself, or in any file outside node_modules that is not Loss Lens's own
 * (see isOwn).
 */
export class UserFrames {
  private readonly scriptPath: string;
  private readonly ownDirs: string[];
  private readonly maps = new Map<string, SourceMap | null>();
  private readonly tempDir = path.resolve(os.tmpdir());

  constructor(scriptPath: string, ownDirs: string[]) {
    this.scriptPath = path.resolve(scriptPath);
    this.ownDirs = ownDirs.map((d) => path.resolve(d));
  }

  isUserFile(fileOrUrl: string | null | undefined): boolean {
    if (!fileOrUrl) return false;
    const file = toPath(fileOrUrl);
    if (!path.isAbsolute(file)) return false;
    const p = path.resolve(file);
    if (p === this.scriptPath) return true;
    if (p.split(path.sep).includes('node_modules')) return false;
    return !this.isOwn(p);
  }

  /**
   * Loss Lens's own code: its frames are left out of what the user sees. That is dist/, the run's folder, and
   * any `loss-lens-*` folder in the temp directory (the threaded wasm backend runs a copy of its glue from one).
   */
  isOwn(fileOrUrl: string): boolean {
    const p = path.resolve(toPath(fileOrUrl));
    if (this.ownDirs.some((d) => p === d || p.startsWith(d + path.sep))) return true;
    const rel = path.relative(this.tempDir, p);
    return !rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep)[0].startsWith('loss-lens-');
  }

  private sourceMapOf(fileName: string): SourceMap | null {
    let map = this.maps.get(fileName);
    if (map === undefined) {
      const file = toPath(fileName);
      map = findSourceMap(fileName) ?? findSourceMap(file) ?? findSourceMap(pathToFileURL(file).href) ?? null;
      // A map appears only once its module was compiled; remember a hit, not a miss.
      if (map) this.maps.set(fileName, map);
    }
    return map;
  }

  /** A V8 position (1-based) in a loaded file, as a position in the user's source, or null if not the user's. */
  mapPosition(fileName: string, line: number, column: number): SourcePosition | null {
    const map = this.sourceMapOf(fileName);
    if (!map) {
      const file = path.resolve(toPath(fileName));
      return this.isUserFile(file) ? { file, line, column } : null;
    }
    const entry = map.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return null;
    const file = path.resolve(path.dirname(toPath(fileName)), toPath(entry.originalSource));
    if (!this.isUserFile(file)) return null;
    return { file, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
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
      Error.stackTraceLimit = CAPTURE_FRAMES;
      Error.prepareStackTrace = (_e, cs) => cs;
      const holder: { stack?: unknown } = {};
      Error.captureStackTrace(holder, this.captureSite);
      sites = (holder.stack as CallSiteLike[]) ?? [];
    } finally {
      Error.prepareStackTrace = prevPrepare;
      Error.stackTraceLimit = prevLimit;
    }
    for (const site of sites) {
      const fileName = site.getFileName();
      if (!this.isUserFile(fileName)) continue;
      if (site.isConstructor() && skipConstructorsOf.has(site.getFunctionName() ?? '')) continue;
      const line = site.getLineNumber();
      const col = site.getColumnNumber();
      if (line == null || col == null) continue;
      const pos = this.mapPosition(fileName!, line, col);
      if (pos) return pos;
    }
    return null;
  }

  /** The first user frame of an error's stack text (Node has already mapped it through the source maps). */
  firstUserFrame(stack: string | undefined | null): SourcePosition | null {
    if (!stack) return null;
    for (const raw of stack.split('\n')) {
      const pos = frameOf(raw);
      if (pos && this.isUserFile(pos.file)) return { ...pos, file: path.resolve(pos.file) };
    }
    return null;
  }

  /** The stack without Loss Lens's own frames (its probes wrap tfjs, so they sit between tfjs frames). */
  withoutOwnFrames(stack: string): string {
    return stack
      .split('\n')
      .filter((line) => {
        const pos = frameOf(line);
        return !pos || !this.isOwn(pos.file);
      })
      .join('\n');
  }
}

/** `<file>:<line>:<column>` where the file is an absolute path or a file: URL (not node:internal/…). */
const LOCATION = /^((?:file:\/\/)?\/.+|[A-Za-z]:\\.+|file:\/\/\/[A-Za-z]:\/.+):(\d+):(\d+)$/;

/** The position of one `    at fn (file:line:col)` / `    at file:line:col` line of a V8 stack. */
function frameOf(raw: string): SourcePosition | null {
  const line = raw.trim();
  if (!line.startsWith('at ')) return null;
  const location = line.endsWith(')') ? line.slice(line.lastIndexOf('(') + 1, -1) : line.slice(3).replace(/^async /, '');
  const m = LOCATION.exec(location);
  if (!m) return null;
  return { file: toPath(m[1]), line: Number(m[2]), column: Number(m[3]) };
}
