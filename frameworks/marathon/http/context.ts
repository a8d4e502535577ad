/** What the REST routes need from the Marathon node: the service (leader only), leadership, info. */

import type { Clock } from 'agora/sdk';
import { Type } from 'typebox';
import type { MarathonService } from '../core/service.js';

export interface MarathonHttpContext {
  /** The running service; throws NoLeader (503) on a non-leader that could not proxy. */
  service(): MarathonService;
  leader(): { isLeader: boolean; leader?: string };
  abdicate(): Promise<boolean>;
  info(): Record<string, unknown>;
  clock: Clock;
}

export const READ = 'marathon_view';
export const WRITE = 'marathon_update';

const Flag = Type.Optional(Type.String({ maxLength: 8 }));
export const ForceQuery = Type.Object({ force: Flag }, { additionalProperties: true });
export const EmbedValue = Type.Optional(
  Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 16 })]),
);

export function flag(v: string | undefined): boolean {
  return v === 'true' || v === '1' || v === '';
}

/** The `{version, deploymentId}` answer of a change. */
export function changeAnswer(d: { id: string; version: string }): { version: string; deploymentId: string } {
  return { version: d.version, deploymentId: d.id };
}
