#!/usr/bin/env node
import { join } from 'node:path';
import { ConfigError, EXIT, ReadinessError, describeError } from '../core/errors.ts';
import type { ExitCode } from '../core/errors.ts';
import type { Reporter } from '../core/reporter.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import { parseCommandArgs, parsePort, parseSeed, parseStages } from './args.ts';
import type { CommandValues } from './args.ts';
import { composeReporters, githubReporter } from './reporters/github.ts';
import { terminalReporter } from './reporters/terminal.ts';

// Ryuk's image cannot be pulled everywhere; the harness removes its containers by label itself.
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= 'localhost';
process.env['PACT_DO_NOT_TRACK'] ??= 'true';

const HELP: Readonly<Record<string, string>> = {
  certify: `readiness certify [--config file] [--stages a,b] [--seed n] [--fail-fast] [--target handle.json] [--json]
  Provision, start the stack, run the stages, tear down, write the verdict and the report.
  --fail-fast stops at the first failed critical check; the stages left are recorded unknown (not run).
  --target runs against a stack something else started (the handle "readiness up" writes); it is left running.
  Examples:
    npm run certify
    npm run certify -- --stages boot
    npm run certify -- --fail-fast
    readiness up && readiness certify --target reports/stack-handle.json && readiness down
    FRAGILE=lying-health npm run certify -- --seed 42`,
  up: `readiness up [--config file] [--json]
  Start the stack and leave it running; prints endpoints and writes reports/stack-handle.json.
  Examples:
    readiness up
    readiness up --json > stack.json`,
  drill: `readiness drill <experiment-id> [--handle file] [--seed n] [--json]
  Run one chaos experiment against the stack "readiness up" left running; the fault is always removed.
  Examples:
    readiness drill postgres-latency
    readiness drill payments-flaky --seed 42`,
  down: `readiness down [--handle file]
  Remove the stack that "readiness up" started.
  Examples:
    readiness down`,
  provision: `readiness provision [--config file] [--for certify|test]
  Make sure the Docker engine and every image the config needs are there (building local drop-ins).
  Examples:
    readiness provision
    readiness provision --for test`,
  doctor: `readiness doctor [--config file] [--json]
  Check Docker, images, tools and versions; print the fix for each problem. Changes nothing.
  Examples:
    readiness doctor
    readiness doctor --json`,
  images: `readiness images build|list [--config file]
  Build the local drop-in images for the config's official images, or list how each resolves.
  Examples:
    readiness images build
    readiness images list`,
  report: `readiness report [--run id] [--open|--serve [--port n]] [--compare run-id] [--key public.pem] [--json]
  Show the latest run (verdict, quality gate, manifest, signature and validity, file paths), open or serve it, or compare two runs.
  Examples:
    readiness report
    readiness report --serve --port 8080
    readiness report --compare 20261123-104512-a1b2`,
  verify: `readiness verify [run-dir] [--key public.pem] [--require-signature] [--json]
  Check a run folder (the latest by default): every file against manifest.sha256, the DSSE signature, the validity.
  Exit 0 intact and valid, 1 changed/missing/extra file, bad signature, expired or NOT CERTIFIED, 2 usage.
  The key may also come from READINESS_VERIFY_KEY (PEM) or READINESS_VERIFY_KEY_FILE; a pinned key requires a signature.
  Examples:
    readiness verify
    readiness verify reports/20261123-104512-a1b2 --key ci-signing.pub.pem
    READINESS_VERIFY_KEY_FILE=ci-signing.pub.pem readiness verify ./downloaded-run --require-signature --json`,
  init: `readiness init [--from compose-file] [--out readiness.config.ts] [--ci github|gitlab] [--force] [--json]
  Write a starting config, mapped from a Compose file when given (TODOs mark what to fill in), and a CI job on request.
  Examples:
    readiness init --from docker-compose.yml
    readiness init --from compose.yaml --out ci/readiness.config.ts --ci github
    readiness init --force`,
};

function usage(): string {
  return `readiness — chaos and readiness certification harness

Commands:
${Object.values(HELP)
  .map((h) => `  ${h.split('\n')[0] ?? ''}`)
  .join('\n')}

Run "readiness <command> --help" for examples. Exit codes: 0 certified (or a partial run that
passed), 1 a check failed, 2 usage/config error, 3 harness error or missing evidence, 4 conditional,
130 interrupted (verify: 0 ok, 1 failed, 2 usage).`;
}

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

async function main(argv: readonly string[]): Promise<ExitCode> {
  // Installed first, so a signal at any moment (even while the config loads) ends in teardown and 130.
  const signal = installSignalHandlers();
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(usage());
    return command ? EXIT.certified : EXIT.usage;
  }
  const { values, positionals } = parseCommandArgs(command, rest, process.env['READINESS_CONFIG']);
  if (values.help) {
    out(HELP[command] ?? usage());
    return EXIT.certified;
  }
  if (!(command in HELP))
    throw new ConfigError([`unknown command "${command}"; commands: ${Object.keys(HELP).join(', ')}`]);
  const seed = parseSeed(values.seed);
  if (command === 'verify' && positionals[0] !== undefined) return verifyCommand(positionals[0], values);
  if (command === 'init') return initCommand(values);
  // Loaded after the signal handlers are in place: zod and the config take a moment to import.
  const { loadConfig } = await import('../config/load-config.ts');
  const config = await loadConfig(values.config);
  if (signal.aborted) return EXIT.interrupted;
  const reporter = cliReporter(values.json);
  return runCommand(command, { config, values, positionals, seed, reporter, signal });
}

/**
 * SIGINT/SIGTERM abort the returned signal (teardown, then 130); a second one exits at once. A stray
 * rejection is reported, so it cannot kill the process before teardown has removed the containers.
 */
function installSignalHandlers(): AbortSignal {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`${name} again: exiting without waiting for teardown\n`);
      process.exit(EXIT.interrupted);
    }
    process.stderr.write(`${name}: stopping; tearing down (press Ctrl-C again to force)\n`);
    controller.abort(new Error(`received ${name}`));
  };
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`harness warning: unhandled rejection: ${describeError(reason)}\n`);
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/** The terminal reporter, plus GitHub annotations and the step summary inside GitHub Actions. */
function cliReporter(json: boolean): Reporter {
  const terminal = terminalReporter(process.stderr, { json });
  return process.env['GITHUB_ACTIONS'] === 'true'
    ? composeReporters(
        terminal,
        githubReporter((line) => process.stdout.write(`${line}\n`), process.env['GITHUB_STEP_SUMMARY']),
      )
    : terminal;
}

/** `readiness init`: no config exists yet, init writes one. */
async function initCommand(values: CommandValues): Promise<ExitCode> {
  const { init } = await import('./commands/init.ts');
  return init({
    ...(values.from === undefined ? {} : { from: values.from }),
    outFile: values.out,
    ...(values.ci === undefined ? {} : { ci: values.ci }),
    force: values.force,
    json: values.json,
    cwd: process.cwd(),
    print: out,
  });
}

/** What a command that reads the config gets. */
interface CommandContext {
  readonly config: ResolvedConfig;
  readonly values: CommandValues;
  readonly positionals: readonly string[];
  readonly seed: number | undefined;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
}

async function runCommand(command: string, ctx: CommandContext): Promise<ExitCode> {
  const { config, values, positionals, seed, reporter, signal } = ctx;
  const seeded = seed === undefined ? {} : { seed };
  switch (command) {
    case 'certify':
      return certifyCommand(ctx);
    case 'up': {
      const { up } = await import('./commands/up-down.ts');
      return up({ config, ...seeded, reporter, signal, out, json: values.json });
    }
    case 'drill': {
      const { drill } = await import('./commands/drill.ts');
      return drill({
        config,
        id: positionals[0],
        ...(values.handle ? { handleFile: values.handle } : {}),
        ...seeded,
        json: values.json,
        reporter,
        signal,
        out,
      });
    }
    case 'down': {
      const { down } = await import('./commands/up-down.ts');
      return down({ config, ...(values.handle ? { handleFile: values.handle } : {}), out });
    }
    case 'provision': {
      const { provisionCommand } = await import('./provisioning.ts');
      return provisionCommand({ config, reporter, out, purpose: values.for ?? 'certify' });
    }
    case 'doctor': {
      const { doctor } = await import('./commands/doctor.ts');
      return doctor({ config, out, json: values.json });
    }
    case 'images': {
      const { imagesCommand } = await import('./provisioning.ts');
      return imagesCommand({ config, reporter, out, action: positionals[0] ?? 'list', json: values.json });
    }
    case 'report':
      return reportCommand(ctx);
    case 'verify': {
      const { latestRunId } = await import('../report/runs.ts');
      const latest = await latestRunId(config.reportsDir);
      if (latest === undefined)
        throw new ConfigError([`${config.reportsDir}: no run folder to verify; give one: readiness verify <run-dir>`]);
      return verifyCommand(join(config.reportsDir, latest), values);
    }
    default:
      throw new ConfigError([`unknown command "${command}"`]);
  }
}

async function certifyCommand({ config, values, seed, reporter, signal }: CommandContext): Promise<ExitCode> {
  const { certify } = await import('./commands/certify.ts');
  const { signingFromEnv } = await import('./keys.ts');
  const signing = await signingFromEnv(process.env);
  return certify({
    config,
    signing,
    ...(values.stages === undefined ? {} : { stages: parseStages(values.stages) }),
    ...(seed === undefined ? {} : { seed }),
    failFast: values['fail-fast'],
    ...(values.target === undefined ? {} : { target: values.target }),
    json: values.json,
    reporter,
    signal,
    out,
  });
}

async function reportCommand({ config, values, signal }: CommandContext): Promise<ExitCode> {
  const port = parsePort(values.port);
  const { report } = await import('./commands/report.ts');
  const { verifyKeyFrom } = await import('./keys.ts');
  const key = await verifyKeyFrom(values.key, process.env);
  return report({
    config,
    ...(key === undefined ? {} : { key }),
    ...(values.run === undefined ? {} : { run: values.run }),
    ...(values.compare === undefined ? {} : { compare: values.compare }),
    open: values.open,
    serve: values.serve,
    ...(port === undefined ? {} : { port }),
    json: values.json,
    signal,
    out,
  });
}

/** `readiness verify <run-dir>`: needs no config, so a reviewer can verify a downloaded run folder anywhere. */
async function verifyCommand(
  runDir: string,
  values: { readonly key?: string | undefined; readonly 'require-signature': boolean; readonly json: boolean },
): Promise<ExitCode> {
  const { verifyKeyFrom } = await import('./keys.ts');
  const { verify } = await import('./commands/verify.ts');
  const key = await verifyKeyFrom(values.key, process.env);
  return verify({
    runDir,
    ...(key === undefined ? {} : { key }),
    requireSignature: values['require-signature'],
    json: values.json,
    now: new Date(),
    out,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.problems.join('\n')}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(`error: ${describeError(error)}\n`);
    if (process.env['READINESS_DEBUG'] && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof ReadinessError ? error.exitCode : EXIT.harness;
  },
);
