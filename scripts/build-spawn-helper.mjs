#!/usr/bin/env node
// Builds the launcher's spawn helper (agent/launcher/spawn-helper.c → dist/agent/launcher/agora-spawn)
// after `tsc`, as part of `npm run build`. Without a C compiler it says so and exits 0: the agent then
// starts tasks without the helper (Node's spawn, util-linux unshare for linux tasks) and says so once
// in its log. See docs/containerizers.md, "The spawn helper".
import { buildSpawnHelper } from '../dist/agent/launcher/spawn-helper.js';

if (process.platform !== 'linux') process.exit(0);
const r = buildSpawnHelper();
if ('path' in r) console.log(`spawn helper: ${r.path}`);
else console.warn(`spawn helper not built (${r.reason}); tasks will be started without it`);
