import type Dockerode from 'dockerode';
import type { Teardowns } from '../core/teardown.ts';
import { assertNever } from '../core/stage.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { ToxiproxyApi } from '../stack/toxiproxy-api.ts';
import { describeFault, isToxic, toToxic } from './catalog.ts';
import type { Fault, ToxicFault } from './catalog.ts';
import { inspectContainer, refreshServicePorts, signalProcesses } from '../stack/containers.ts';

/** What injecting a fault needs from the run. */
export interface FaultEnv {
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

function containerIdOf(handle: StackHandle, service: string): string {
  const entry = handle.services[service];
  if (!entry)
    throw new Error(
      `Stack "${handle.stack}" has no service "${service}" (known: ${Object.keys(handle.services).join(', ')})`,
    );
  return entry.containerId;
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

/**
 * Injects a fault. The rollback is registered in `env.teardowns` first, so a crash, a failed probe
 * or Ctrl-C still removes it; the rollback waits for an injection in flight before undoing it.
 */
export async function injectFault(env: FaultEnv, fault: Fault, name: string): Promise<ActiveFault> {
  if (isToxic(fault)) return injectToxic(env, fault, name);
  const serial = serializer();
  let rolledBack = false;
  let undo: () => Promise<void> = () => Promise.resolve();
  let control: () => Promise<ControlProof>;
  const rollback = (): Promise<void> =>
    serial(async () => {
      if (rolledBack) return;
      await undo();
      rolledBack = true;
    });
  const description = describeFault(fault);
  env.teardowns.add(`roll back ${description}`, rollback);
  switch (fault.kind) {
    case 'down': {
      const api = toxiproxyOf(env.handle);
      undo = async () => {
        await api.setEnabled(fault.link, true);
        env.log(`proxy ${fault.link} enabled again`);
      };
      await serial(() => api.setEnabled(fault.link, false));
      control = async () => {
        const proxy = await api.getProxy(fault.link);
        return { ok: !proxy.enabled, detail: `proxy ${fault.link} enabled=${proxy.enabled}` };
      };
      break;
    }
    case 'container': {
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
      undo = ensureRunning;
      switch (fault.action) {
        case 'pause':
          await serial(() => container.pause());
          control = async () => {
            const s = await inspectContainer(docker, id);
            return { ok: s.paused, detail: `${fault.service} paused=${s.paused} (status ${s.status})` };
          };
          break;
        case 'kill':
          await serial(() => container.kill({ signal: 'SIGKILL' }));
          control = async () => {
            const s = await inspectContainer(docker, id);
            return { ok: !s.running, detail: `${fault.service} running=${s.running} (status ${s.status})` };
          };
          break;
        case 'restart':
          await serial(async () => {
            await container.restart({ t: 2 });
            await ensureRunning();
          });
          control = async () => {
            const s = await inspectContainer(docker, id);
            return {
              ok: s.running && s.startedAt !== before.startedAt,
              detail: `${fault.service} running=${s.running}, started at ${s.startedAt} (before ${before.startedAt})`,
            };
          };
          break;
        default:
          return assertNever(fault.action, 'container action');
      }
      break;
    }
    case 'signal': {
      const docker = await env.docker();
      const id = containerIdOf(env.handle, fault.service);
      undo = async () => {
        const s = await inspectContainer(docker, id);
        if (!s.running) {
          await docker.getContainer(id).start();
          await refreshServicePorts(env.handle, fault.service, await inspectContainer(docker, id), env.handleFiles);
          env.log(`${fault.service} had stopped after the signal; started again`);
        }
      };
      const killed = await serial(() => signalProcesses(docker, id, fault.process, fault.signal));
      env.log(
        `SIG${fault.signal} sent to pids ${killed.join(', ') || '(none)'} ("${fault.process}") in ${fault.service}`,
      );
      control = async () => {
        if (killed.length === 0)
          return { ok: false, detail: `no process of ${fault.service} matched "${fault.process}"` };
        const now = await signalProcesses(docker, id, fault.process);
        const survivors = killed.filter((p) => now.includes(p));
        return {
          ok: survivors.length === 0 && now.length > 0,
          detail: `"${fault.process}": pids ${killed.join(', ')} -> ${now.join(', ') || '(none yet)'}${survivors.length ? ` (still alive: ${survivors.join(', ')})` : ''}`,
        };
      };
      break;
    }
    default:
      return assertNever(fault, 'fault');
  }
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
    control: async () => {
      const toxics = await api.listToxics(fault.link);
      const listed = toxics.find((t) => t.name === name);
      const matches =
        listed !== undefined &&
        listed.type === spec.type &&
        listed.stream === spec.stream &&
        Math.abs(listed.toxicity - spec.toxicity) < 1e-6 &&
        Object.entries(spec.attributes).every(([k, v]) => listed.attributes[k] === v);
      return {
        ok: matches,
        detail: listed
          ? `toxic ${name} listed on ${fault.link}: ${listed.type} ${listed.stream} toxicity ${listed.toxicity} ${JSON.stringify(listed.attributes)}`
          : `toxic ${name} is not listed on ${fault.link} (listed: ${toxics.map((t) => t.name).join(', ') || 'none'})`,
      };
    },
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
