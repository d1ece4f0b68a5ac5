import type { Tf } from '../tfjs-internals';

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface BackendLike {
  readSync(dataId: object): unknown;
  write(values: unknown, shape: number[], dtype: string): object;
  disposeData(dataId: object, force?: boolean): unknown;
}

interface KernelConfigLike {
  kernelName: string;
  backendName: string;
  kernelFunc: (args: { inputs: Record<string, TensorInfoLike | null>; backend: unknown; attrs?: unknown }) =>
    | TensorInfoLike
    | TensorInfoLike[];
}

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
  for (const cpuKernel of tf.getKernelsForBackend('cpu') as unknown as KernelConfigLike[]) {
    if (have.has(cpuKernel.kernelName) || skip.has(cpuKernel.kernelName)) continue;
    let used = false;
    tf.registerKernel({
      kernelName: cpuKernel.kernelName,
      backendName,
      kernelFunc: ((args: { inputs: Record<string, TensorInfoLike | null>; backend: unknown; attrs?: unknown }) => {
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

/** The cpu backend, without its "install tfjs-node" banner: Loss Lens already said which backend runs. */
export function cpuBackend(tf: Tf): BackendLike {
  const cpu = tf.engine().findBackend('cpu') as unknown as BackendLike & { firstUse?: boolean };
  cpu.firstUse = false;
  return cpu;
}

function runOnCpu(
  tf: Tf,
  kernel: KernelConfigLike,
  inputs: Record<string, TensorInfoLike | null>,
  target: BackendLike,
  attrs: unknown,
): TensorInfoLike | TensorInfoLike[] {
  const cpu = cpuBackend(tf);
  const cpuInputs: Record<string, TensorInfoLike | null> = {};
  const temporaries: object[] = [];
  try {
    for (const [name, t] of Object.entries(inputs)) {
      if (t == null) {
        cpuInputs[name] = t;
        continue;
      }
      const dataId = cpu.write(target.readSync(t.dataId), t.shape, t.dtype);
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
