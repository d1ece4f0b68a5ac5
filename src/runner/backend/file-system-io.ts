import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-internals';

const SCHEME = 'file://';
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

type Artifacts = TF.io.ModelArtifacts;

/**
 * `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')`, as @tensorflow/tfjs-node provides
 * them: a folder with model.json and one weights.bin. When a script written for tfjs-node runs on @tensorflow/tfjs
 * (the wasm fallback), its saves must still work, or a run that trained well fails at its last line.
 */
export function fileSystemHandler(tf: Tf, url: string): TF.io.IOHandler {
  const target = path.resolve(url.slice(SCHEME.length));
  return {
    async save(artifacts: Artifacts): Promise<TF.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('Loss Lens: saving a binary (GraphDef) topology to file:// is not supported.');
      const dir = target.endsWith('.json') ? path.dirname(target) : target;
      const jsonPath = target.endsWith('.json') ? target : path.join(dir, MODEL_JSON);
      await fs.promises.mkdir(dir, { recursive: true });
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      await fs.promises.writeFile(path.join(dir, WEIGHTS_BIN), Buffer.from(weights));
      await fs.promises.writeFile(jsonPath, JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<Artifacts> {
      const jsonPath = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, MODEL_JSON) : target;
      const modelJson = JSON.parse(await fs.promises.readFile(jsonPath, 'utf8')) as TF.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = await Promise.all(
          manifest.flatMap((group) => group.paths).map(async (p) => {
            const b = await fs.promises.readFile(path.resolve(path.dirname(jsonPath), p));
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          }),
        );
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** Registers the file:// routers on a tfjs that has none (tfjs-node registers its own). */
export function registerFileSystemIo(tf: Tf): void {
  if (tf.io.getSaveHandlers(`${SCHEME}probe`).length > 0) return;
  // tfjs's IORouter type says IOHandler, but routers answer null for URLs that are not theirs.
  const router = ((url: string | string[]) =>
    typeof url === 'string' && url.startsWith(SCHEME) ? fileSystemHandler(tf, url) : null) as Parameters<Tf["io"]["registerSaveRouter"]>[0];
  tf.io.registerSaveRouter(router);
  tf.io.registerLoadRouter(router);
}
