// The module's exports: one AssemblyScript entry, built to both binaries.
export { conv2dFilterGrad, conv2dFilterGradScratchBytes } from './conv2d-filter-grad';
export { batchNormChannels, compareF32, logicalAnd, selectF32 } from './elementwise';
export { depthwiseFilterGrad } from './depthwise-filter-grad';
export { columnSums } from './reductions';
export { maxPoolGrad } from './max-pool-grad';
export { batchNormGrad } from './batch-norm-grad';
