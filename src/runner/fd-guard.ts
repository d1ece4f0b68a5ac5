/**
 * Descriptors that exist only because Loss Lens runs threads in the script's process: each worker thread (the host
 * watchdog, every wasm pthread) is a Node Worker with its own libuv loop, so its epoll, eventfd and wake-up pipe take
 * numbers that are closed under plain node (18–30 or so). A stray write to one lands in that loop, which then reads
 * garbage and the whole run dies with SIGSEGV. Writes through `fs` to such a descriptor fail instead with the EBADF
 * plain node gives, and a message that says what it is. (Linux, where /proc tells what a descriptor is.)
 *
 * Only the runtime's own kinds are refused: an epoll or eventfd, or a pipe with both ends in this process (which
 * JavaScript cannot make). The script's files, sockets and pipes to its children are never touched, nor are the
 * descriptors Node itself had open before Loss Lens started anything (the same as under plain node).
 */
import * as fsNamespace from 'node:fs';
import { createRequire } from 'node:module';

// The module object itself (what the script's require('fs') returns), not the bundler's read-only namespace of it.
const fs = createRequire(__filename)('node:fs') as typeof fsNamespace;
const readlink = fs.readlinkSync;
const readdir = fs.readdirSync;

/** The descriptors open now: call first thing, before Loss Lens opens anything. */
export function descriptorsNow(): Set<number> {
  if (process.platform !== 'linux') return new Set();
  try {
    return new Set(readdir('/proc/self/fd').map(Number));
  } catch {
    return new Set();
  }
}

function linkOf(fd: number): string | null {
  try {
    return readlink(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** What the descriptor is, if it is one of a thread's event-loop descriptors; else null. */
function runtimeKind(fd: number): string | null {
  const link = linkOf(fd);
  if (link === 'anon_inode:[eventpoll]') return 'an epoll descriptor';
  if (link === 'anon_inode:[eventfd]') return 'an eventfd';
  if (link?.startsWith('pipe:')) {
    let ends = 0;
    for (const f of readdir('/proc/self/fd')) if (linkOf(Number(f)) === link) ends++;
    if (ends > 1) return 'a wake-up pipe';
  }
  return null;
}

function refusal(fd: number, kind: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(
    `EBADF: bad file descriptor, write (fd ${fd} is not open under plain node; under Loss Lens it is ${kind} of a worker thread's event loop ` +
      "(Loss Lens's wasm threads or its watchdog), and a write there would crash the run)",
  );
  err.errno = -9;
  err.code = 'EBADF';
  err.syscall = 'write';
  return err;
}

/** Makes fs's write functions refuse the thread descriptors that were not open at `nodeOwn` time. */
export function guardThreadDescriptors(nodeOwn: Set<number>): void {
  if (process.platform !== 'linux' || nodeOwn.size === 0) return;
  // Descriptors already seen to be the script's own (a log file): later writes pass without a look, until it closes
  // them through fs. A thread's descriptor is looked at on every write (rare), so a reused number is never refused.
  const scripts = new Set<number>();
  const check = (fd: unknown): NodeJS.ErrnoException | null => {
    if (typeof fd !== 'number' || fd <= 2 || nodeOwn.has(fd) || scripts.has(fd)) return null;
    const kind = runtimeKind(fd);
    // A closed number is not remembered: a thread started later may take it.
    if (!kind && linkOf(fd) !== null) scripts.add(fd);
    return kind ? refusal(fd, kind) : null;
  };
  const mutable = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  // The wrapper keeps the original's own properties (fs.write's util.promisify.custom, so promisify still works).
  const replace = (name: string, wrapper: (...args: unknown[]) => unknown) => {
    const original = mutable[name];
    const { name: _n, length: _l, prototype: _p, ...rest } = Object.getOwnPropertyDescriptors(original);
    void [_n, _l, _p];
    Object.defineProperties(wrapper, rest);
    mutable[name] = wrapper;
  };
  for (const name of ['writeSync', 'writevSync', 'writeFileSync', 'appendFileSync']) {
    const original = mutable[name];
    replace(name, {
      [name](this: unknown, ...args: unknown[]) {
        const err = check(args[0]);
        if (err) throw err;
        return original.apply(this, args);
      },
    }[name]);
  }
  for (const name of ['close', 'closeSync']) {
    const original = mutable[name];
    replace(name, {
      [name](this: unknown, ...args: unknown[]) {
        if (typeof args[0] === 'number') scripts.delete(args[0]);
        return original.apply(this, args);
      },
    }[name]);
  }
  for (const name of ['write', 'writev', 'writeFile', 'appendFile']) {
    const original = mutable[name];
    replace(name, {
      [name](this: unknown, ...args: unknown[]) {
        const err = check(args[0]);
        const callback = args[args.length - 1];
        if (err && typeof callback === 'function') return process.nextTick(() => callback(err));
        if (err) throw err;
        return original.apply(this, args);
      },
    }[name]);
  }
}
