import type { ContainerState } from '../stack/containers.ts';
import type { ToxicState } from '../stack/toxiproxy-api.ts';
import type { ContainerFault, Fault, ToxicSpec } from './catalog.ts';
import type { ControlProof } from './injector.ts';

// The control plane's word on a fault in place, judged from what Toxiproxy or Docker report: no I/O here.

/** A disabled proxy: `down` is in place. */
export function proxyDisabledProof(link: string, enabled: boolean): ControlProof {
  return { ok: !enabled, detail: `proxy ${link} enabled=${enabled}` };
}

/** The toxic is listed on its link with the type, stream, toxicity and attributes it was added with. */
export function toxicListedProof(link: string, spec: ToxicSpec, toxics: readonly ToxicState[]): ControlProof {
  const listed = toxics.find((t) => t.name === spec.name);
  const matches =
    listed !== undefined &&
    listed.type === spec.type &&
    listed.stream === spec.stream &&
    Math.abs(listed.toxicity - spec.toxicity) < 1e-6 &&
    Object.entries(spec.attributes).every(([k, v]) => listed.attributes[k] === v);
  return {
    ok: matches,
    detail: listed
      ? `toxic ${spec.name} listed on ${link}: ${listed.type} ${listed.stream} toxicity ${listed.toxicity} ${JSON.stringify(listed.attributes)}`
      : `toxic ${spec.name} is not listed on ${link} (listed: ${toxics.map((t) => t.name).join(', ') || 'none'})`,
  };
}

/** Per container action, Docker's state that shows it in place (`before`: the state before the injection). */
export const CONTAINER_PROOFS: Readonly<
  Record<ContainerFault['action'], (service: string, now: ContainerState, before: ContainerState) => ControlProof>
> = {
  pause: (service, s) => ({ ok: s.paused, detail: `${service} paused=${s.paused} (status ${s.status})` }),
  kill: (service, s) => ({ ok: !s.running, detail: `${service} running=${s.running} (status ${s.status})` }),
  restart: (service, s, before) => ({
    ok: s.running && s.startedAt !== before.startedAt,
    detail: `${service} running=${s.running}, started at ${s.startedAt} (before ${before.startedAt})`,
  }),
};

/** A signal is in place when every signalled process is gone and the service runs processes of that name again. */
export function signalProof(
  fault: Extract<Fault, { readonly kind: 'signal' }>,
  killed: readonly number[],
  now: readonly number[],
): ControlProof {
  if (killed.length === 0) return { ok: false, detail: `no process of ${fault.service} matched "${fault.process}"` };
  const survivors = killed.filter((p) => now.includes(p));
  return {
    ok: survivors.length === 0 && now.length > 0,
    detail: `"${fault.process}": pids ${killed.join(', ')} -> ${now.join(', ') || '(none yet)'}${survivors.length ? ` (still alive: ${survivors.join(', ')})` : ''}`,
  };
}
