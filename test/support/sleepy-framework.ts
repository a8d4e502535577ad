/**
 * A framework in its own process, for fault tests that kill a framework: subscribes, launches
 * `count` long-running tasks, and prints `FRAMEWORK_ID=<id>` then `RUNNING=<n>` as they start.
 * Usage: node sleepy-framework.js <master> <count>
 */
import { Resources } from '../../sdk/resources/resources.js';
import { SchedulerDriver } from '../../sdk/scheduler/driver.js';
import { commandTask } from './framework.js';

const [master, countText] = process.argv.slice(2);
const count = Number(countText ?? '5');
const driver = new SchedulerDriver({ master, framework: { name: 'sleepy', failover_timeout: 600 } });
const running = new Set<string>();
let next = 0;
driver.on('subscribed', ({ frameworkId }) => console.log(`FRAMEWORK_ID=${frameworkId}`));
driver.on('offers', (offers) => {
  for (const o of offers) {
    let free = Resources.from(o.resources);
    const need = Resources.parse('cpus:0.1;mem:32');
    const tasks = [];
    while (next < count && free.contains(need)) {
      tasks.push(commandTask(o, `sleepy-${next++}`, 'sleep 600'));
      free = free.minus(need);
    }
    if (tasks.length > 0) driver.launch(o, tasks, { refuse_seconds: 0 });
    else driver.decline([o.id], { refuse_seconds: 60 });
  }
});
driver.on('update', (s) => {
  if (s.state === 'TASK_RUNNING' && !running.has(s.task_id)) {
    running.add(s.task_id);
    console.log(`RUNNING=${running.size}`);
  }
});
driver.start();
