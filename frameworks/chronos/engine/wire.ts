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
    // Nothing is launched until the id is durable: a next leader that cannot read it subscribes as a
    // new framework, and the tasks launched meanwhile would run on unreconciled, and their runs again.
    const durable = (async () => {
      for (let attempt = 0; engine.attached; attempt++) {
        try {
          const v = await store.get<string>(KEYS.frameworkId);
          if (v?.value !== frameworkId) await store.put(KEYS.frameworkId, frameworkId, v?.version);
          return;
        } catch (err) {
          log.error({ err }, 'could not store the framework id; launching nothing until it is stored');
          await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** Math.min(attempt, 6))));
        }
      }
    })();
    log.info({ frameworkId }, 'subscribed; reconciling before launching');
    engine.onSubscribed(durable);
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
