import pino from 'pino';

/** Structured logs (pino) on stderr, so stdout stays for what a command prints for people. */
export function createLogger(name: string, level = process.env.AGORA_LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
