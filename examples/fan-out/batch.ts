/**
 * A fan-out batch framework on `agora/sdk`: one task per work item (the command sees the item as
 * $ITEM), each failed task retried up to `maxAttempts` times, then one result: which items
 * succeeded and which failed (with their attempts and last state). See docs/sdk.md.
 *
 *   node dist/examples/fan-out/batch.js --master 127.0.0.1:5050 --command 'test $ITEM -ne 3' 1 2 3 4
 */
import { parseArgs } from 'node:util';
import {
  buildTaskInfo,
  isSuccess,
  isTerminal,
  SchedulerDriver,
  type TaskNeed,
  type TaskState,
  type TaskStatus,
  take,
} from 'agora/sdk';

export interface BatchOptions {
  items: string[];
  command: string;
  /** What each task needs (default 0.1 CPU, 32 MB). */
  need?: TaskNeed;
  /** Attempts per item, the first included (default 3). */
  maxAttempts?: number;
}

export interface BatchResult {
  succeeded: string[];
  failed: { item: string; attempts: number; state: TaskState; message?: string }[];
  /** Attempts per item. */
  attempts: Record<string, number>;
}

/** Runs the batch on `driver` (started here) and tears the framework down at the end. */
export function runBatch(driver: SchedulerDriver, opts: BatchOptions): Promise<BatchResult> {
  const need = opts.need ?? { cpus: 0.1, mem: 32 };
  const maxAttempts = opts.maxAttempts ?? 3;
  const queue = opts.items.map((_, i) => i); // item indexes waiting for a launch
  const attempts = opts.items.map(() => 0);
  const itemOf = new Map<string, number>(); // task id → item index
  const outcome = new Map<number, TaskStatus>(); // item index → its final status
  return new Promise((resolve) => {
    const finish = () => {
      const result: BatchResult = { succeeded: [], failed: [], attempts: {} };
      opts.items.forEach((item, i) => {
        result.attempts[item] = attempts[i];
        const s = outcome.get(i) as TaskStatus;
        if (isSuccess(s.state)) result.succeeded.push(item);
        else result.failed.push({ item, attempts: attempts[i], state: s.state, message: s.message });
      });
      void driver.teardown().then(() => resolve(result));
    };
    driver.on('offers', (offers) => {
      for (const offer of offers) {
        let left = offer.resources;
        const tasks = [];
        while (queue.length > 0) {
          const got = take({ ...offer, resources: left }, need);
          if (!got.ok) break;
          const i = queue.shift() as number;
          const id = `item-${i}-attempt-${++attempts[i]}`;
          itemOf.set(id, i);
          tasks.push(
            buildTaskInfo({
              id,
              agentId: offer.agent_id,
              resources: got.taken,
              command: opts.command,
              env: { ITEM: opts.items[i] },
            }),
          );
          left = got.left.toList();
        }
        if (tasks.length > 0) driver.launch(offer, tasks);
      }
      if (queue.length === 0) driver.idle();
    });
    driver.on('update', (status) => {
      const i = itemOf.get(status.task_id);
      if (i === undefined || !isTerminal(status.state) || outcome.has(i)) return;
      itemOf.delete(status.task_id);
      if (!isSuccess(status.state) && attempts[i] < maxAttempts) {
        queue.push(i); // retry
        driver.wantOffers();
        return;
      }
      outcome.set(i, status);
      if (outcome.size === opts.items.length) finish();
    });
    driver.start();
  });
}

if (process.argv[1]?.endsWith('batch.js')) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      master: { type: 'string', default: '127.0.0.1:5050' },
      command: { type: 'string', default: 'echo $ITEM' },
      attempts: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: node dist/examples/fan-out/batch.js [--master 127.0.0.1:5050] [--command "echo $ITEM"] [--attempts 3] ITEM...\n' +
        'One task per ITEM ($ITEM in its environment), each failure retried up to --attempts; prints one JSON\n' +
        'result; exits 0 when every item succeeded, 1 otherwise (docs/sdk.md, "Examples").',
    );
    process.exit(0);
  }
  const driver = new SchedulerDriver({ master: values.master as string, framework: { name: 'fan-out' } });
  const items = positionals.length > 0 ? positionals : ['1', '2', '3'];
  void runBatch(driver, { items, command: values.command as string, maxAttempts: Number(values.attempts) }).then(
    (result) => {
      console.log(JSON.stringify(result));
      process.exit(result.failed.length === 0 ? 0 : 1);
    },
  );
}
