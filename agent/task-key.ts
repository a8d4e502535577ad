/** The one key of a task on this agent: task ids are unique only within their framework. */
export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}
