/** The master's build as Mesos reports it (sdk/http/build-info.ts). */
import { type BuildInfo, buildInfo } from '../../sdk/http/build-info.js';
import { VERSION } from '../master.js';

export const BUILD_INFO: BuildInfo = buildInfo(VERSION);
