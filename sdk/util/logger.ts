import pino from 'pino';

/** Structured logs (pino) on stderr, so stdout stays for what a command prints for people. */
export function createLogger(name: string, level?: string): pino.Logger {
  return pino(
    { name, level: level ?? process.env.AGORA_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
    pino.destination(2),
  );
}
