/**
 * Answers an agent's SECRETS_REQUEST: only for a live task the master placed on THAT agent, only
 * names the task references, only when the framework's principal may `access_secrets` each. The
 * decision is a pure function; the answer reads the store. Values are never logged.
 */
import type pino from 'pino';
import { AgoraError } from '../../sdk/errors.js';
import type { AgentMessage, MasterToAgentMessage } from '../../sdk/protocol/messages.js';
import { isTerminal } from '../../sdk/protocol/types.js';
import {
  BadSecretReference,
  SecretAccessDenied,
  SecretsDisabled,
  SecretsWrongAgent,
} from '../../sdk/secrets/errors.js';
import { secretPlan } from '../../sdk/secrets/refs.js';
import { type FrameworkEntry, type TaskEntry, taskKey } from '../registry.js';
import type { SecretStore } from './store.js';

export type SecretsRequest = Extract<AgentMessage, { type: 'SECRETS_REQUEST' }>;
export type SecretsAnswer = Extract<MasterToAgentMessage, { type: 'SECRETS' }>;

/** What the master knows, as read-only views. */
export interface DeliveryView {
  leading: boolean;
  tasks: ReadonlyMap<string, TaskEntry>;
  frameworks: ReadonlyMap<string, FrameworkEntry>;
}

/** May `principal` read the value of secret `name`? (the ACL `access_secrets`). */
export type SecretPermits = (principal: string | undefined, name: string) => boolean;

/** Why this agent may not have these values, or undefined. Pure. */
export function deliveryRefusal(
  view: DeliveryView,
  agentId: string | undefined,
  req: SecretsRequest,
  permits: SecretPermits,
): AgoraError | undefined {
  if (!view.leading) return new SecretsWrongAgent('this master is not the leader');
  if (!agentId) return new SecretsWrongAgent('register first');
  const t = view.tasks.get(taskKey(req.framework_id, req.task_id));
  if (!t || t.agentId !== agentId) {
    return new SecretsWrongAgent(`task '${req.task_id}' is not one this master placed on this agent`);
  }
  if (isTerminal(t.state)) return new SecretsWrongAgent(`task '${req.task_id}' has ended`);
  let referenced: Set<string>;
  try {
    referenced = new Set(secretPlan(t.task).names);
  } catch (e) {
    return e as AgoraError;
  }
  const extra = req.names.find((n) => !referenced.has(n));
  if (extra) return new BadSecretReference(`task '${req.task_id}' does not reference secret '${extra}'`);
  const principal = view.frameworks.get(req.framework_id)?.info.principal;
  const denied = req.names.find((n) => !permits(principal, n));
  if (denied) {
    return new SecretAccessDenied(
      `${principal ? `principal '${principal}'` : 'a framework without a principal'} may not read secret '${denied}' (ACL access_secrets)`,
    );
  }
  return undefined;
}

export class SecretsDelivery {
  constructor(
    private readonly store: SecretStore | undefined,
    private readonly permits: SecretPermits,
    private readonly log: pino.Logger,
  ) {}

  async answer(view: DeliveryView, agentId: string | undefined, req: SecretsRequest): Promise<SecretsAnswer> {
    const base = { type: 'SECRETS' as const, request_id: req.request_id };
    const ctx = { agentId, frameworkId: req.framework_id, taskId: req.task_id, names: req.names };
    const fail = (e: AgoraError): SecretsAnswer => {
      this.log.warn({ ...ctx, code: e.code, reason: e.message }, 'refused a secrets request');
      return { ...base, error: { code: e.code, message: e.message } };
    };
    if (!this.store) return fail(new SecretsDisabled('secrets are disabled: start the master with --secrets_key_file'));
    const refusal = deliveryRefusal(view, agentId, req, this.permits);
    if (refusal) return fail(refusal);
    try {
      const values = await this.store.reveal(req.names);
      this.log.info(ctx, 'delivered secrets to an agent');
      return { ...base, secrets: req.names.map((name) => ({ name, value: values.get(name) as string })) };
    } catch (e) {
      if (e instanceof AgoraError) return fail(e);
      return fail(new SecretsDisabled(`the secret store cannot be read: ${(e as Error).message}`));
    }
  }
}
