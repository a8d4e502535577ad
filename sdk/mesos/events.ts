/**
 * Scheduler events between Agora's wire messages and Mesos's v1 JSON (scheduler.proto `Event`),
 * both ways. Agora's LEADER event (this master does not lead; go to another) has no Mesos form:
 * an HTTP scheduler learns it by its stream ending and its next call being redirected (307).
 * Timestamps are seconds as doubles, uuids base64, ids `{value}`, attributes Mesos's TEXT/SCALAR.
 */
import { Compile } from 'typebox/compile';
import type { SchedulerEvent } from '../protocol/messages.js';
import type { MasterInfo, Offer, TaskStatus } from '../protocol/types.js';
import { firstProblem } from './describe.js';
import { InvalidMesosEvent } from './errors.js';
import { MesosEvent, type MesosMasterInfo, type MesosOffer, type MesosTaskStatus } from './schema.js';
import { resourceFromMesos, resourceToMesos } from './tasks.js';
import { compact, dropNulls, ipv4ToUint32, mid, uint32ToIpv4, uuidFromBase64, uuidToBase64 } from './values.js';

type Json = Record<string, unknown>;

const NUMBER_RE = /^-?\d+(\.\d+)?$/;

export function masterInfoToMesos(m: MasterInfo): Json {
  return {
    id: m.id,
    ip: ipv4ToUint32(m.address.ip),
    port: m.port,
    pid: m.pid,
    hostname: m.hostname,
    version: m.version,
    address: { hostname: m.address.hostname, ip: m.address.ip, port: m.address.port },
  };
}

/** Where an agent serves HTTP, for Offer.url (Mesos always sets it; client libraries read `url.address.ip`). */
export interface AgentAddress {
  hostname: string;
  ip: string;
  port: number;
}

/** What the translation of events may look up outside the event. */
export interface EventContext {
  agentAddress?(agentId: string): AgentAddress | undefined;
}

export function offerToMesos(o: Offer, ctx: EventContext = {}): Json {
  const addr = ctx.agentAddress?.(o.agent_id);
  return {
    id: mid(o.id),
    framework_id: mid(o.framework_id),
    agent_id: mid(o.agent_id),
    hostname: o.hostname,
    resources: o.resources.map((r) => resourceToMesos(r, o.allocation_role)),
    // Mesos parses `rack:r1` as TEXT and `n:2` as SCALAR.
    attributes: Object.entries(o.attributes).map(([name, value]) =>
      NUMBER_RE.test(value) && String(Number(value)) === value
        ? { name, type: 'SCALAR', scalar: { value: Number(value) } }
        : { name, type: 'TEXT', text: { value } },
    ),
    allocation_info: { role: o.allocation_role },
    ...(addr ? { url: { scheme: 'http', address: { ...addr }, path: '/slave(1)' } } : {}),
  };
}

export function statusToMesos(s: TaskStatus): Json {
  // exit_status has no place in Mesos's TaskStatus: it is left out.
  return compact({
    task_id: mid(s.task_id),
    state: s.state,
    message: s.message,
    source: s.source,
    reason: s.reason,
    agent_id: s.agent_id !== undefined ? mid(s.agent_id) : undefined,
    timestamp: s.timestamp,
    uuid: s.uuid !== undefined ? uuidToBase64(s.uuid) : undefined,
    healthy: s.healthy,
  });
}

/** Agora → Mesos; undefined for LEADER (no Mesos form: the HTTP layer ends the stream instead). */
export function eventToMesos(e: SchedulerEvent, ctx: EventContext = {}): Json | undefined {
  switch (e.type) {
    case 'SUBSCRIBED':
      return {
        type: 'SUBSCRIBED',
        subscribed: {
          framework_id: mid(e.subscribed.framework_id),
          heartbeat_interval_seconds: e.subscribed.heartbeat_interval_seconds,
          master_info: masterInfoToMesos(e.subscribed.master_info),
        },
      };
    case 'OFFERS':
      return { type: 'OFFERS', offers: { offers: e.offers.offers.map((o) => offerToMesos(o, ctx)) } };
    case 'RESCIND':
      return { type: 'RESCIND', rescind: { offer_id: mid(e.rescind.offer_id) } };
    case 'UPDATE':
      return { type: 'UPDATE', update: { status: statusToMesos(e.update.status) } };
    case 'FAILURE':
      return { type: 'FAILURE', failure: { agent_id: mid(e.failure.agent_id) } };
    case 'ERROR':
      // Mesos's Error has only a message; Agora's stable code leads it.
      return {
        type: 'ERROR',
        error: { message: e.error.code ? `${e.error.code}: ${e.error.message}` : e.error.message },
      };
    case 'HEARTBEAT':
      return { type: 'HEARTBEAT' };
    case 'MESSAGE':
      return {
        type: 'MESSAGE',
        message: { agent_id: mid(e.message.agent_id), executor_id: mid(e.message.executor_id), data: e.message.data },
      };
    case 'LEADER':
      return undefined;
  }
}

// ---------------------------------------------------------------- Mesos → Agora (a client's side)

const eventValidator = Compile(MesosEvent);

function masterInfoFromMesos(m: MesosMasterInfo): MasterInfo {
  const ip = m.address?.ip ?? uint32ToIpv4(m.ip);
  const hostname = m.hostname ?? m.address?.hostname ?? ip;
  return {
    id: m.id,
    pid: m.pid ?? `master@${ip}:${m.port}`,
    hostname,
    port: m.port,
    address: { hostname: m.address?.hostname ?? hostname, ip, port: m.address?.port ?? m.port },
    version: m.version ?? '',
  };
}

function offerFromMesos(o: MesosOffer): Offer {
  const attributes: Record<string, string> = {};
  for (const a of o.attributes ?? []) {
    if (a.type === 'TEXT' && a.text) attributes[a.name] = a.text.value;
    else if (a.type === 'SCALAR' && a.scalar) attributes[a.name] = String(a.scalar.value);
  }
  const role =
    o.allocation_info?.role ?? o.resources.find((r) => r.allocation_info?.role)?.allocation_info?.role ?? '*';
  return {
    id: o.id.value,
    framework_id: o.framework_id.value,
    agent_id: o.agent_id.value,
    hostname: o.hostname,
    resources: o.resources.map(resourceFromMesos),
    attributes,
    allocation_role: role,
  };
}

function statusFromMesos(s: MesosTaskStatus): TaskStatus {
  return compact({
    task_id: s.task_id.value,
    state: s.state as TaskStatus['state'],
    message: s.message,
    reason: s.reason,
    source: s.source as TaskStatus['source'],
    agent_id: s.agent_id?.value,
    healthy: s.healthy,
    timestamp: s.timestamp ?? 0,
    uuid: s.uuid !== undefined ? uuidFromBase64(s.uuid) : undefined,
  }) as TaskStatus;
}

/** Mesos → Agora, for a client reading a Mesos stream. Throws InvalidMesosEvent. */
export function eventFromMesos(raw: unknown): SchedulerEvent {
  const value = dropNulls(raw);
  if (!eventValidator.Check(value)) throw new InvalidMesosEvent(firstProblem(eventValidator, value, 'event'));
  const e = value as MesosEvent;
  const need = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) throw new InvalidMesosEvent(`event.${field}: is required for a ${e.type} event`);
    return v;
  };
  switch (e.type) {
    case 'SUBSCRIBED': {
      const s = need(e.subscribed, 'subscribed');
      return {
        type: 'SUBSCRIBED',
        subscribed: {
          framework_id: s.framework_id.value,
          heartbeat_interval_seconds: s.heartbeat_interval_seconds ?? 15,
          master_info: masterInfoFromMesos(need(s.master_info, 'subscribed.master_info')),
        },
      };
    }
    case 'OFFERS':
      return { type: 'OFFERS', offers: { offers: need(e.offers, 'offers').offers.map(offerFromMesos) } };
    case 'RESCIND':
      return { type: 'RESCIND', rescind: { offer_id: need(e.rescind, 'rescind').offer_id.value } };
    case 'UPDATE':
      return { type: 'UPDATE', update: { status: statusFromMesos(need(e.update, 'update').status) } };
    case 'FAILURE':
      return {
        type: 'FAILURE',
        failure: { agent_id: need(need(e.failure, 'failure').agent_id, 'failure.agent_id').value },
      };
    case 'ERROR': {
      const message = need(e.error, 'error').message;
      const m = /^(AGORA_[A-Z0-9_]+): ([\s\S]*)$/.exec(message);
      return { type: 'ERROR', error: m ? { code: m[1], message: m[2] } : { message } };
    }
    case 'HEARTBEAT':
      return { type: 'HEARTBEAT' };
    case 'MESSAGE': {
      const m = need(e.message, 'message');
      return {
        type: 'MESSAGE',
        message: { agent_id: m.agent_id.value, executor_id: m.executor_id.value, data: m.data },
      };
    }
    default:
      throw new InvalidMesosEvent(`event.type: ${JSON.stringify(e.type).slice(0, 64)} is not an event Agora reads`);
  }
}
