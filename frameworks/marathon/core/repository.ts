/**
 * Marathon's durable state on the SDK Store (ZooKeeper with `--zk`, files under `--work_dir`):
 *
 *   marathon/root                      the root group (every app and group; chunked by the Store)
 *   marathon/group-versions/<ts>       earlier root groups (the last 50), for `version` roll-backs
 *   marathon/app-versions/<app>/<ts>   every version of each app (the last 50)
 *   marathon/deployments/<id>          running deployments (resumed by a new leader)
 *   marathon/instances/<app>           the app's instances (task ids, agents, ports, versions)
 *   marathon/framework-id              the framework id a new leader re-subscribes with
 *
 * `<app>` is the app id with `_` for `/`. Only the leader writes.
 */
import type { Store } from 'agora/sdk';
import { isConflict } from 'agora/sdk';
import type { Instance } from './instances.js';
import type { AppDef, GroupDef } from './spec.js';

export const MAX_VERSIONS = 50;
const P = 'marathon';

export interface StoredDeployment {
  id: string;
  version: string;
  original: GroupDef;
  target: GroupDef;
  steps: { actions: { action: string; app: string }[] }[];
  /** Steps done so far (the current step is `done`, 0-based). */
  done: number;
  affectedApps: string[];
  affectedPods: string[];
}

export function appKey(appId: string): string {
  return appId.slice(1).replace(/\//g, '_') || '_root';
}

export class Repository {
  private readonly versions = new Map<string, number>();

  constructor(private readonly store: Store) {}

  private async read<T>(key: string): Promise<T | undefined> {
    const v = await this.store.get<T>(key);
    if (!v) {
      this.versions.delete(key);
      return undefined;
    }
    this.versions.set(key, v.version);
    return v.value;
  }

  /** Writes `value` at `key` whatever is there (only the leader writes; a conflict re-reads the version). */
  async write<T>(key: string, value: T): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const expected = this.versions.get(key);
      try {
        this.versions.set(key, await this.store.put(key, value, expected));
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 3) throw e;
        const now = await this.store.get(key);
        if (now) this.versions.set(key, now.version);
        else this.versions.delete(key);
      }
    }
  }

  async remove(key: string): Promise<void> {
    this.versions.delete(key);
    await this.store.delete(key);
  }

  loadRoot(): Promise<GroupDef | undefined> {
    return this.read<GroupDef>(`${P}/root`);
  }

  async saveRoot(root: GroupDef): Promise<void> {
    await this.write(`${P}/root`, root);
  }

  async saveGroupVersion(previous: GroupDef): Promise<void> {
    await this.write(`${P}/group-versions/${previous.version}`, previous);
    await this.trim(`${P}/group-versions/`);
  }

  async groupVersions(): Promise<string[]> {
    return (await this.store.list(`${P}/group-versions/`)).map((k) => k.slice(k.lastIndexOf('/') + 1));
  }

  loadGroupVersion(version: string): Promise<GroupDef | undefined> {
    return this.read<GroupDef>(`${P}/group-versions/${version}`);
  }

  async saveAppVersion(app: AppDef): Promise<void> {
    const dir = `${P}/app-versions/${appKey(app.id)}/`;
    await this.write(`${dir}${app.version}`, app);
    await this.trim(dir);
  }

  async appVersions(appId: string): Promise<string[]> {
    return (await this.store.list(`${P}/app-versions/${appKey(appId)}/`)).map((k) => k.slice(k.lastIndexOf('/') + 1));
  }

  loadAppVersion(appId: string, version: string): Promise<AppDef | undefined> {
    if (!/^[0-9T:.Z+-]{1,40}$/.test(version)) return Promise.resolve(undefined);
    return this.read<AppDef>(`${P}/app-versions/${appKey(appId)}/${version}`);
  }

  async removeAppVersions(appId: string): Promise<void> {
    for (const k of await this.store.list(`${P}/app-versions/${appKey(appId)}/`)) await this.remove(k);
  }

  private async trim(dir: string): Promise<void> {
    const keys = (await this.store.list(dir)).sort();
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_VERSIONS))) await this.remove(k);
  }

  async loadDeployments(): Promise<StoredDeployment[]> {
    const out: StoredDeployment[] = [];
    for (const k of await this.store.list(`${P}/deployments/`)) {
      const d = await this.read<StoredDeployment>(k);
      if (d) out.push(d);
    }
    return out;
  }

  saveDeployment(d: StoredDeployment): Promise<void> {
    return this.write(`${P}/deployments/${d.id}`, d);
  }

  removeDeployment(id: string): Promise<void> {
    return this.remove(`${P}/deployments/${id}`);
  }

  async loadInstances(): Promise<Instance[]> {
    const out: Instance[] = [];
    for (const k of await this.store.list(`${P}/instances/`)) out.push(...((await this.read<Instance[]>(k)) ?? []));
    return out;
  }

  async saveInstances(appId: string, instances: Instance[]): Promise<void> {
    const key = `${P}/instances/${appKey(appId)}`;
    if (instances.length === 0) await this.remove(key);
    else await this.write(key, instances);
  }

  loadFrameworkId(): Promise<string | undefined> {
    return this.read<string>(`${P}/framework-id`);
  }

  saveFrameworkId(id: string): Promise<void> {
    return this.write(`${P}/framework-id`, id);
  }
}
