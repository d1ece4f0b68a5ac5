/**
 * Where tfjs-backend-wasm keeps its XNNPACK thread pool pointer (`tfjs::backend::threadpool`, a
 * global every kernel reads when it runs an XNNPACK operator). The binary exports
 * `get_threads_count`, whose body starts by loading that global: `i32.const A; i32.load offset=O`.
 * We read A + O from the code section, so no address is hard-coded for one build; the caller then
 * checks it at run time (get_threads_count must follow what is written there) before using it.
 */
export function threadPoolPointerAddress(wasm: Uint8Array): number | null {
  try {
    return find(wasm);
  } catch {
    return null;
  }
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new Error('end of module');
    return this.bytes[this.at++];
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return result;
      if (shift > 35) throw new Error('bad LEB128');
    }
  }

  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result;
  }

  name(): string {
    const n = this.u32();
    const s = Buffer.from(this.bytes.subarray(this.at, this.at + n)).toString('utf8');
    this.at += n;
    return s;
  }
}

const SECTION = { import: 2, export: 7, code: 10 } as const;

function find(wasm: Uint8Array): number | null {
  const r = new Reader(wasm, 8); // magic + version
  let importedFunctions = 0;
  let exported: number | null = null;
  while (r.at < wasm.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (id === SECTION.import) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0) {
          importedFunctions++;
          r.u32();
        } else if (kind === 1) {
          r.byte();
          limits(r);
        } else if (kind === 2) {
          limits(r);
        } else if (kind === 3) {
          r.byte();
          r.byte();
        } else {
          throw new Error(`import kind ${kind}`);
        }
      }
    } else if (id === SECTION.export) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.name();
        const kind = r.byte();
        const index = r.u32();
        if (kind === 0 && name === 'get_threads_count') exported = index;
      }
    } else if (id === SECTION.code) {
      if (exported === null || exported < importedFunctions) return null;
      const count = r.u32();
      const wanted = exported - importedFunctions;
      if (wanted >= count) return null;
      for (let i = 0; i < wanted; i++) {
        const bodySize = r.u32();
        r.at += bodySize;
      }
      r.u32(); // body size
      const localGroups = r.u32();
      for (let i = 0; i < localGroups; i++) {
        r.u32();
        r.byte();
      }
      if (r.byte() !== 0x41) return null; // i32.const
      const base = r.s32();
      if (r.byte() !== 0x28) return null; // i32.load
      r.u32(); // alignment
      const offset = r.u32();
      const address = base + offset;
      return address > 0 && address % 4 === 0 ? address : null;
    }
    r.at = end;
  }
  return null;
}

function limits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}
