/**
 * The warning fit and gan.fit give when a training loss is NaN or infinite: once per call, at
 * the first such batch, whatever their verbosity; training goes on, as in Keras (the
 * terminateOnNaN callback stops it).
 *
 * It goes through process.emitWarning, as Node libraries warn: Node prints it on stderr,
 * `node --no-warnings` silences it, and process.on('warning') sees it with
 * name 'GradforgeWarning' and code 'GRADFORGE_NONFINITE_LOSS'.
 */
/** The warning's type and code (for process.on('warning') filters). */
export const NONFINITE_LOSS_WARNING = { type: 'GradforgeWarning', code: 'GRADFORGE_NONFINITE_LOSS' } as const;

/** Emits the warning with this message. */
export function warnNonFiniteLoss(message: string): void {
  process.emitWarning(message, {
    ...NONFINITE_LOSS_WARNING,
    detail: 'Training continues; gf.callbacks.terminateOnNaN() stops it. Usual causes: a learning rate too high, NaN or Inf in the inputs or targets, log(0) in a custom loss.',
  });
}

