import type Dockerode from 'dockerode';
import type { Teardowns } from '../core/teardown.ts';
import { assertNever } from '../core/stage.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { ToxiproxyApi } from '../stack/toxiproxy-api.ts';
import { describeFault, isToxic, toToxic } from './catalog.ts';
import type { ContainerFault, Fault, ToxicFault } from './catalog.ts';
import { CONTAINER_PROOFS, proxyDisabledProof, signalProof, toxicListedProof } from './injector-control.ts';
import { inspectContainer, refreshServicePorts, signalProcesses } from '../stack/containers.ts';
import { containerIdOf } from '../stack/stack-handle.ts';

/** What injecting a fault needs from the run. */
interface FaultEnv {
  readonly handle: StackHandle;
  readonly teardowns: Teardowns;
  /** Handle files to rewrite when a restarted container gets new host ports. */
  readonly handleFiles: readonly string[];
  readonly docker: () => Promise<Dockerode>;
  readonly log: (line: string) => void;
}

/** The control plane's word on a fault: the toxic is listed, the proxy disabled, the container paused... */
export interface ControlProof {
  readonly ok: boolean;
  readonly detail: string;
}

/** A fault in place. `rollback` is idempotent and was registered as a teardown before the injection. */
export interface ActiveFault {
  readonly fault: Fault;
  readonly name: string;
  readonly description: string;
  control(): Promise<ControlProof>;
  /** Toxics: remove and add again, so Toxiproxy draws `toxicity` anew for every open connection. */
  redraw(): Promise<void>;
  /** Toxics: take the toxic off until the next `redraw`. Other faults: no effect. */
  suspend(): Promise<void>;
  rollback(): Promise<void>;
  isRolledBack(): boolean;
}

export function toxiproxyOf(handle: StackHandle): ToxiproxyApi {
  if (!handle.toxiproxy) throw new Error(`Stack "${handle.stack}" has no Toxiproxy (the config declares no links)`);
  return new ToxiproxyApi(handle.toxiproxy.apiUrl);
}

/** Runs async steps one after another, so a rollback waits for an injection still in flight. */
function serializer(): <T>(step: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(step: () => Promise<T>): Promise<T> => {
    const next = chain.then(step, step);
    chain = next.catch(() => undefined);
    return next;
  };
}

/** A control-plane fault (not a toxic). */
type ControlledFault = Exclude<Fault, ToxicFault>;

/** How a control-plane fault is undone, and how it is put in place (returning how the control plane shows it). */
interface ControlledInjection {
  readonly undo: () => Promise<void>;
  readonly inject: () => Promise<() => Promise<ControlProof>>;
}

/** `down`: the link's proxy disabled, enabled again on rollback. */
function disableProxy(env: FaultEnv, fault: Extract<Fault, { readonly kind: 'down' }>): ControlledInjection {
  const api = toxiproxyOf(env.handle);
  return {
    undo: async () => {
      await api.setEnabled(fault.link, true);
      env.log(`proxy ${fault.link} enabled again`);
    },
    inject: async () => {
      await api.setEnabled(fault.link, false);
      return async () => proxyDisabledProof(fault.link, (await api.getProxy(fault.link)).enabled);
    },
  };
}

/** `container`: pause, kill or restart a service's container; rollback unpauses or starts it and follows its new host ports. */
async function actOnContainer(env: FaultEnv, fault: ContainerFault): Promise<ControlledInjection> {
  const docker = await env.docker();
  const id = containerIdOf(env.handle, fault.service);
  const container = docker.getContainer(id);
  const before = await inspectContainer(docker, id);
  const ensureRunning = async (): Promise<void> => {
    const now = await inspectContainer(docker, id);
    if (now.paused) {
      await container.unpause();
      env.log(`${fault.service} unpaused`);
    } else if (!now.running) {
      await container.start();
      env.log(`${fault.service} started again (docker start of the same container)`);
    }
    const ports = await refreshServicePorts(
      env.handle,
      fault.service,
      await inspectContainer(docker, id),
      env.handleFiles,
    );
    if (ports.changed)
      env.log(
        `${fault.service} host ports moved ${JSON.stringify(ports.before)} -> ${JSON.stringify(ports.after)}; handle updated`,
      );
  };
  const act: Record<ContainerFault['action'], () => Promise<unknown>> = {
    pause: () => container.pause(),
    kill: () => container.kill({ signal: 'SIGKILL' }),
    restart: async () => {
      await container.restart({ t: 2 });
      await ensureRunning();
    },
  };
  return {
    undo: ensureRunning,
    inject: async () => {
      await act[fault.action]();
      return async () => CONTAINER_PROOFS[fault.action](fault.service, await inspectContainer(docker, id), before);
    },
  };
}

/** `signal`: a signal to the matching processes of a container; rollback starts the container if it stopped. */
async function signalProcess(
  env: FaultEnv,
  fault: Extract<Fault, { readonly kind: 'signal' }>,
): Promise<ControlledInjection> {
  const docker = await env.docker();
  const id = containerIdOf(env.handle, fault.service);
  return {
    undo: async () => {
      const s = await inspectContainer(docker, id);
      if (!s.running) {
        await docker.getContainer(id).start();
        await refreshServicePorts(env.handle, fault.service, await inspectContainer(docker, id), env.handleFiles);
        env.log(`${fault.service} had stopped after the signal; started again`);
      }
    },
    inject: async () => {
      const killed = await signalProcesses(docker, id, fault.process, fault.signal);
      env.log(
        `SIG${fault.signal} sent to pids ${killed.join(', ') || '(none)'} ("${fault.process}") in ${fault.service}`,
      );
      return async () => signalProof(fault, killed, await signalProcesses(docker, id, fault.process));
    },
  };
}

/** Prepares a control-plane fault of any kind. */
async function controlledInjection(env: FaultEnv, fault: ControlledFault): Promise<ControlledInjection> {
  switch (fault.kind) {
    case 'down':
      return disableProxy(env, fault);
    case 'container':
      return actOnContainer(env, fault);
    case 'signal':
      return signalProcess(env, fault);
    default:
      return assertNever(fault, 'fault');
  }
}

/**
 * Injects a fault. The rollback is registered in `env.teardowns` first, so a crash, a failed probe
 * or Ctrl-C still removes it; the rollback waits for an injection in flight before undoing it.
 */
export async function injectFault(env: FaultEnv, fault: Fault, name: string): Promise<ActiveFault> {
  if (isToxic(fault)) return injectToxic(env, fault, name);
  const serial = serializer();
  let rolledBack = false;
  let undo: () => Promise<void> = () => Promise.resolve();
  const rollback = (): Promise<void> =>
    serial(async () => {
      if (rolledBack) return;
      await undo();
      rolledBack = true;
    });
  const description = describeFault(fault);
  env.teardowns.add(`roll back ${description}`, rollback);
  const injection = await controlledInjection(env, fault);
  // Set before the injection, so a half-done injection is undone too.
  undo = injection.undo;
  const control = await serial(injection.inject);
  env.log(`injected: ${description}`);
  return {
    fault,
    name,
    description,
    control,
    redraw: () => Promise.resolve(),
    suspend: () => Promise.resolve(),
    rollback,
    isRolledBack: () => rolledBack,
  };
}

async function injectToxic(env: FaultEnv, fault: ToxicFault, name: string): Promise<ActiveFault> {
  const api = toxiproxyOf(env.handle);
  const spec = toToxic(fault, name);
  const serial = serializer();
  const description = describeFault(fault);
  let state: 'armed' | 'suspended' | 'rolled-back' = 'armed';
  const rollback = (): Promise<void> =>
    serial(async () => {
      if (state === 'rolled-back') return;
      await api.removeToxicIfPresent(fault.link, name);
      state = 'rolled-back';
      env.log(`toxic ${name} removed from ${fault.link}`);
    });
  env.teardowns.add(`remove toxic ${name} from ${fault.link}`, rollback);
  await serial(() => api.addToxic(fault.link, spec));
  env.log(`injected: ${description} as toxic ${name}`);
  return {
    fault,
    name,
    description,
    control: async () => toxicListedProof(fault.link, spec, await api.listToxics(fault.link)),
    redraw: () =>
      serial(async () => {
        if (state === 'rolled-back') return;
        await api.removeToxicIfPresent(fault.link, name);
        await api.addToxic(fault.link, spec);
        state = 'armed';
      }),
    suspend: () =>
      serial(async () => {
        if (state !== 'armed') return;
        await api.removeToxicIfPresent(fault.link, name);
        state = 'suspended';
      }),
    rollback,
    isRolledBack: () => state === 'rolled-back',
  };
}
