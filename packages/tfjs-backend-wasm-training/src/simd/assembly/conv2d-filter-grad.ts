// AssemblyScript, compiled to wasm SIMD by scripts/build-simd-kernels.mjs (not TypeScript for Node).
//
// The filter gradient of an NHWC conv2d, on the wasm backend's own memory: every pointer is a byte
// offset into the heap the tfjs backend allocates tensors in, and this module owns no memory of its
// own (no data segments, no stack, no allocator).
//
//   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·sh + kh·dh − top, ow·sw + kw·dw − left, ci] · dy[b, oh, ow, co]
//
// is the product dW[K][CO] = Σ_p A[p][K] · dy[p][CO] over the P = B·OH·OW output pixels, with
// A = im2col(x) (K = KH·KW·CI) and dW in HWIO order exactly the row-major [K][CO] result. The
// reduction runs over P in chunks of whole output rows (the K-blocking of the plan: every operand
// of a chunk stays in cache); within a chunk, dy is packed once into NR-column panels and A is
// packed one MR-row panel at a time, then an MR×NR register tile (8 accumulators) streams both
// panels sequentially.

const MR: i32 = 4;
const NR: i32 = 8;

@inline
function roundUp(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

/** Bytes of scratch `conv2dFilterGrad` needs (the caller allocates them on the same heap). */
export function conv2dFilterGradScratchBytes(kH: i32, kW: i32, inC: i32, outW: i32, outC: i32, rowsPerChunk: i32): i32 {
  const kp = roundUp(kH * kW * inC, MR);
  const cop = roundUp(outC, NR);
  const chunkPx = rowsPerChunk * outW;
  return (kp * cop + chunkPx * cop + chunkPx * MR) * 4;
}

export function conv2dFilterGrad(
  x: usize,
  dy: usize,
  dw: usize,
  scratch: usize,
  batch: i32,
  inH: i32,
  inW: i32,
  inC: i32,
  outH: i32,
  outW: i32,
  outC: i32,
  kH: i32,
  kW: i32,
  strideH: i32,
  strideW: i32,
  dilH: i32,
  dilW: i32,
  padTop: i32,
  padLeft: i32,
  rowsPerChunk: i32,
): void {
  const k = kH * kW * inC;
  const kp = roundUp(k, MR);
  const cop = roundUp(outC, NR);
  const rows = batch * outH;
  const acc = scratch;
  const bPack = acc + <usize>(kp * cop) * 4;
  const aPack = bPack + <usize>(rowsPerChunk * outW * cop) * 4;
  memory.fill(acc, 0, <usize>(kp * cop) * 4);
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const nr = min(rowsPerChunk, rows - r0);
    const pc = nr * outW;
    packDy(dy + <usize>(r0 * outW * outC) * 4, bPack, pc, outC, cop);
    for (let k0 = 0; k0 < kp; k0 += MR) {
      packX(aPack, x, r0, nr, k0, k, inH, inW, inC, outH, outW, kW, strideH, strideW, dilH, dilW, padTop, padLeft);
      const row = acc + <usize>(k0 * cop) * 4;
      for (let c0 = 0; c0 < cop; c0 += NR) {
        tile(aPack, bPack + <usize>(c0 * pc) * 4, row + <usize>c0 * 4, pc, <usize>cop * 4);
      }
    }
  }
  for (let i = 0; i < k; i++) {
    memory.copy(dw + <usize>(i * outC) * 4, acc + <usize>(i * cop) * 4, <usize>outC * 4);
  }
}

/** dy rows [pc][outC] → NR-column panels [cop / NR][pc][NR], zero past outC. */
function packDy(src: usize, dst: usize, pc: i32, outC: i32, cop: i32): void {
  const full = outC / NR;
  for (let cb = 0; cb < full; cb++) {
    let s = src + <usize>(cb * NR) * 4;
    let d = dst + <usize>(cb * NR * pc) * 4;
    for (let p = 0; p < pc; p++) {
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      s += <usize>outC * 4;
      d += NR * 4;
    }
  }
  if (full * NR < cop) {
    const c0 = full * NR;
    const rest = outC - c0;
    let s = src + <usize>c0 * 4;
    let d = dst + <usize>(c0 * pc) * 4;
    for (let p = 0; p < pc; p++) {
      v128.store(d, f32x4.splat(0));
      v128.store(d, f32x4.splat(0), 16);
      for (let j = 0; j < rest; j++) store<f32>(d + <usize>j * 4, load<f32>(s + <usize>j * 4));
      s += <usize>outC * 4;
      d += NR * 4;
    }
  }
}

/**
 * The A panel of rows k0..k0+MR for the chunk's pixels: [pc][MR], zero where the tap falls in the
 * padding or k ≥ K. Whole output rows at a time, so the in-bounds columns of each row are one range.
 */
function packX(
  dst: usize,
  x: usize,
  r0: i32,
  nr: i32,
  k0: i32,
  k: i32,
  inH: i32,
  inW: i32,
  inC: i32,
  outH: i32,
  outW: i32,
  kW: i32,
  strideH: i32,
  strideW: i32,
  dilH: i32,
  dilW: i32,
  padTop: i32,
  padLeft: i32,
): void {
  const zero = f32x4.splat(0);
  const ci0 = k0 % inC;
  if (ci0 + MR <= inC && k0 + MR <= k) {
    // One tap (kh, kw) and MR consecutive input channels: a 16-byte copy per pixel.
    const tap = k0 / inC;
    const kh = tap / kW;
    const kw = tap % kW;
    const colOff = kw * dilW - padLeft;
    const lo = firstInside(colOff, strideW);
    const hi = endInside(colOff, strideW, inW, outW);
    let d = dst;
    for (let j = 0; j < nr; j++) {
      const r = r0 + j;
      const b = r / outH;
      const ih = (r % outH) * strideH + kh * dilH - padTop;
      if (ih < 0 || ih >= inH || lo >= hi) {
        for (let ow = 0; ow < outW; ow++) {
          v128.store(d, zero);
          d += MR * 4;
        }
        continue;
      }
      for (let ow = 0; ow < lo; ow++) {
        v128.store(d, zero);
        d += MR * 4;
      }
      let s = x + (<usize>((b * inH + ih) * inW + lo * strideW + colOff) * inC + ci0) * 4;
      const step = <usize>(strideW * inC) * 4;
      for (let ow = lo; ow < hi; ow++) {
        v128.store(d, v128.load(s));
        s += step;
        d += MR * 4;
      }
      for (let ow = hi; ow < outW; ow++) {
        v128.store(d, zero);
        d += MR * 4;
      }
    }
    return;
  }
  // General case (the block spans taps, or runs past K): one lane at a time.
  const pc = nr * outW;
  for (let p = 0; p < pc; p++) v128.store(dst + <usize>(p * MR) * 4, zero);
  for (let i = 0; i < MR; i++) {
    const kk = k0 + i;
    if (kk >= k) break;
    const tap = kk / inC;
    const ci = kk % inC;
    const kh = tap / kW;
    const kw = tap % kW;
    const colOff = kw * dilW - padLeft;
    const lo = firstInside(colOff, strideW);
    const hi = endInside(colOff, strideW, inW, outW);
    for (let j = 0; j < nr; j++) {
      const r = r0 + j;
      const b = r / outH;
      const ih = (r % outH) * strideH + kh * dilH - padTop;
      if (ih < 0 || ih >= inH) continue;
      let s = x + (<usize>((b * inH + ih) * inW + lo * strideW + colOff) * inC + ci) * 4;
      const step = <usize>(strideW * inC) * 4;
      let d = dst + <usize>((j * outW + lo) * MR + i) * 4;
      for (let ow = lo; ow < hi; ow++) {
        store<f32>(d, load<f32>(s));
        s += step;
        d += MR * 4;
      }
    }
  }
}

/** The first ow with ow·stride + colOff ≥ 0. */
@inline
function firstInside(colOff: i32, stride: i32): i32 {
  return colOff >= 0 ? 0 : (-colOff + stride - 1) / stride;
}

/** One past the last ow with ow·stride + colOff < inW, at most outW. */
@inline
function endInside(colOff: i32, stride: i32, inW: i32, outW: i32): i32 {
  const reach = inW - colOff; // ow·stride < reach
  if (reach <= 0) return 0;
  return min(outW, (reach + stride - 1) / stride);
}

/** acc[MR][NR] (row stride ldc bytes) += Σ_p a[p][0..MR]ᵀ · b[p][0..NR]. */
function tile(a: usize, b: usize, c: usize, pc: i32, ldc: usize): void {
  let c00 = v128.load(c);
  let c01 = v128.load(c, 16);
  let c10 = v128.load(c + ldc);
  let c11 = v128.load(c + ldc, 16);
  let c20 = v128.load(c + 2 * ldc);
  let c21 = v128.load(c + 2 * ldc, 16);
  let c30 = v128.load(c + 3 * ldc);
  let c31 = v128.load(c + 3 * ldc, 16);
  for (let p = 0; p < pc; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    a += MR * 4;
    b += NR * 4;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}
