/**
 * Typed errors. Each names the op and the shapes or values involved, so a user can see what
 * went wrong without a debugger.
 *
 * @example
 * try { gf.matmul(a, b); } catch (e) { if (e instanceof gf.ShapeError) console.log(e.message); }
 */
export class GradforgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together: `matmul: inner dimensions differ: [32, 784] x [128, 10]`. */
export class ShapeError extends GradforgeError {}

/** A dtype an op cannot take, or two dtypes that do not match. */
export class DTypeError extends GradforgeError {}

/** A bad argument value: a NaN learning rate, an unknown loss name, an empty batch. */
export class ValueError extends GradforgeError {}

/** A saved model that cannot be read: bad JSON, wrong byte counts, unknown layer classes. */
export class ModelFormatError extends GradforgeError {}

/** A device that is missing or that cannot run the request. */
export class DeviceError extends GradforgeError {}

/**
 * An operation given an AbortSignal that was aborted before its result was delivered
 * (`predictAsync(x, {signal})`, a batcher request). Its name is 'AbortError', as fetch's and
 * Node's own, so `e.name === 'AbortError'` checks work too.
 */
export class AbortError extends GradforgeError {}

/** A bounded queue (gf.serving.batcher's) that is full: the request was refused, not queued. */
export class QueueFullError extends GradforgeError {}

/** A request that did not complete within its timeout (gf.serving.batcher's `timeoutMs`). */
export class TimeoutError extends GradforgeError {}

/** Formats a shape the way error messages show it: [32, 784]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
