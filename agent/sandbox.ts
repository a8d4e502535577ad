/**
 * Where task sandboxes live under the agent's work dir: `<work_dir>/sandboxes/<framework>/<task>`,
 * a subtree of their own beside the checkpoint (`<work_dir>/meta`). Every sandbox path is built
 * here, and only from ids that are safe as one path segment (Mesos's ID rule: not empty, at most
 * 255 bytes, not `.` or `..`, no `/`, `\` or control characters), so that no id can name a
 * directory outside that subtree. The wire edge refuses such ids too; this is the second guard.
 */
import { isAbsolute, join, relative, sep } from 'node:path';
import { InvalidId } from './errors.js';

export const SANDBOXES_DIR = 'sandboxes';
/** A file name's limit on Linux (NAME_MAX), which Mesos also applies to ids. */
export const MAX_ID_BYTES = 255;

/** Why `id` is not safe as one path segment, or undefined when it is. Pure. */
export function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'must be a non-empty string';
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) return `must be at most ${MAX_ID_BYTES} bytes`;
  if (id === '.' || id === '..') return `'${id}' is not allowed`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[/\\\u0000-\u001f\u007f]/.test(id)) return 'must not contain /, \\ or control characters';
  return undefined;
}

/** Throws InvalidId (naming which id and why) unless `id` is safe as one path segment. */
export function checkId(kind: 'framework id' | 'task id', id: string): void {
  const problem = idProblem(id);
  if (problem) throw new InvalidId(`${kind} ${JSON.stringify(String(id).slice(0, 80))} ${problem}`);
}

/** The root of every sandbox of the agent with this work dir. */
export function sandboxesRoot(workDir: string): string {
  return join(workDir, SANDBOXES_DIR);
}

/** True when `path` lies strictly inside `root`. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The sandbox of a task: `<work_dir>/sandboxes/<framework>/<task>`, each id URI-encoded. Throws
 * InvalidId for an id that is not a safe path segment.
 */
export function sandboxPath(workDir: string, frameworkId: string, taskId: string): string {
  checkId('framework id', frameworkId);
  checkId('task id', taskId);
  const root = sandboxesRoot(workDir);
  const path = join(root, encodeURIComponent(frameworkId), encodeURIComponent(taskId));
  // Unreachable with the checks above; kept so that a later change to them cannot open a way out.
  if (!isInside(root, path)) throw new InvalidId(`the sandbox of task ${taskId} would lie outside ${root}`);
  return path;
}
