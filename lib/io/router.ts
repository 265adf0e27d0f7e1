/**
 * URL -> handler: 'file://path' is a model folder; an IOHandler passes through.
 */
import { ValueError } from '../errors';
import { fileSystem } from './file';
import type { IOHandler } from './types';

/** A handler for a URL ('file://path') or the handler itself. */
export function getHandler(target: string | IOHandler, op: string): IOHandler {
  if (typeof target === 'string') {
    if (target.startsWith('file://')) return fileSystem(target.slice('file://'.length));
    throw new ValueError(`${op}: unsupported URL '${target}'; use 'file://path' or an IOHandler (gf.io.toMemory(), your own)`);
  }
  if (target === null || typeof target !== 'object') throw new ValueError(`${op}: expected 'file://path' or an IOHandler, got ${String(target)}`);
  return target;
}
