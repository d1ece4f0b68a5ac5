// AssemblyScript: float32 Add, Sub, Multiply and RealDiv for the shapes a training step is made of:
// both sides the same size, one side a single element, or one side a vector along the other's last
// axis (biases, batch-norm statistics). Stock wasm sends them through XNNPACK's broadcasting
// operators, whose per-call set-up dominates the many small products of an optimizer step.

// Operation codes shared with the JS side (simd-binary-kernels.ts).
const ADD: i32 = 0;
const SUB: i32 = 1;
const MUL: i32 = 2;
const DIV: i32 = 3;

// Side forms.
const FULL: i32 = 0;
const SCALAR: i32 = 1;
const CHANNELS: i32 = 2;

@inline
function op4(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

@inline
function op1(op: i32, a: f32, b: f32): f32 {
  if (op == ADD) return a + b;
  if (op == SUB) return a - b;
  if (op == MUL) return a * b;
  return a / b;
}

/**
 * out[i] = a[i] ∘ b[i] over n elements, where a side is FULL (n elements), SCALAR (one) or
 * CHANNELS (c elements, repeated every c). At most one side is not FULL.
 */
export function binaryF32(op: i32, a: usize, aForm: i32, b: usize, bForm: i32, out: usize, n: i32, c: i32): void {
  if (aForm == FULL && bForm == FULL) {
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i * 4;
      v128.store(out + o, op4(op, v128.load(a + o), v128.load(b + o)));
      v128.store(out + o, op4(op, v128.load(a + o, 16), v128.load(b + o, 16)), 16);
    }
    for (; i < n; i++) {
      const o = <usize>i * 4;
      store<f32>(out + o, op1(op, load<f32>(a + o), load<f32>(b + o)));
    }
    return;
  }
  if (aForm == SCALAR || bForm == SCALAR) {
    const scalarOnLeft = aForm == SCALAR;
    const s = load<f32>(scalarOnLeft ? a : b);
    const sv = f32x4.splat(s);
    const v = scalarOnLeft ? b : a;
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i * 4;
      const x0 = v128.load(v + o);
      const x1 = v128.load(v + o, 16);
      v128.store(out + o, scalarOnLeft ? op4(op, sv, x0) : op4(op, x0, sv));
      v128.store(out + o, scalarOnLeft ? op4(op, sv, x1) : op4(op, x1, sv), 16);
    }
    for (; i < n; i++) {
      const o = <usize>i * 4;
      const x = load<f32>(v + o);
      store<f32>(out + o, scalarOnLeft ? op1(op, s, x) : op1(op, x, s));
    }
    return;
  }
  // One side repeats every c elements.
  const vecOnLeft = aForm == CHANNELS;
  const vec = vecOnLeft ? a : b;
  const full = vecOnLeft ? b : a;
  const rows = n / c;
  const cv = c & ~3;
  for (let r = 0; r < rows; r++) {
    const base = <usize>(r * c) * 4;
    let j = 0;
    for (; j < cv; j += 4) {
      const o = <usize>j * 4;
      const x = v128.load(full + base + o);
      const w = v128.load(vec + o);
      v128.store(out + base + o, vecOnLeft ? op4(op, w, x) : op4(op, x, w));
    }
    for (; j < c; j++) {
      const o = <usize>j * 4;
      const x = load<f32>(full + base + o);
      const w = load<f32>(vec + o);
      store<f32>(out + base + o, vecOnLeft ? op1(op, w, x) : op1(op, x, w));
    }
  }
}
