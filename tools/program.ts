/**
 * The `resdet` program: the global options and every subcommand of tools/commands/index.ts,
 * wired into commander. tools/cli.ts runs it; tools/docs/cli-reference.ts walks it to write
 * docs/cli.md from the commands' own help.
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { UserError } from '../src/errors.ts';
import { COMMANDS, type CommandName } from './commands/index.ts';
import type { TaggedCommanderError } from './cli-errors.ts';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string; description: string };

/**
 * Builds the program; exported so tests can run subcommands in-process. Commander never prints
 * an error or exits here: its errors are thrown (tagged with the command that failed) for the
 * caller to report.
 * @param only register just these subcommands (default: all of them, as `--help` lists them)
 */
export async function buildProgram(only?: readonly CommandName[]): Promise<Command> {
  const program = new Command('resdet')
    .description(pkg.description)
    .version(pkg.version)
    .option('--backend <name>', 'force a compute backend (tensorflow-gpu, tensorflow, native, wasm, cpu); also RESDET_BACKEND')
    .option('--threads <n>', 'threads of the native backend (default: every core); also RESDET_THREADS')
    .option('--verbose', 'on an error, print its stack trace too (also RESDET_DEBUG=1)');
  program.hook('preAction', (cmd) => {
    const backend = cmd.opts().backend as string | undefined;
    if (backend) process.env.RESDET_BACKEND = backend;
    const threads = cmd.opts().threads as string | undefined;
    if (threads !== undefined) {
      if (!/^[1-9]\d*$/.test(threads)) throw new UserError(`--threads: expected a positive whole number, got '${threads}'`);
      process.env.RESDET_THREADS = threads;
    }
  });
  const names = only ?? (Object.keys(COMMANDS) as CommandName[]);
  for (const name of names) (await COMMANDS[name]())(program);
  const quiet = (cmd: Command): void => {
    cmd.configureOutput({ outputError: () => undefined });
    cmd.exitOverride((err) => {
      throw Object.assign(err, { command: cmd }) as TaggedCommanderError;
    });
    for (const sub of cmd.commands) quiet(sub);
  };
  quiet(program);
  return program;
}
