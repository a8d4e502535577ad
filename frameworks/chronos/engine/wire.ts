/**
 * Connects the engine to a scheduler driver: offers, rescinds, updates and (re)subscriptions go to
 * the engine; the framework id the master gives is kept in the Store so that the next leader
 * subscribes as the same framework (and keeps its tasks). Used by the service and by the tests.
 */

import type { SchedulerDriver, Store } from 'agora/sdk';
import type pino from 'pino';
import type { Engine } from './engine.js';
import { KEYS } from './records.js';

export function wireEngine(engine: Engine, driver: SchedulerDriver, store: Store, log: pino.Logger): void {
  driver.on('subscribed', ({ frameworkId }) => {
    void store
      .get<string>(KEYS.frameworkId)
      .then((v) => (v?.value === frameworkId ? undefined : store.put(KEYS.frameworkId, frameworkId, v?.version)))
      .catch((err) => log.error({ err }, 'could not store the framework id'));
    log.info({ frameworkId }, 'subscribed; reconciling before launching');
    engine.onSubscribed();
  });
  driver.on('offers', (offers) => engine.onOffers(offers));
  driver.on('rescind', (id) => engine.onRescind(id));
  driver.on('update', (s) => void engine.onUpdate(s));
  driver.on('disconnected', () => engine.onDisconnected());
  driver.on('error', (err) => log.warn({ err }, 'master error'));
  engine.attach(driver);
}

/** The framework id a new leader subscribes with (undefined on the very first start). */
export async function storedFrameworkId(store: Store): Promise<string | undefined> {
  return (await store.get<string>(KEYS.frameworkId))?.value;
}

/**
 * How the engine wants its driver: it acknowledges an update only once its outcome is durable, holds
 * offers while a due time is near (so they are not declined behind its back), and runs its own
 * reconciliation, which gates every launch.
 */
export const ENGINE_DRIVER_OPTIONS = {
  implicitAcknowledgements: false,
  declineUnused: false,
  reconcile: false,
} as const;
