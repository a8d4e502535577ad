/**
 * A container's output into the sandbox: the engine's multiplexed log stream (8-byte frame
 * headers: stream type, 3 zero bytes, big-endian length) appended to `<sandbox>/stdout|stderr`,
 * skipping what an earlier copy (before an agent restart) already wrote.
 */
import { constants, createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';

export interface LogSkip {
  stdout: number;
  stderr: number;
}

/** Size of a file, 0 when it does not exist. */
export async function fileSize(p: string): Promise<number> {
  try {
    return (await fs.lstat(p)).size;
  } catch {
    return 0;
  }
}

/** Sizes of the sandbox's stdout and stderr now. */
export async function sandboxOutputSizes(sandbox: string): Promise<LogSkip> {
  return {
    stdout: await fileSize(path.join(sandbox, 'stdout')),
    stderr: await fileSize(path.join(sandbox, 'stderr')),
  };
}

/**
 * Splits a multiplexed stream into frames. Feed it chunks; it calls `emit(kind, payload)` for
 * every whole frame (kind 1 stdout, 2 stderr) and keeps a partial one for the next chunk.
 */
export function demultiplexer(emit: (kind: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      emit(pending[0], pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  };
}

/** Copies the stream into the sandbox's stdout and stderr (appending) until it ends. */
export async function copyLogs(stream: NodeJS.ReadableStream, sandbox: string, skip: LogSkip): Promise<void> {
  const out = openLog(path.join(sandbox, 'stdout'));
  const err = openLog(path.join(sandbox, 'stderr'));
  const toSkip = { ...skip };
  const feed = demultiplexer((kind, payload) => {
    const key = kind === 2 ? 'stderr' : 'stdout';
    let data = payload;
    if (toSkip[key] > 0) {
      const n = Math.min(toSkip[key], data.length);
      toSkip[key] -= n;
      data = data.subarray(n);
    }
    if (data.length) (key === 'stderr' ? err : out).write(data);
  });
  await new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => feed(chunk));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
  });
  await Promise.all([closeStream(out), closeStream(err)]);
}

/** Appending flags that neither follow a link nor block on a FIFO (the sandbox may belong to the task's user). */
const LOG_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A log file opened for appending; a file that cannot be opened so (a link put there) is not written. */
function openLog(file: string): WriteStream {
  const s = createWriteStream(file, { flags: LOG_FLAGS as unknown as string });
  s.on('error', () => undefined);
  return s;
}

/** Creates an empty log file when there is none; a link or anything but a plain file there is left alone. */
export async function touchOutput(file: string): Promise<void> {
  const fh = await fs.open(file, LOG_FLAGS, 0o644).catch(() => undefined);
  await fh?.close();
}

function closeStream(s: WriteStream): Promise<void> {
  return new Promise((resolve) => s.end(() => resolve()));
}
