/**
 * A task's secret references and what to do with their values, as pure functions: which names a
 * TaskInfo references (env variables of type SECRET, volumes with a SECRET source), where each
 * value goes, and the translation of Marathon/Metronome's `secrets` + `env` shape to Mesos's.
 */
import type { EnvironmentVariable, TaskInfo, Volume } from '../protocol/types.js';
import { BadSecretReference } from './errors.js';
import { MAX_TASK_SECRETS, secretNameProblem } from './names.js';

/** Where the values go: environment variables by name, files by sandbox-relative path. */
export interface SecretPlan {
  /** Distinct names to ask for, sorted. */
  names: string[];
  env: { variable: string; secret: string }[];
  files: { path: string; secret: string }[];
}

/** Why a secret volume's `container_path` cannot be a file in the sandbox, or undefined. */
export function secretFilePathProblem(p: string): string | undefined {
  if (p.startsWith('/')) return `secret volume path '${p}' must be relative to the sandbox`;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) {
    return `secret volume path '${p}' has an empty, '.' or '..' segment`;
  }
  if (parts.length > 8 || p.length > 255) return `secret volume path '${p}' is too long`;
  if ([...p].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f'))
    return 'a secret volume path has a control character';
  return undefined;
}

/** The task's secret references; throws BadSecretReference when they are malformed or too many. */
export function secretPlan(task: Pick<TaskInfo, 'command' | 'container'>): SecretPlan {
  const env: SecretPlan['env'] = [];
  const files: SecretPlan['files'] = [];
  for (const v of task.command?.environment?.variables ?? []) {
    if (v.type !== 'SECRET') continue;
    const name = v.secret?.reference.name;
    if (!name || secretNameProblem(name)) throw new BadSecretReference(`variable '${v.name}' has no valid secret name`);
    env.push({ variable: v.name, secret: name });
  }
  for (const vol of task.container?.volumes ?? []) {
    if (vol.source?.type !== 'SECRET') continue;
    const name = vol.source.secret.reference.name;
    const p = secretFilePathProblem(vol.container_path);
    if (p) throw new BadSecretReference(p);
    if (vol.host_path) throw new BadSecretReference(`secret volume '${vol.container_path}' takes no host_path`);
    files.push({ path: vol.container_path, secret: name });
  }
  if (env.length + files.length > MAX_TASK_SECRETS) {
    throw new BadSecretReference(`a task references at most ${MAX_TASK_SECRETS} secrets`);
  }
  return { names: [...new Set([...env, ...files].map((r) => r.secret))].sort(), env, files };
}

/** The task without its secret volumes (they are files the agent writes, not mounts for a containerizer). */
export function withoutSecretVolumes<T extends Pick<TaskInfo, 'container'>>(task: T): T {
  const volumes = task.container?.volumes;
  if (!volumes?.some((v) => v.source?.type === 'SECRET')) return task;
  return { ...task, container: { ...task.container, volumes: volumes.filter((v) => v.source?.type !== 'SECRET') } };
}

// ---------------------------------------------------------------- Marathon / Metronome

/** Marathon's `secrets`: `{"db": {"source": "/prod/db/password"}}`. */
export type MarathonSecrets = Record<string, { source: string }>;
/** Marathon's `env`: a value, or `{"secret": "<id in secrets>"}`. */
export type MarathonEnv = Record<string, string | { secret: string }>;
/** Marathon's secret volume: `{"containerPath": "creds/db", "secret": "db"}`. */
export interface MarathonSecretVolume {
  containerPath: string;
  secret: string;
}

const MAX_MARATHON_ENTRIES = 1024;

/**
 * Mesos's shape of Marathon/Metronome's `secrets`, `env` and secret volumes: environment
 * variables (VALUE and SECRET) and SECRET volumes. Throws BadSecretReference for an env or volume
 * naming an id that `secrets` lacks, a bad source, or too many entries. Pure.
 */
export function translateMarathonSecrets(
  secrets: MarathonSecrets | undefined,
  env: MarathonEnv | undefined,
  volumes: readonly MarathonSecretVolume[] = [],
): { variables: EnvironmentVariable[]; volumes: Volume[] } {
  const s = secrets ?? {};
  const e = env ?? {};
  if (Object.keys(s).length > MAX_MARATHON_ENTRIES || Object.keys(e).length > MAX_MARATHON_ENTRIES) {
    throw new BadSecretReference(`at most ${MAX_MARATHON_ENTRIES} secrets and env entries`);
  }
  const source = (id: string, where: string): string => {
    if (!Object.hasOwn(s, id)) throw new BadSecretReference(`${where} names secret '${id}', which "secrets" lacks`);
    const src = s[id]?.source;
    const p = secretNameProblem(src);
    if (p) throw new BadSecretReference(`secrets.${id}.source: ${p}`);
    return src;
  };
  const ref = (name: string) => ({ type: 'REFERENCE' as const, reference: { name } });
  const variables: EnvironmentVariable[] = Object.entries(e).map(([name, v]) =>
    typeof v === 'string'
      ? { name, type: 'VALUE', value: v }
      : { name, type: 'SECRET', secret: ref(source(v.secret, `env.${name}`)) },
  );
  const vols: Volume[] = volumes.map((v, i) => {
    const p = secretFilePathProblem(v.containerPath);
    if (p) throw new BadSecretReference(`volumes[${i}]: ${p}`);
    return {
      container_path: v.containerPath,
      mode: 'RO',
      source: { type: 'SECRET', secret: ref(source(v.secret, `volumes[${i}]`)) },
    };
  });
  if (vols.length + variables.filter((v) => v.type === 'SECRET').length > MAX_TASK_SECRETS) {
    throw new BadSecretReference(`a task references at most ${MAX_TASK_SECRETS} secrets`);
  }
  return { variables, volumes: vols };
}
