/**
 * Marathon 1.10's app validation messages and the canonical rules that need more than a schema:
 * containers, port mappings, volumes and networks (AppValidation, NetworkValidation).
 */
import type { Container, Network } from './schema-app.js';
import type { Violations } from './violations.js';

export const AppMessages = {
  cmdArgsOrContainer: "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
  ipDiscoveryDocker: 'ipAddress/discovery is not allowed for Docker containers',
  urisWithFetch: 'may not be set in conjunction with fetch',
  dockerNetworkAndNetworks: 'must not specify both container.docker.network and networks',
  networksAndIp: 'must not specify both networks and ipAddress',
  portsUnique: 'ports must be unique',
  ipAndPort: 'cannot specify both an IP address and port',
  portsAndDefinitions: 'cannot specify both ports and port definitions',
  mustBeEmpty: 'must be empty',
  portNamesUnique: 'Port names must be unique.',
  portsUniqueDefs: 'Ports must be unique.',
  emptyCmd: 'must not be an empty string',
  mappingsHost: 'portMappings are not allowed with host-networking',
  definitionsNonHost: 'portDefinitions are only allowed with host-networking',
  nonEmptyPath: 'Path must contain at least one path element',
  hcPortIndex: 'Health check port indices must address an element of the ports array or container port mappings.',
  oneMesosHc: 'AppDefinition can contain at most one Mesos health check',
  hcIpProtocol: 'IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks',
  envName:
    'must contain only alphanumeric chars or underscore, must not begin with a number, and must be 254 chars or less',
  undefinedSecret: 'references an undefined secret',
  secretsFeature: 'use of secret-references in the environment requires the secrets feature to be enabled',
  gpuDocker: 'GPU resources only work with the Mesos containerizer',
  readinessAtMostOne: 'got 2, expected 1 or less',
  dockerSingleNetwork: 'may only specify a single container network when using the Docker container engine',
  hostNetworkNames: 'Host networks may not have names or labels',
  bridgeNames: 'Bridge networks may not have names',
  duplicateNetworks: 'Duplicate networks are not allowed',
  networkMix: 'May specify a single host network, single bridge network, or else 1-to-n container networks',
  networkName: 'Network name must be specified when container network is selected.',
  unreachableResident: 'unreachableStrategy must be disabled for resident tasks',
  notEmpty: 'must not be empty',
  imageEmpty: 'must not be empty',
  bothUrisFetch: 'cannot specify both uris and fetch fields',
  mixNetworkApis: 'cannot mix deprecated and canonical network APIs',
} as const;

export function uniqueNames(list: readonly { name?: string }[]): boolean {
  const names = list.map((p) => p.name).filter((n): n is string => n !== undefined);
  return new Set(names).size === names.length;
}

export function validUri(u: string): boolean {
  // java.net.URI accepts relative references; refuse only what it refuses: spaces and control characters.
  if (u.length === 0) return false;
  for (const ch of u) if (ch.charCodeAt(0) < 0x20) return false;
  return !/[\s"<>\\^`{|}]/.test(u);
}

export function validateContainer(
  v: Violations,
  P: (p: string) => string,
  c: Container | undefined,
  networks: readonly Network[],
  secrets: Record<string, { source: string }>,
): void {
  if (!c) return;
  if (c.type === 'DOCKER') {
    if (!c.docker) v.add(P('/container/docker'), 'not defined');
    else {
      if (c.docker.image === '') v.add(P('/container/docker/image'), AppMessages.imageEmpty);
      if (c.docker.pullConfig)
        v.add(P('/container/docker/pullConfig'), 'pullConfig is not supported with Docker containerizer');
    }
  } else if (c.docker) {
    if (c.docker.image === '') v.add(P('/container/docker/image'), AppMessages.imageEmpty);
    if (c.docker.pullConfig && !Object.hasOwn(secrets, c.docker.pullConfig.secret)) {
      v.add(P('/container/docker/pullConfig'), 'pullConfig.secret must refer to an existing secret');
    }
  }
  if (c.portMappings) {
    if (!uniqueNames(c.portMappings)) v.add(P('/container/portMappings'), AppMessages.portNamesUnique);
    const names = networks.map((n) => n.name).filter((n): n is string => n !== undefined);
    const containerNets = networks.filter((n) => n.mode === 'container').length;
    c.portMappings.forEach((m, i) => {
      if (containerNets > 1 && m.hostPort !== undefined && (m.networkNames?.length ?? 0) !== 1) {
        v.add(
          P(`/container/portMappings(${i})`),
          'networkNames must be a single item list when hostPort is specified and more than 1 container network is defined',
        );
      }
      for (const nn of m.networkNames ?? []) {
        if (!names.includes(nn))
          v.add(P(`/container/portMappings(${i})/networkNames`), `is not one of (${names.join(',')})`);
      }
    });
  }
  const volNames = new Set<string>();
  c.volumes.forEach((vol, i) => {
    if (vol.secret !== undefined && !Object.hasOwn(secrets, vol.secret)) {
      v.add(P(`/container/volumes(${i})`), 'volume.secret must refer to an existing secret');
    }
    if (vol.containerPath !== undefined && vol.containerPath === '')
      v.add(P(`/container/volumes(${i})/containerPath`), 'must not be empty');
    if (vol.containerPath !== undefined) volNames.add(vol.containerPath);
  });
}

export function validateNetworks(v: Violations, P: (p: string) => string, networks: readonly Network[]): void {
  const hosts = networks.filter((n) => n.mode === 'host');
  const bridges = networks.filter((n) => n.mode === 'container/bridge');
  const containers = networks.filter((n) => n.mode === 'container');
  if (hosts.some((n) => n.name !== undefined || (n.labels && Object.keys(n.labels).length > 0))) {
    v.add(P('/networks'), AppMessages.hostNetworkNames);
  }
  if (bridges.some((n) => n.name !== undefined)) v.add(P('/networks'), AppMessages.bridgeNames);
  const keys = networks.map((n) => `${n.mode}|${n.name ?? ''}`);
  if (new Set(keys).size !== keys.length) v.add(P('/networks'), AppMessages.duplicateNetworks);
  const mixOk =
    networks.length === 0 ||
    (hosts.length === 1 && networks.length === 1) ||
    (bridges.length === 1 && networks.length === 1) ||
    (containers.length === networks.length && containers.length >= 1);
  if (!mixOk) v.add(P('/networks'), AppMessages.networkMix);
  containers.forEach((n, i) => {
    if (n.name === undefined) v.add(P(`/networks(${i})`), AppMessages.networkName);
  });
}
