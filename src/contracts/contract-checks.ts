import { writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { resolveValueRef } from '../auth/stage.ts';
import type { AuthConfig, ValueRef } from '../config/auth.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { ContractBroker, ContractConfig, ContractProviderConfig } from '../config/stages/contract.ts';
import type { CheckStatus, Evidence } from '../core/check-result.ts';
import { createRedactor } from '../core/redact.ts';
import type { Redactor } from '../core/redact.ts';
import { notApplicableMessage } from '../runner/not-applicable.ts';
import type { PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { noContainerAccessReason, serviceUrl } from '../stack/stack-handle.ts';
import { classifyInteraction, pendingByConfig } from './classify.ts';
import type { InteractionRef, InteractionVerdict } from './classify.ts';
import { countStatuses, gitPathVersion, rowStatus, writeMatrix } from './matrix.ts';
import type { MatrixRow } from './matrix.ts';
import { isHttpInteraction, readPactDir } from './pact-files.ts';
import type { PactFile, PactFileProblem, PactInteraction } from './pact-files.ts';
import { parseVerifierReport } from './verifier-report.ts';
import { runVerifierWorker, stackEndpoints } from './verify-provider.ts';
import type { WorkerOutcome } from './verify-provider.ts';

/** A lower-case id segment: `a request for the customer's orders` -> `a-request-for-the-customers-orders`. */
export function slug(text: string, max = 80): string {
  const s = text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s || 'x';
}

/** A path for messages: relative to the config folder when inside it, else absolute. */
function shown(rootDir: string, path: string): string {
  const rel = relative(rootDir, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Secrets of the contract config: broker credentials. */
function contractSecrets(config: ContractConfig): string[] {
  const values: string[] = [];
  for (const v of [config.broker?.token, config.broker?.password]) if (v) values.push(v);
  return values;
}

/**
 * The top-level `auth` with every value reference resolved, for the verifier worker (which has no
 * service env), and the secrets among those values (passwords, fixed tokens and keys, client secrets).
 */
export function resolvedAuth(config: ResolvedConfig): { auth: AuthConfig; secrets: string[] } {
  const auth = config.auth ?? { principals: {} };
  const secrets: string[] = [];
  const value = (ref: ValueRef): string => resolveValueRef(config, ref);
  const secret = (ref: ValueRef): string => {
    const v = value(ref);
    secrets.push(v);
    return v;
  };
  const principals: AuthConfig['principals'] = {};
  for (const [id, p] of Object.entries(auth.principals)) {
    switch (p.scheme) {
      case 'none':
        principals[id] = p;
        break;
      case 'basic':
        principals[id] = { ...p, password: secret(p.password) };
        break;
      case 'bearer':
        principals[id] = {
          ...p,
          ...(p.password === undefined ? {} : { password: secret(p.password) }),
          ...(p.token === undefined ? {} : { token: secret(p.token) }),
        };
        break;
      case 'apiKey':
        principals[id] = {
          ...p,
          ...(p.password === undefined ? {} : { password: secret(p.password) }),
          ...(p.key === undefined ? {} : { key: secret(p.key) }),
        };
        break;
      case 'cookie':
        principals[id] = { ...p, ...(p.password === undefined ? {} : { password: secret(p.password) }) };
        break;
      case 'oauth2':
        principals[id] = { ...p, clientId: value(p.clientId), clientSecret: secret(p.clientSecret) };
        break;
    }
  }
  return { auth: { ...auth, principals }, secrets };
}

interface StageState {
  readonly context: SuiteContext;
  readonly config: ContractConfig;
  readonly redact: Redactor;
  readonly outDir: string;
  /** Provider name -> version verified (config, else git of its build context, else its image). */
  readonly providerVersions: ReadonlyMap<string, string>;
  /** Ids taken so far (broker runs; the file-based ids come from `fileStageChecks`). */
  readonly ids: Set<string>;
  readonly rows: MatrixRow[];
}

const providerVersionOf = (state: StageState, name: string): string => state.providerVersions.get(name) ?? 'unknown';

/** `contract.providerVersion`, else the git version of the provider's build context, else its image. */
async function providerVersions(context: SuiteContext, config: ContractConfig): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (const [name, provider] of Object.entries(config.providers)) {
    const build = context.config.services[provider.service]?.build;
    versions.set(
      name,
      config.providerVersion ??
        (build ? await gitPathVersion(build.context) : (context.handle.services[provider.service]?.image ?? 'unknown')),
    );
  }
  return versions;
}

/** `base`, or `base-2`, `base-3`... when an earlier check of the stage took it (in recording order). */
function uniqueId(ids: Set<string>, base: string): string {
  let id = base;
  for (let n = 2; ids.has(id); n += 1) id = `${base}-${n}`;
  ids.add(id);
  return id;
}

/** A contract check that is not an interaction verdict: critical, tagged `pact`. */
function plainCheck(ids: Set<string>, base: string, name: string, feature: string): PlannedCheck {
  return { id: uniqueId(ids, base), name, feature, severity: 'critical', tags: ['pact'] };
}

/** The check of one interaction; a pending one is `normal` (it does not gate) and tagged `pending`. */
function interactionCheck(ids: Set<string>, ref: InteractionRef, pending: boolean): PlannedCheck {
  return {
    id: uniqueId(ids, `contract.${slug(ref.provider, 40)}.${slug(ref.consumer, 40)}.${slug(ref.description)}`),
    name: `${ref.consumer} -> ${ref.provider}: ${ref.description}`,
    feature: `${ref.consumer} -> ${ref.provider}`,
    severity: pending ? 'normal' : 'critical',
    tags: ['pact', `consumer:${ref.consumer}`, `provider:${ref.provider}`, ...(pending ? ['pending'] : [])],
  };
}

/** The one check of a config without a `contract` section. */
const NO_CONTRACT_CHECK: PlannedCheck = {
  id: 'contract.config',
  name: 'Contract stage configured',
  feature: 'pacts',
  severity: 'critical',
};

/** The checks of one pact of a configured provider, in recording order. */
interface PactChecks {
  readonly pact: PactFile;
  /** `<provider>.<consumer>.interactions`, when the pact has no interaction. */
  readonly empty: PlannedCheck | undefined;
  /** One check per interaction (a non-HTTP one is recorded `unknown` under its check). */
  readonly interactions: readonly { readonly interaction: PactInteraction; readonly check: PlannedCheck }[];
}

/** A configured provider: no pact names it (one `.pacts` check), or the checks of its pacts. */
type ProviderChecks =
  | { readonly kind: 'no-pacts'; readonly name: string; readonly check: PlannedCheck }
  | {
      readonly kind: 'pacts';
      readonly name: string;
      readonly provider: ContractProviderConfig;
      readonly pacts: readonly PactChecks[];
    };

/** Every check the file-based stage records, grouped as it records them. */
interface FileStageChecks {
  readonly problems: readonly { readonly problem: PactFileProblem; readonly check: PlannedCheck }[];
  readonly unverified: readonly { readonly pact: PactFile; readonly check: PlannedCheck }[];
  readonly providers: readonly ProviderChecks[];
}

/**
 * The checks the file-based stage records, from the config and the pact folder's contents: ids made
 * unique in the order they are recorded. Both the plan and the recording walk this, so they agree.
 */
function fileStageChecks(
  config: ContractConfig,
  pacts: readonly PactFile[],
  problems: readonly PactFileProblem[],
): FileStageChecks {
  const ids = new Set<string>();
  const pendingConsumers = new Set(config.pending.consumers);
  const problemChecks = problems.map((problem) => ({
    problem,
    check: plainCheck(
      ids,
      `contract.pact-file.${slug(basename(problem.file, '.json'))}`,
      `Pact file ${basename(problem.file)} is readable`,
      'pacts',
    ),
  }));
  const unverified = pacts
    .filter((p) => !(p.provider in config.providers))
    .map((pact) => ({
      pact,
      check: plainCheck(
        ids,
        `contract.${slug(pact.provider, 40)}.${slug(pact.consumer, 40)}.unverified`,
        `${pact.consumer} -> ${pact.provider}: pact verified`,
        `${pact.consumer} -> ${pact.provider}`,
      ),
    }));
  const providers = Object.entries(config.providers).map(([name, provider]): ProviderChecks => {
    const own = pacts.filter((p) => p.provider === name);
    if (own.length === 0) {
      return {
        kind: 'no-pacts',
        name,
        check: plainCheck(
          ids,
          `contract.${slug(name, 40)}.pacts`,
          `${name}: consumer pacts verified`,
          `pacts of ${name}`,
        ),
      };
    }
    return {
      kind: 'pacts',
      name,
      provider,
      pacts: own.map((pact) => ({
        pact,
        empty:
          pact.interactions.length === 0
            ? plainCheck(
                ids,
                `contract.${slug(name, 40)}.${slug(pact.consumer, 40)}.interactions`,
                `${pact.consumer} -> ${name}: pact has interactions`,
                `${pact.consumer} -> ${name}`,
              )
            : undefined,
        interactions: pact.interactions.map((interaction) => {
          const ref: InteractionRef = { consumer: pact.consumer, provider: name, ...interaction };
          return {
            interaction,
            // A non-HTTP interaction is recorded `unknown` under the same id, as a plain (critical) check.
            check: isHttpInteraction(interaction)
              ? interactionCheck(ids, ref, pendingByConfig(ref, pendingConsumers))
              : plainCheck(
                  ids,
                  `contract.${slug(name, 40)}.${slug(pact.consumer, 40)}.${slug(interaction.description)}`,
                  `${pact.consumer} -> ${name}: ${interaction.description}`,
                  `${pact.consumer} -> ${name}`,
                ),
          };
        }),
      })),
    };
  });
  return { problems: problemChecks, unverified, providers };
}

/** The checks of `fileStageChecks`, flat, in the order the stage records them. */
function fileStagePlan(checks: FileStageChecks): PlannedCheck[] {
  return [
    ...checks.problems.map((p) => p.check),
    ...checks.unverified.map((u) => u.check),
    ...checks.providers.flatMap((p) =>
      p.kind === 'no-pacts'
        ? [p.check]
        : p.pacts.flatMap((pact) => [...(pact.empty ? [pact.empty] : []), ...pact.interactions.map((i) => i.check)]),
    ),
  ];
}

/**
 * The contract stage's plan: with pact files, every check the stage records on them (the same ids,
 * names and severities). With a broker the interactions, and so the check ids, are known only from
 * the broker's report during the run: nothing is planned.
 */
export async function planContractStage(context: PlanContext): Promise<PlannedCheck[]> {
  const config = context.config.contract;
  if (!config) return [NO_CONTRACT_CHECK];
  if (config.broker) return [];
  const { pacts, problems } = await readPactDir(resolve(context.config.rootDir, config.pactDir));
  return fileStagePlan(fileStageChecks(config, pacts, problems));
}

async function recordPlain(
  state: StageState,
  check: PlannedCheck,
  outcome: {
    status: CheckStatus;
    message: string;
    remediation?: string;
    evidence?: Evidence[];
  },
): Promise<void> {
  const now = state.context.clock.now();
  await state.context.record({
    id: check.id,
    name: check.name,
    feature: check.feature,
    severity: check.severity,
    status: outcome.status,
    tags: [...(check.tags ?? [])],
    message: state.redact(outcome.message),
    ...(outcome.remediation ? { remediation: outcome.remediation } : {}),
    evidence: (outcome.evidence ?? []).map((e) => ({ ...e, content: state.redact(e.content) })),
    startedAt: now,
    finishedAt: now,
  });
}

function remediationFor(
  verdict: InteractionVerdict,
  ref: InteractionRef,
  providerPath: string,
  configFile: string,
): string | undefined {
  switch (verdict.status) {
    case 'passed':
    case 'not-applicable':
      return undefined;
    case 'failed':
    case 'skipped':
      return `Make ${ref.provider} answer "${ref.description}" as the ${ref.consumer} pact expects (see the mismatch), or agree a new contract with ${ref.consumer} and regenerate its pact`;
    case 'broken':
    case 'unknown':
      switch (verdict.brokenBy) {
        case 'state':
          return `Fix the provider-state actions under ${providerPath}.states in ${configFile} (see "provider states")`;
        case 'setup':
          return `Fix ${providerPath}.setup in ${configFile}`;
        case 'credentials':
          return `Fix auth.principals (or ${providerPath}.auth) in ${configFile} so the principal's credentials can be obtained (see docs/auth.md)`;
        case 'verifier':
        case undefined:
          return `See the verifier log in the run folder (contracts/${ref.provider}/verifier.log)`;
      }
  }
}

async function recordInteraction(
  state: StageState,
  check: PlannedCheck,
  ref: InteractionRef,
  verdict: InteractionVerdict,
  extra: { consumerVersion: string; pact?: string; startedAt: number },
): Promise<CheckStatus> {
  const providerPath = `contract.providers.${ref.provider}`;
  const remediation = remediationFor(verdict, ref, providerPath, basename(state.context.config.configFile));
  const durationMs = verdict.durationMs ?? 0;
  await state.context.record({
    id: check.id,
    name: check.name,
    feature: check.feature,
    // The verifier may find pending what neither the pact nor the config marked.
    severity: verdict.pending ? 'normal' : check.severity,
    status: verdict.status,
    tags: [...(check.tags ?? []), ...(verdict.pending && !check.tags?.includes('pending') ? ['pending'] : [])],
    message: state.redact(verdict.message),
    ...(remediation ? { remediation } : {}),
    metrics:
      verdict.durationMs === undefined ? [] : [{ name: 'verification_ms', value: verdict.durationMs, unit: 'ms' }],
    evidence: verdict.evidence.map((e) => ({ ...e, content: state.redact(e.content) })),
    parameters: {
      consumer: ref.consumer,
      consumerVersion: extra.consumerVersion,
      provider: ref.provider,
      providerVersion: providerVersionOf(state, ref.provider),
      ...(ref.providerStates.length > 0 ? { providerStates: ref.providerStates.join(' | ') } : {}),
      ...(extra.pact ? { pact: extra.pact } : {}),
    },
    startedAt: extra.startedAt,
    finishedAt: extra.startedAt + Math.round(durationMs),
  });
  return verdict.status;
}

/**
 * Why an interaction cannot be verified on a stack without Docker access (`containers: "none"`): one of its
 * provider states runs an `exec` step (or teardown step) in a container. Undefined when it can.
 */
function execNotApplicable(
  context: SuiteContext,
  provider: ContractProviderConfig,
): (providerStates: readonly string[]) => string | undefined {
  const reason = noContainerAccessReason(context.handle, context.targetFile);
  return (providerStates) => {
    if (reason === undefined) return undefined;
    for (const name of providerStates) {
      const action = provider.states[name];
      const exec = [...(action?.steps ?? []), ...(action?.teardown ?? [])].find((step) => step.kind === 'exec');
      if (exec) return `${reason}: provider state "${name}" runs a command in the container of ${exec.service}`;
    }
    return undefined;
  };
}

/** Runs the worker for one provider; an exception (e.g. no endpoint) becomes a problem, not a crash. */
async function verifyWith(
  state: StageState,
  name: string,
  provider: ContractProviderConfig,
  source:
    | { kind: 'files'; runs: { pactFile: string; consumer: string; description: string }[] }
    | { kind: 'broker'; broker: ContractBroker },
): Promise<WorkerOutcome> {
  const { context, config } = state;
  try {
    const providerBaseUrl = serviceUrl(context.handle, provider.service, provider.port);
    const { serviceUrls, containers } = stackEndpoints(context.handle);
    // The blast-radius guard: the verifier and the state steps only reach the run's own stack
    // (and a broker only when allowTargets names it).
    for (const url of [providerBaseUrl, ...Object.values(serviceUrls).flatMap((ports) => Object.values(ports))]) {
      context.assertTarget(url);
    }
    if (source.kind === 'broker') context.assertTarget(source.broker.url);
    const { auth } = resolvedAuth(context.config);
    const defaultPorts: Record<string, number> = {};
    for (const [id, service] of Object.entries(context.config.services)) {
      const first = service.ports[0];
      if (first !== undefined) defaultPorts[id] = first;
    }
    const outcome = await runVerifierWorker(
      {
        schemaVersion: 1,
        provider: name,
        providerBaseUrl,
        serviceUrls,
        containers,
        config: provider,
        auth: {
          config: auth,
          target: auth.target ?? { service: provider.service, port: provider.port },
          defaultPorts,
        },
        providerVersion: providerVersionOf(state, name),
        logLevel: config.logLevel,
        source: source.kind === 'files' ? source : { ...source, enablePending: config.pending.enablePending },
      },
      {
        timeoutMs: config.timeoutMs,
        signal: context.signal,
        logFile: join(state.outDir, slug(name), 'verifier.log'),
        redact: state.redact,
      },
    );
    // Tokens and cookies the worker obtained: redacted from every artifact of the run, not only this stage's.
    context.redact.register(...outcome.secrets);
    return outcome;
  } catch (error) {
    return {
      results: undefined,
      problem: error instanceof Error ? error.message : String(error),
      durationMs: 0,
      secrets: [],
    };
  }
}

async function saveResults(state: StageState, name: string, outcome: WorkerOutcome): Promise<void> {
  if (!outcome.results) return;
  await writeFile(
    join(state.outDir, slug(name), 'verifier-results.json'),
    state.redact(JSON.stringify(outcome.results, null, 2)),
  );
}

/** Local pact files: one verifier run per interaction, one check per interaction (as `fileStageChecks` plans them). */
async function verifyFromFiles(state: StageState): Promise<void> {
  const { context, config } = state;
  const rootDir = context.config.rootDir;
  const pactDir = resolve(rootDir, config.pactDir);
  const display = shown(rootDir, pactDir);
  const { pacts, problems } = await readPactDir(pactDir);
  const checks = fileStageChecks(config, pacts, problems);
  for (const { problem, check } of checks.problems) {
    await recordPlain(state, check, {
      status: 'broken',
      message: `${problem.problem}: its contracts cannot be verified`,
      remediation: `Regenerate ${shown(rootDir, problem.file)} by running the consumer tests`,
    });
  }
  for (const { pact, check } of checks.unverified) {
    await recordPlain(state, check, {
      status: 'unknown',
      message: `${shown(rootDir, pact.file)} names provider "${pact.provider}", which contract.providers does not list: nothing verifies it`,
      remediation: `Declare contract.providers.${pact.provider} in ${basename(context.config.configFile)}, or remove the pact`,
    });
    state.rows.push({
      consumer: pact.consumer,
      consumerVersion: await gitPathVersion(pact.file),
      provider: pact.provider,
      providerVersion: 'not verified',
      pact: shown(rootDir, pact.file),
      interactions: pact.interactions.length,
      counts: countStatuses(pact.interactions.map(() => 'unknown')),
      status: 'unknown',
    });
  }

  for (const provider of checks.providers) {
    if (provider.kind === 'no-pacts') {
      const { name } = provider;
      await recordPlain(state, provider.check, {
        status: 'unknown',
        message: `No pact in ${display} names provider "${name}": there is no evidence that ${name} honours its consumers' contracts`,
        remediation: `Run the consumer tests that write pacts for ${name} into ${display} (or remove contract.providers.${name})`,
      });
      continue;
    }
    await verifyProviderPacts(state, provider.name, provider.provider, provider.pacts);
  }
}

async function verifyProviderPacts(
  state: StageState,
  name: string,
  provider: ContractProviderConfig,
  pactChecks: readonly PactChecks[],
): Promise<void> {
  const { context, config } = state;
  const rootDir = context.config.rootDir;
  const pacts = pactChecks.map((p) => p.pact);
  const configuredStates = new Set(Object.keys(provider.states));
  const noContainers = execNotApplicable(context, provider);
  const runnable = (pact: PactFile) =>
    pact.interactions.filter(
      (i) =>
        isHttpInteraction(i) &&
        i.providerStates.every((s) => configuredStates.has(s)) &&
        noContainers(i.providerStates) === undefined,
    );
  context.reporter.onInfo?.(
    `contract: verifying ${pacts.reduce((n, p) => n + runnable(p).length, 0)} interactions of ${pacts.map((p) => p.consumer).join(', ')} against ${name}`,
  );
  const startedAt = context.clock.now();
  const runs = pacts.flatMap((pact) =>
    runnable(pact).map((i) => ({ pactFile: pact.file, consumer: pact.consumer, description: i.description })),
  );
  // Nothing runnable (every interaction lacks a state action or is not HTTP): each is classified below.
  const outcome: WorkerOutcome =
    runs.length === 0
      ? { results: undefined, problem: 'no interaction could be run', durationMs: 0, secrets: [] }
      : await verifyWith(state, name, provider, { kind: 'files', runs });
  await saveResults(state, name, outcome);
  for (const { pact, empty, interactions } of pactChecks) {
    const consumerVersion = await gitPathVersion(pact.file);
    const pactPath = shown(rootDir, pact.file);
    const statuses: CheckStatus[] = [];
    if (empty) {
      await recordPlain(state, empty, {
        status: 'unknown',
        message: `${pactPath} has no interaction: it says nothing about ${name}`,
      });
      statuses.push('unknown');
    }
    for (const { interaction, check } of interactions) {
      const ref: InteractionRef = { consumer: pact.consumer, provider: name, ...interaction };
      if (!isHttpInteraction(interaction)) {
        await recordPlain(state, check, {
          status: 'unknown',
          message: `"${interaction.description}" is a ${interaction.type ?? ''} interaction; the stage verifies HTTP interactions only`,
        });
        statuses.push('unknown');
        continue;
      }
      const notApplicable = noContainers(interaction.providerStates);
      if (notApplicable !== undefined) {
        await recordPlain(state, check, { status: 'not-applicable', message: notApplicableMessage(notApplicable) });
        statuses.push('not-applicable');
        continue;
      }
      const run = outcome.results?.runs.find(
        (r) => r.pactFile === pact.file && r.consumer === pact.consumer && r.description === interaction.description,
      );
      const verdict = classifyInteraction(ref, {
        configuredStates,
        pendingConsumers: new Set(config.pending.consumers),
        results: outcome.results,
        run,
        workerProblem: outcome.problem,
        configPath: `contract.providers.${name}`,
      });
      statuses.push(
        await recordInteraction(state, check, ref, verdict, {
          consumerVersion,
          pact: pactPath,
          startedAt: run?.startedAt ?? startedAt,
        }),
      );
    }
    state.rows.push({
      consumer: pact.consumer,
      consumerVersion,
      provider: name,
      providerVersion: providerVersionOf(state, name),
      pact: pactPath,
      interactions: pact.interactions.length,
      counts: countStatuses(statuses),
      status: rowStatus(statuses),
    });
  }
}

/** Pact Broker: one unfiltered run per provider (so results can be published); checks from its report. */
async function verifyFromBroker(state: StageState, broker: ContractBroker): Promise<void> {
  const { context, config } = state;
  for (const [name, provider] of Object.entries(config.providers)) {
    const startedAt = context.clock.now();
    const outcome = await verifyWith(state, name, provider, { kind: 'broker', broker });
    await saveResults(state, name, outcome);
    const run = outcome.results?.runs[0];
    const report = run?.report === undefined ? undefined : parseVerifierReport(run.report);
    const refs: InteractionRef[] = (report?.interactionResults ?? []).map((r) => ({
      consumer: r.consumer,
      provider: name,
      description: r.description,
      providerStates: r.providerStates,
      pending: r.pending,
    }));
    if (refs.length === 0) {
      const check = plainCheck(
        state.ids,
        `contract.${slug(name, 40)}.pacts`,
        `${name}: consumer pacts verified`,
        `pacts of ${name}`,
      );
      await recordPlain(state, check, {
        status: outcome.problem || run?.error ? 'broken' : 'unknown',
        message: `No interaction of ${name} was verified from the broker ${broker.url}: ${outcome.problem ?? run?.error ?? 'the selectors matched no pact'}`,
        remediation: `Check contract.broker (url, credentials, consumerVersionSelectors) in ${basename(context.config.configFile)}`,
      });
      continue;
    }
    const statusesByConsumer = new Map<string, CheckStatus[]>();
    for (const ref of refs) {
      const verdict = classifyInteraction(ref, {
        configuredStates: new Set(Object.keys(provider.states)),
        pendingConsumers: new Set(config.pending.consumers),
        results: outcome.results,
        run,
        workerProblem: outcome.problem,
        configPath: `contract.providers.${name}`,
      });
      const check = interactionCheck(state.ids, ref, verdict.pending);
      const status = await recordInteraction(state, check, ref, verdict, { consumerVersion: 'from broker', startedAt });
      statusesByConsumer.set(ref.consumer, [...(statusesByConsumer.get(ref.consumer) ?? []), status]);
    }
    for (const [consumer, statuses] of statusesByConsumer) {
      state.rows.push({
        consumer,
        consumerVersion: 'from broker',
        provider: name,
        providerVersion: providerVersionOf(state, name),
        interactions: statuses.length,
        counts: countStatuses(statuses),
        status: rowStatus(statuses),
      });
    }
  }
}

/**
 * The contract stage: verifies every pact against the running stack's providers, one check per
 * interaction, and writes the consumer/provider matrix to `<run>/contracts/matrix.json`.
 */
export async function runContractChecks(context: SuiteContext): Promise<void> {
  const config = context.config.contract;
  if (!config) {
    const now = context.clock.now();
    await context.record({
      id: NO_CONTRACT_CHECK.id,
      name: NO_CONTRACT_CHECK.name,
      feature: NO_CONTRACT_CHECK.feature,
      severity: NO_CONTRACT_CHECK.severity,
      status: 'unknown',
      message: `${basename(context.config.configFile)} has no "contract" section: no pact is verified`,
      remediation: 'Declare contract.providers (see docs/stages/contract.md)',
      startedAt: now,
      finishedAt: now,
    });
    return;
  }
  const state: StageState = {
    context,
    config,
    redact: createRedactor([
      ...context.config.secrets,
      ...contractSecrets(config),
      ...resolvedAuth(context.config).secrets,
    ]),
    outDir: join(context.runDir, 'contracts'),
    providerVersions: await providerVersions(context, config),
    ids: new Set(),
    rows: [],
  };
  if (config.broker) await verifyFromBroker(state, config.broker);
  else await verifyFromFiles(state);
  const file = await writeMatrix(state.outDir, {
    schemaVersion: 1,
    generatedAt: new Date(context.clock.now()).toISOString(),
    source: config.broker ? 'broker' : 'files',
    rows: state.rows,
  });
  for (const row of state.rows) {
    context.reporter.onInfo?.(
      `contract: ${row.consumer}@${row.consumerVersion.slice(0, 12)} -> ${row.provider}@${row.providerVersion.slice(0, 12)}: ${row.status} (${row.counts.passed}/${row.interactions} passed)`,
    );
  }
  context.reporter.onInfo?.(`contract: matrix written to ${relative(context.runDir, file)}`);
}
