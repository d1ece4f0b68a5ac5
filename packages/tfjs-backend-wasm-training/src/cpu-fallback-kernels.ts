import { cpuBackend, kernelsOf, wasmHeapCopy, type BackendLike, type KernelArgs, type KernelConfigLike, type TensorInfo, type Tf } from './tfjs-private';

/**
 * Registers, on `backendName`, every kernel the cpu backend has and that backend lacks: the
 * inputs are copied to the cpu backend, the cpu kernel runs, and its outputs are copied back.
 * Correct and slower; no model fails with "kernel not registered". Returns the kernel names.
 */
export function installCpuFallbackKernels(
  tf: Tf,
  backendName: string,
  onFirstUse: (kernelName: string) => void = () => {},
  skip: ReadonlySet<string> = new Set(),
): string[] {
  const have = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
  const installed: string[] = [];
  for (const cpuKernel of kernelsOf(tf, 'cpu')) {
    if (have.has(cpuKernel.kernelName) || skip.has(cpuKernel.kernelName)) continue;
    let used = false;
    tf.registerKernel({
      kernelName: cpuKernel.kernelName,
      backendName,
      kernelFunc: ((args: KernelArgs) => {
        if (!used) {
          used = true;
          onFirstUse(cpuKernel.kernelName);
        }
        return runOnCpu(tf, cpuKernel, args.inputs, args.backend as BackendLike, args.attrs);
      }) as never,
    });
    installed.push(cpuKernel.kernelName);
  }
  return installed;
}


function runOnCpu(
  tf: Tf,
  kernel: KernelConfigLike,
  inputs: KernelArgs['inputs'],
  target: BackendLike,
  attrs: KernelArgs['attrs'],
): TensorInfo | TensorInfo[] {
  const cpu = cpuBackend(tf);
  // Some kernels (Einsum) take their inputs as an array: keep that shape.
  const cpuInputs = (Array.isArray(inputs) ? [] : {}) as KernelArgs['inputs'];
  const temporaries: object[] = [];
  try {
    for (const [name, t] of Object.entries(inputs)) {
      if (t == null) {
        cpuInputs[name] = t;
        continue;
      }
      const dataId = t.dtype === 'complex64'
        ? writeComplexToCpu(tf, cpu, readComplex(target, t), t.shape)
        : cpu.write(target.readSync(t.dataId), t.shape, t.dtype);
      temporaries.push(dataId);
      cpuInputs[name] = { dataId, shape: t.shape, dtype: t.dtype };
    }
    const out = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs });
    const outs = Array.isArray(out) ? out : [out];
    const copied = outs.map((o) => {
      const dataId = target.write(cpu.readSync(o.dataId), o.shape, o.dtype);
      cpu.disposeData(o.dataId);
      return { dataId, shape: o.shape, dtype: o.dtype };
    });
    return Array.isArray(out) ? copied : copied[0];
  } finally {
    for (const id of temporaries) cpu.disposeData(id);
  }
}

/** Interleaved (re, im) pairs of a complex64 tensor; wasm's readSync knows no complex64, its heap does. */
function readComplex(target: BackendLike, t: TensorInfo): Float32Array {
  const floats = 2 * t.shape.reduce((a, b) => a * b, 1);
  const heap = wasmHeapCopy(target, t.dataId, floats * 4);
  return heap ? new Float32Array(heap) : (target.readSync(t.dataId) as Float32Array);
}

/** cpu keeps complex64 as two float32 tensors: build one through its own Complex kernel. */
function writeComplexToCpu(tf: Tf, cpu: BackendLike, interleaved: Float32Array, shape: number[]): object {
  const n = interleaved.length / 2;
  const re = new Float32Array(n);
  const im = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = interleaved[2 * i];
    im[i] = interleaved[2 * i + 1];
  }
  const real = { dataId: cpu.write(re, shape, 'float32'), shape, dtype: 'float32' };
  const imag = { dataId: cpu.write(im, shape, 'float32'), shape, dtype: 'float32' };
  try {
    const complex = tf.getKernel('Complex', 'cpu').kernelFunc({ inputs: { real, imag }, backend: cpu, attrs: {} } as never);
    return (complex as TensorInfo).dataId;
  } finally {
    cpu.disposeData(real.dataId);
    cpu.disposeData(imag.dataId);
  }
}
