// The tutorial's framework (docs/sdk.md): run N copies of a command, relaunch failures, exit when done.
import { parseArgs } from 'node:util';
import { isTerminal, Resources, SchedulerDriver, type TaskInfo } from 'agora/sdk';

export interface JobOptions {
  tasks: number;
  command: string;
  resources?: string;
  /** Give up after this many failed tasks (default 3). */
  maxFailures?: number;
}

/** Runs the job on a started-or-not driver; resolves 0 when every task finished, 1 after too many failures. */
export function runJob(driver: SchedulerDriver, job: JobOptions): Promise<number> {
  const need = Resources.parse(job.resources ?? 'cpus:0.1;mem:32');
  const toLaunch = Array.from({ length: job.tasks }, (_, i) => `task-${i}`);
  const finished = new Set<string>();
  let failures = 0;
  return new Promise((resolve) => {
    const end = (code: number) => void driver.teardown().then(() => resolve(code));
    driver.on('offers', (offers) => {
      for (const offer of offers) {
        let left = Resources.from(offer.resources).allocatableTo(offer.allocation_role);
        const tasks: TaskInfo[] = [];
        while (toLaunch.length > 0 && left.contains(need)) {
          const id = toLaunch.shift() as string;
          const command = { value: job.command };
          tasks.push({ name: id, task_id: id, agent_id: offer.agent_id, command, resources: need.toList() });
          left = left.minus(need);
        }
        if (tasks.length > 0) driver.launch(offer, tasks); // unused offers are declined for us
      }
      if (toLaunch.length === 0) driver.idle(); // no more offers until wantOffers()
    });
    driver.on('update', (status) => {
      console.log(`${status.task_id}: ${status.state}${status.message ? ` (${status.message})` : ''}`);
      if (!isTerminal(status.state) || finished.has(status.task_id)) return;
      if (status.state === 'TASK_FINISHED') finished.add(status.task_id);
      else if (++failures > (job.maxFailures ?? 3)) return end(1);
      else {
        toLaunch.push(status.task_id); // relaunch it
        driver.wantOffers();
      }
      if (finished.size === job.tasks) end(0);
    });
    driver.start();
  });
}

if (process.argv[1]?.endsWith('framework.js')) {
  const { values: v } = parseArgs({
    options: { master: { type: 'string', default: '127.0.0.1:5050' }, tasks: { type: 'string', default: '3' } },
  });
  const driver = new SchedulerDriver({ master: v.master as string, framework: { name: 'tutorial' } });
  runJob(driver, { tasks: Number(v.tasks), command: 'echo hello from $MESOS_TASK_ID' }).then((c) => process.exit(c));
}
