// Which module specifiers are TensorFlow.js: the scan records them (and the runner maps exactly those to its one
// instrumented instance), and the editor's quick fixes find the name a file binds tfjs to by them. One definition,
// so that what the scan calls a tfjs import and what a quick fix recognizes cannot drift apart.

/** Any TensorFlow.js package name, the scoped backends included (`@tensorflow/tfjs`, `@tensorflow/tfjs-node-gpu`), unanchored. */
export const TFJS_PACKAGE_PATTERN = String.raw`@tensorflow\/tfjs(?:-[a-z-]+)?`;

/** A specifier that is exactly one TensorFlow.js package. */
export const TFJS_PACKAGE = new RegExp(`^${TFJS_PACKAGE_PATTERN}$`);
