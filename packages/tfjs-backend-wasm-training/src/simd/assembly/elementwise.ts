// AssemblyScript: elementwise kernels for what stock tfjs-backend-wasm runs in per-element C++ loops
// with a heap-allocated index vector per element whenever one side is broadcast (its compare and
// logical kernels), plus batch norm's inference form. bool tensors are one byte per element, 0 or 1.

// Comparison codes shared with the JS side (simd-elementwise-kernels.ts).
const GE: i32 = 0;
const LE: i32 = 1;
const GT: i32 = 2;
const LT: i32 = 3;
const EQ: i32 = 4;
const NE: i32 = 5;

@inline
function cmp4(op: i32, a: v128, b: v128): v128 {
  if (op == GE) return f32x4.ge(a, b);
  if (op == LE) return f32x4.le(a, b);
  if (op == GT) return f32x4.gt(a, b);
  if (op == LT) return f32x4.lt(a, b);
  if (op == EQ) return f32x4.eq(a, b);
  return f32x4.ne(a, b);
}

@inline
function cmp1(op: i32, a: f32, b: f32): u8 {
  let r = false;
  if (op == GE) r = a >= b;
  else if (op == LE) r = a <= b;
  else if (op == GT) r = a > b;
  else if (op == LT) r = a < b;
  else if (op == EQ) r = a == b;
  else r = a != b;
  return r ? 1 : 0;
}

/** Four all-ones/zero lane masks (16 floats) → 16 bytes of 0/1. */
@inline
function masksToBools(m0: v128, m1: v128, m2: v128, m3: v128): v128 {
  const lo = i16x8.narrow_i32x4_s(m0, m1);
  const hi = i16x8.narrow_i32x4_s(m2, m3);
  return v128.and(i8x16.narrow_i16x8_s(lo, hi), i8x16.splat(1));
}

/**
 * out[i] = a[i] op b[i] over n floats; a scalar side (stride 0) is read once. `aScalar`/`bScalar`:
 * 1 when that side has a single element.
 */
export function compareF32(op: i32, a: usize, aScalar: i32, b: usize, bScalar: i32, out: usize, n: i32): void {
  let i = 0;
  const as = f32x4.splat(load<f32>(a));
  const bs = f32x4.splat(load<f32>(b));
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i * 4;
    const a0 = aScalar ? as : v128.load(a + off);
    const a1 = aScalar ? as : v128.load(a + off, 16);
    const a2 = aScalar ? as : v128.load(a + off, 32);
    const a3 = aScalar ? as : v128.load(a + off, 48);
    const b0 = bScalar ? bs : v128.load(b + off);
    const b1 = bScalar ? bs : v128.load(b + off, 16);
    const b2 = bScalar ? bs : v128.load(b + off, 32);
    const b3 = bScalar ? bs : v128.load(b + off, 48);
    v128.store(out + <usize>i, masksToBools(cmp4(op, a0, b0), cmp4(op, a1, b1), cmp4(op, a2, b2), cmp4(op, a3, b3)));
  }
  for (; i < n; i++) {
    const av = load<f32>(aScalar ? a : a + <usize>i * 4);
    const bv = load<f32>(bScalar ? b : b + <usize>i * 4);
    store<u8>(out + <usize>i, cmp1(op, av, bv));
  }
}

/** out[i] = a[i] && b[i] over n bools (0/1 bytes); a scalar side is read once. */
export function logicalAnd(a: usize, aScalar: i32, b: usize, bScalar: i32, out: usize, n: i32): void {
  let i = 0;
  const as = i8x16.splat(load<u8>(a));
  const bs = i8x16.splat(load<u8>(b));
  for (; i + 16 <= n; i += 16) {
    const av = aScalar ? as : v128.load(a + <usize>i);
    const bv = bScalar ? bs : v128.load(b + <usize>i);
    v128.store(out + <usize>i, v128.and(av, bv));
  }
  for (; i < n; i++) {
    const av = load<u8>(aScalar ? a : a + <usize>i);
    const bv = load<u8>(bScalar ? b : b + <usize>i);
    store<u8>(out + <usize>i, av & bv);
  }
}

/** out[i] = cond[i] ? t[i] : e[i] over n floats (cond: bytes). */
export function selectF32(cond: usize, t: usize, e: usize, out: usize, n: i32): void {
  let i = 0;
  const zero = i32x4.splat(0);
  for (; i + 8 <= n; i += 8) {
    const c16 = v128.load8x8_u(cond + <usize>i);
    const m0 = i32x4.ne(i32x4.extend_low_i16x8_u(c16), zero);
    const m1 = i32x4.ne(i32x4.extend_high_i16x8_u(c16), zero);
    const off = <usize>i * 4;
    v128.store(out + off, v128.bitselect(v128.load(t + off), v128.load(e + off), m0));
    v128.store(out + off, v128.bitselect(v128.load(t + off, 16), v128.load(e + off, 16), m1), 16);
  }
  for (; i < n; i++) {
    const off = <usize>i * 4;
    store<f32>(out + off, load<u8>(cond + <usize>i) ? load<f32>(t + off) : load<f32>(e + off));
  }
}

/**
 * Batch norm over the last axis: out = (x − mean[c]) · factor[c] + offset[c], where the caller
 * computed factor = scale / sqrt(variance + ε) per channel (`mean`, `factor`, `offset`: c floats).
 */
export function batchNormChannels(x: usize, mean: usize, factor: usize, offset: usize, out: usize, rows: i32, c: i32): void {
  const vec = c & ~3;
  for (let r = 0; r < rows; r++) {
    const base = <usize>(r * c) * 4;
    let j = 0;
    for (; j < vec; j += 4) {
      const o = <usize>j * 4;
      const v = f32x4.sub(v128.load(x + base + o), v128.load(mean + o));
      v128.store(out + base + o, f32x4.add(f32x4.mul(v, v128.load(factor + o)), v128.load(offset + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j * 4;
      store<f32>(out + base + o, (load<f32>(x + base + o) - load<f32>(mean + o)) * load<f32>(factor + o) + load<f32>(offset + o));
    }
  }
}
