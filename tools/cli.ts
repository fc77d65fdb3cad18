/**
 * The `resdet` command. Each subcommand lives in tools/commands/<name>.ts and is listed in
 * tools/commands/index.ts; this file only wires them into commander and turns user errors into
 * one-line messages with a non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { UserError } from '../src/errors.ts';
import { COMMANDS, commandNamed, type CommandName } from './commands/index.ts';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string; description: string };

/**
 * Builds the program; exported so tests can run subcommands in-process.
 * @param only register just these subcommands (default: all of them, as `--help` lists them)
 */
export async function buildProgram(only?: readonly CommandName[]): Promise<Command> {
  const program = new Command('resdet')
    .description(pkg.description)
    .version(pkg.version)
    .option('--backend <name>', 'force a compute backend (tensorflow-gpu, tensorflow, native, wasm, cpu); also RESDET_BACKEND')
    .option('--threads <n>', 'threads of the native backend (default: every core); also RESDET_THREADS')
    .showHelpAfterError('(run with --help for usage)');
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
  return program;
}

/** Runs the CLI; user errors print `resdet: error: ...` and exit with status 1. */
export async function main(argv: string[]): Promise<void> {
  const named = commandNamed(argv.slice(2));
  const program = (await buildProgram(named ? [named] : undefined)).exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help / version text).
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof UserError) {
      process.stderr.write(`resdet: error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

await main(process.argv);
