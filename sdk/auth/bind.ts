/**
 * Secure by default: a daemon listens beyond loopback only with authentication on, or when the
 * operator said `--insecure` (and then it says so in its log at every start).
 */
import { isIP } from 'node:net';
import { InsecureBind } from './errors.js';

/** Loopback addresses: 127.0.0.0/8, ::1, `localhost`. Anything else (0.0.0.0, ::, a name) is not. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (h.startsWith('::ffff:')) return isLoopback(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

export interface BindCheck {
  component: 'master' | 'agent';
  host: string;
  /** Whether the listener authenticates what it must (see docs/security.md). */
  authenticated: boolean;
  insecure: boolean;
  /** What is missing, for the message (e.g. `--authenticate_agents`). */
  missing?: string[];
}

/** Throws InsecureBind when the daemon must not start; returns a warning line to log when `--insecure` lets it. */
export function checkBind(c: BindCheck): string | undefined {
  if (isLoopback(c.host) || c.authenticated) return undefined;
  if (c.insecure) {
    return (
      `INSECURE: the ${c.component} listens on ${c.host} without authentication (--insecure): anyone who ` +
      'can reach this port can run commands on the cluster. See docs/security.md.'
    );
  }
  const need = c.missing?.length ? ` (missing: ${c.missing.join(', ')})` : '';
  throw new InsecureBind(
    `refusing to listen on ${c.host} without authentication${need}: give --credentials and turn ` +
      'authentication on, listen on 127.0.0.1, or pass --insecure to accept the risk (docs/security.md)',
  );
}
