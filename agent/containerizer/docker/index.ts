/** The docker containerizer's public face. */
export {
  type ContainerConfigOptions,
  CPU_PERIOD_US,
  containerConfig,
  containerName,
  DEFAULT_SANDBOX_MOUNT,
  hostPortFor,
  LABEL_AGENT_ID,
  LABEL_FRAMEWORK_ID,
  LABEL_TASK_ID,
  parseSize,
  resolvePortMappings,
} from './config.js';
export type { DockerHandleData } from './container.js';
export { DockerContainerizer, type DockerContainerizerOptions } from './containerizer.js';
export { type AgoraContainerSummary, listAgoraContainers } from './engine.js';
export { demultiplexer } from './logs.js';
