// The --events recording: a file of ours that must never cost the user a file of theirs, nor hang the CLI.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What makes two paths one file: the same device and inode (hard links), or the same real path (symlinks). */
interface FileIdentity {
  dev: number;
  ino: number;
  real: string;
}

function identityOf(file: string): FileIdentity | null {
  try {
    const st = fs.statSync(file);
    return { dev: st.dev, ino: st.ino, real: fs.realpathSync(file) };
  } catch {
    return null;
  }
}

/** The real path a file that does not exist yet would have: its folder's real path and its name. */
function realTarget(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  }
}

/** Same inode on the same device: a hard link or the file itself. Inode 0 (some Windows file systems) proves nothing. */
const sameInode = (a: { dev: number; ino: number }, b: { dev: number; ino: number }) => a.ino !== 0 && a.dev === b.dev && a.ino === b.ino;

// O_NONBLOCK: opening a FIFO nobody reads fails at once (ENXIO) instead of blocking forever, and a write into a
// full pipe fails (EAGAIN) instead of waiting for a reader that may never read. No O_TRUNC: the file is emptied
// only after fstat proved it is not one of the user's (a file swapped in after the check is never truncated).
const OPEN_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | (fs.constants.O_NONBLOCK ?? 0);

export class RefusedPath extends Error {}

/**
 * The runner's events as NDJSON in FILE. Opened only when the first event comes (after the scan), never on the
 * script or a file the scan read, never blocking; any trouble after that stops the recording with a notice and
 * the analysis goes on.
 */
export class EventRecording {
  private fd: number | null = null;
  private protectedFiles: Array<{ file: string; id: FileIdentity }> = [];
  private stopped: string | null = null;
  private readonly shown: string;

  /**
   * Checks what can be checked before anything runs: FILE is not the script, not a folder, and its folder exists.
   * Throws RefusedPath with the reason otherwise.
   */
  constructor(
    readonly file: string,
    script: string,
  ) {
    this.shown = file;
    const st = statOrNull(file);
    if (st?.isDirectory()) throw new RefusedPath(`--events: cannot write ${file} (EISDIR)`);
    // Neither call opens the file: a FIFO is not touched before the run has something to write.
    try {
      fs.accessSync(st ? file : path.dirname(path.resolve(file)), fs.constants.W_OK);
    } catch (err) {
      throw new RefusedPath(`--events: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const clash = this.protect([path.resolve(script)], 'the script');
    if (clash) throw new RefusedPath(clash);
  }

  /**
   * Files that must never be written over (the scan's list). Returns why FILE is refused when it is one of them,
   * else null; they stay protected when the file is opened.
   */
  protect(files: readonly string[], what = 'a file the script reads'): string | null {
    const target = realTarget(this.file);
    const mine = identityOf(this.file);
    for (const file of files) {
      const id = identityOf(file);
      if (!id) continue;
      this.protectedFiles.push({ file, id });
      if (id.real === target || (mine && sameInode(id, mine))) {
        const how = id.real === target ? (path.resolve(this.file) === path.resolve(file) ? '' : ' (through a link)') : ' (a hard link to it)';
        return `--events ${this.shown} is ${what}, ${file}${how}; Loss Lens never writes over the script or the files it reads`;
      }
    }
    return null;
  }

  /**
   * Why FILE is refused when it is the file behind one of our own descriptors (stdout, where the report goes:
   * `--events out.json > out.json` would cut the report with the recording), else null.
   */
  sameAsDescriptor(fd: number, what: string): string | null {
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch {
      return null;
    }
    const mine = identityOf(this.file);
    return mine && sameInode(mine, st) ? `--events ${this.shown} is ${what}; the recording needs a file of its own` : null;
  }

  /** Appends one line; the first call opens the file. Never throws and never blocks. */
  write(line: string): void {
    if (this.stopped !== null) return;
    if (this.fd === null && !this.open()) return;
    const buf = Buffer.from(line, 'utf8');
    let offset = 0;
    try {
      while (offset < buf.length) offset += fs.writeSync(this.fd!, buf, offset, buf.length - offset);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.stop(
        code === 'EAGAIN'
          ? `the recording stopped early: the reader of ${this.shown} did not keep up (EAGAIN)${offset > 0 ? '; its last line is cut' : ''}`
          : `the recording stopped early (${code ?? (err as Error).message})`,
      );
    }
  }

  /** Why the recording is short or missing, when it is; null when every event was written. */
  get problem(): string | null {
    return this.stopped === null ? null : `--events: ${this.stopped}.`;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private open(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.file, OPEN_FLAGS, 0o666);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.stop(code === 'ENXIO' ? `nobody reads the FIFO ${this.shown}, so no recording was written` : `cannot write ${this.shown} (${code ?? (err as Error).message}); no recording was written`);
      return false;
    }
    const st = fs.fstatSync(fd);
    const clash = this.protectedFiles.find((p) => sameInode(p.id, st));
    if (clash) {
      fs.closeSync(fd);
      this.stop(`${this.shown} became ${clash.file} after the check; nothing was written to it`);
      return false;
    }
    this.fd = fd;
    try {
      if (st.isFile()) fs.ftruncateSync(fd, 0);
    } catch (err) {
      this.stop(`cannot empty ${this.shown} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); no recording was written`);
      return false;
    }
    return true;
  }

  private stop(why: string): void {
    this.stopped = why;
    this.close();
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}
