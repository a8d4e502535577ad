/** `agora <command> [flags]`: the one entry point for every part of Agora. */
import { AgoraError } from '../sdk/errors.js';
import { exitClosingZk } from '../sdk/zk/thread-link.js';
import { chronosCommand, runChronos } from './chronos.js';
import { agentCommand, localCommand, masterCommand, runAgent, runLocal, runMaster } from './daemons.js';
import { executeCommand, runExecute } from './execute.js';
import { type CommandDef, helpText, parseFlags, UsageError } from './flags.js';
import { marathonCommand, runMarathon } from './marathon.js';
import { certsCommand, runCerts } from './secure.js';
import { runToken, tokenCommand } from './token.js';

const commands: { def: CommandDef; run: (flags: ReturnType<typeof parseFlags>) => Promise<unknown> }[] = [
  { def: localCommand, run: runLocal },
  { def: masterCommand, run: runMaster },
  { def: agentCommand, run: runAgent },
  { def: executeCommand, run: runExecute },
  { def: chronosCommand, run: runChronos },
  { def: marathonCommand, run: runMarathon },
  { def: tokenCommand, run: runToken },
  { def: certsCommand, run: (f) => runCerts(f) },
];

function topHelp(): string {
  return [
    'Agora: a two-level, resource-offer cluster scheduler (masters, agents, frameworks).',
    '',
    'Usage: agora <command> [flags]     (agora <command> --help for its flags)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.def.name.padEnd(10)}${c.def.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  // `agora certs init ...`: the action word before the flags.
  const rest = name === 'certs' && args[0] === 'init' ? args.slice(1) : args;
  if (!name || name === '--help' || name === 'help' || name === '-h') {
    console.log(topHelp());
    return 0;
  }
  const cmd = commands.find((c) => c.def.name === name);
  if (!cmd) {
    console.error(`agora: unknown command '${name}'\n\n${topHelp()}`);
    return 64;
  }
  const flags = parseFlags(cmd.def, rest);
  if (flags.help) {
    console.log(helpText(cmd.def));
    return 0;
  }
  const result = await cmd.run(flags);
  if (typeof result === 'number') return result;
  // A long-running part: stop it cleanly on Ctrl-C or SIGTERM.
  const stop = typeof result === 'function' ? result : (result as { close?: () => Promise<void> }).close?.bind(result);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: string) => {
      if (stopping) return void exitClosingZk(130);
      stopping = true;
      console.error(`\n${sig}: stopping...`);
      void Promise.resolve(stop?.()).finally(resolve);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
  return 0;
}

const exit = (code: number) => void exitClosingZk(code);
main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: Error) => {
    if (err instanceof UsageError) {
      console.error(`agora: ${err.message}`);
      return exit(64);
    }
    if (err instanceof AgoraError && err.statusCode < 500) {
      console.error(`agora: ${err.code}: ${err.message}`);
      return exit(64);
    }
    if (err instanceof AgoraError && err.code === 'AGORA_TLS_CERT_MAKING_FAILED') {
      console.error(`agora: ${err.code}: ${err.message}`);
      return exit(1);
    }
    const code = (err as Error & { code?: string }).code;
    if (code === 'EADDRINUSE') {
      console.error(
        `agora: ${err.message}: is another Agora (or Mesos) already running? Stop it or pick another --port.`,
      );
      return exit(1);
    }
    console.error(`agora: ${err.stack ?? err.message}`);
    return exit(1);
  },
);
