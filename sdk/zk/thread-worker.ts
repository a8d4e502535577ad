/**
 * The ZooKeeper thread's entry (started by thread-link.ts): holds the real ZkClients (thread 'main'
 * here, i.e. this worker's own event loop) and answers the main thread's calls, forwarding each
 * client's session events, watch events and log lines. Buffers cross as Uint8Array.
 */
import { parentPort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { isZkError, ZkClient, type ZkClientOptions } from './client.js';
import type { FromWorker, LogLevel, RemoteError, ToWorker } from './thread-link.js';

const port = parentPort;
if (!port) throw new Error('thread-worker.ts runs only as a worker thread');

const clients = new Map<number, ZkClient>();

function post(msg: FromWorker): void {
  port?.postMessage(msg);
}

/** A pino-shaped logger that sends the enabled levels to the main thread's logger. */
function forwardingLogger(client: number, levels: Set<LogLevel>, bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: LogLevel) =>
    (objOrMsg: unknown, msg?: string): void => {
      if (!levels.has(level)) return;
      const obj = typeof objOrMsg === 'object' && objOrMsg !== null ? { ...(objOrMsg as Record<string, unknown>) } : {};
      const text = typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '');
      if (obj.err !== undefined) obj.err = plainError(obj.err);
      post({ t: 'log', client, level, obj: { ...bindings, ...obj }, msg: text });
    };
  const logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // The main side's logger already has the client's bindings ({component: 'zk-client'}).
    child: () => forwardingLogger(client, levels, bindings),
  };
  return logger as unknown as Logger;
}

function plainError(err: unknown): unknown {
  if (err instanceof Error) return { message: err.message, code: (err as { code?: unknown }).code, name: err.name };
  return err;
}

function remoteError(err: unknown): RemoteError {
  if (isZkError(err)) return { code: err.code, message: err.message, rc: err.rc, path: err.path };
  if (err instanceof Error) return { code: 'UNKNOWN', message: err.message };
  return { code: 'UNKNOWN', message: String(err) };
}

function toBuffer(v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function open(id: number, options: Record<string, unknown>, levels: LogLevel[]): void {
  const client = new ZkClient({
    ...(options as unknown as ZkClientOptions),
    thread: 'main',
    logger: forwardingLogger(id, new Set(levels)),
  });
  clients.set(id, client);
  const forward = (name: 'connected' | 'disconnected' | 'expired' | 'closed', data?: unknown) =>
    post({
      t: 'event',
      client: id,
      name,
      data,
      state: client.state,
      sessionId: client.sessionId,
      sessionPassword: client.sessionPassword,
      negotiatedSessionTimeoutMs: client.negotiatedSessionTimeoutMs,
    });
  client.on('connected', (e) => forward('connected', e));
  client.on('disconnected', () => forward('disconnected'));
  client.on('expired', (e) => forward('expired', e));
  client.on('closed', () => {
    forward('closed');
    clients.delete(id);
  });
}

type Op = (c: ZkClient, args: unknown[], watcher?: (e: { type: string; path: string }) => void) => Promise<unknown>;
const OPS: Record<string, Op> = {
  connect: (c) => c.connect(),
  close: (c) => c.close(),
  create: (c, a) => c.create(a[0] as string, toBuffer(a[1]) as Buffer, a[2] as never, a[3] as never),
  createNode: (c, a) => c.createNode(a[0] as string, toBuffer(a[1]) as Buffer, a[2] as never, a[3] as never),
  seal: (c, a) => c.seal(a[0] as string, a[1] as never),
  getAcl: (c, a) => c.getAcl(a[0] as string),
  setAcl: (c, a) => c.setAcl(a[0] as string, a[1] as never, a[2] as number | undefined),
  get: (c, a, w) => c.get(a[0] as string, w),
  set: (c, a) => c.set(a[0] as string, toBuffer(a[1]) as Buffer, a[2] as number | undefined),
  exists: (c, a, w) => c.exists(a[0] as string, w),
  getChildren: (c, a, w) => c.getChildren(a[0] as string, w),
  delete: (c, a) => c.delete(a[0] as string, a[1] as number | undefined),
  mkdirp: (c, a) => c.mkdirp(a[0] as string, a[1] as never),
};

async function call(m: Extract<ToWorker, { t: 'call' }>): Promise<void> {
  const client = clients.get(m.client);
  const op = OPS[m.op];
  try {
    if (!client) {
      // Closed (or lost with an earlier worker): as a closed ZkClient answers.
      if (m.op === 'close') return post({ t: 'reply', call: m.call, ok: true, result: undefined });
      throw { code: 'CLOSED', message: `ZooKeeper ${m.op}: the client is closed` } satisfies RemoteError;
    }
    if (!op) throw { code: 'BAD_ARGUMENTS', message: `unknown ZooKeeper operation ${m.op}` } satisfies RemoteError;
    const watch = m.watch;
    const watcher =
      watch === undefined ? undefined : (event: { type: string; path: string }) => post({ t: 'watch', watch, event });
    const result = await op(client, m.args, watcher);
    post({ t: 'reply', call: m.call, ok: true, result });
  } catch (err) {
    const error =
      typeof err === 'object' && err !== null && 'code' in err && !(err instanceof Error)
        ? (err as RemoteError)
        : remoteError(err);
    post({ t: 'reply', call: m.call, ok: false, error });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'open') open(m.client, m.options, m.levels);
  else void call(m);
});
