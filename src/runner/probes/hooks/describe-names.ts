// Names the probes send that the script controls: a class tfjs has no registered name for, a layer or variable
// named with a number. Every message must validate whatever the script called things, or the engine drops it whole.

/** What a class with no name at all is called in the report. */
export const UNNAMED_CLASS = '(unnamed class)';

/**
 * The class name of a tfjs object: its registered name (`getClassName()`), else its constructor's name (a
 * subclass the script never registered with `tf.serialization.registerClass` has no registered name: tfjs
 * returns undefined), else `fallback`. Never throws.
 */
export function classNameOf(obj: unknown, fallback: string = UNNAMED_CLASS): string {
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return fallback;
  let registered: unknown;
  try {
    registered = (obj as { getClassName?: () => unknown }).getClassName?.();
  } catch {
    // A getClassName of the script's own that throws: the constructor still has a name.
  }
  if (typeof registered === 'string' && registered !== '') return registered;
  let constructorName: unknown;
  try {
    constructorName = (obj as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    // A hostile getter: the fallback.
  }
  return typeof constructorName === 'string' && constructorName !== '' ? constructorName : fallback;
}

/**
 * A name as a string: a number or boolean (`tf.layers.dense({ name: 7 })`, `tf.variable(x, true, 3)`, which tfjs
 * accepts) as its text, anything else that is not a non-empty string as `placeholder`.
 */
export function nameOf(value: unknown, placeholder: string): string {
  if (typeof value === 'string') return value === '' ? placeholder : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return placeholder;
}

/** A variable's name as the report keys it (tfjs names every variable; the script may have given a number). */
export function variableName(v: { name: unknown; id?: unknown }): string {
  return nameOf(v.name, `(variable ${typeof v.id === 'number' ? v.id : '?'})`);
}

/**
 * What the report says of anything the script threw: its name and message as strings (an Error whose name is a
 * number, a thrown null-prototype object that String() cannot convert), and its stack when it has one.
 */
export function thrownError(err: unknown): { name: string; message: string; stack: string | null } {
  if (err instanceof Error) {
    let stack: unknown;
    try {
      stack = err.stack;
    } catch {
      stack = null;
    }
    return { name: nameOf(err.name, 'Error'), message: nameOf(err.message, ''), stack: typeof stack === 'string' ? stack : null };
  }
  let text: string;
  try {
    text = String(err);
  } catch {
    text = Object.prototype.toString.call(err);
  }
  // A thrown non-Error has no stack of its own: the one made here is no frame of the script's either.
  return { name: 'Error', message: text, stack: null };
}
