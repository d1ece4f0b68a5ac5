// What looking at the script yields (the scan's result and its errors), shared by script-scan, script-transpile and
// script-commonjs: the lowest module of the three, so none of them imports another only for a type.
import type * as esbuild from 'esbuild';
import * as path from 'node:path';
import type { SourcePosition } from '../shared/protocol/run-data';
import type { TranspiledModule } from '../shared/protocol/runner-protocol';

export interface ScanOk {
  ok: true;
  /** The @tensorflow packages the script imports (statically, from its own files or its dependencies). */
  tfjsImports: string[];
  /** The user's own files the script reaches statically (not node_modules). */
  userFiles: string[];
  /**
   * Every file of the user's the scan read: the script, its own files, and each package.json consulted for
   * "type". Nothing Loss Lens writes (an --events recording) may land on one of them.
   */
  readFiles: string[];
  /** Every TypeScript file among them (and JavaScript written for Babel), transpiled in the run's folder. */
  transpiled: Record<string, TranspiledModule>;
  /** User ES modules only ever require()d, by path → a CommonJS version of each (see InitCommand.requiredEsm). */
  requiredEsm: Record<string, string>;
  /** Said once in the report: what Loss Lens ran differently from plain node, and why. */
  notices: string[];
  scanMs: number;
}

/** A build error in the user's code, with where it is when esbuild knows. */
export interface ScanError {
  message: string;
  source: SourcePosition | null;
}

export interface ScanFailure {
  ok: false;
  /** The script itself does not exist (as opposed to failing to build). */
  missing: boolean;
  errors: ScanError[];
}

/** esbuild's messages as the run's build errors: its file paths are relative to the build's working folder `dir`, its columns 0-based. */
export function scanErrors(messages: readonly esbuild.Message[], dir: string): ScanError[] {
  return messages.map((e) => ({
    message: e.text,
    source: e.location ? { file: path.resolve(dir, e.location.file), line: e.location.line, column: e.location.column + 1 } : null,
  }));
}
