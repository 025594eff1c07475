import type { SecurityConfig } from '../../config/stages/security.ts';
import type { CheckOutcome, CheckSpec } from '../../runner/suite.ts';
import type { SecurityContext } from '../context.ts';
import { describeExchange, fieldOf, fromTemplate, jsonOf } from '../http.ts';
import type { HttpExchange } from '../http.ts';

const is2xx = (status: number): boolean => status >= 200 && status < 300;

type AuthzObject = SecurityConfig['authz']['objects'][number];

/** The authorization checks, as planned and as recorded: the matrix when `authz.rbac` has rows, one per configured object. */
export function authzChecks(config: SecurityConfig): {
  readonly rbac: CheckSpec | undefined;
  readonly objects: readonly { readonly object: AuthzObject; readonly spec: CheckSpec }[];
} {
  return {
    rbac:
      config.authz.rbac.length === 0
        ? undefined
        : {
            id: 'security.authz.rbac',
            name: 'Role-based access matrix (role x route -> expected status)',
            feature: 'authorization',
            severity: 'critical',
            remediation:
              'Enforce the role check on every route of the matrix (401 without credentials, 403 for a role without the right)',
          },
    objects: config.authz.objects.map((object) => ({
      object,
      spec: {
        id: `security.authz.object-level.${object.name}`,
        name: `Another user cannot read someone else's ${object.name}`,
        feature: 'authorization',
        severity: 'critical',
        remediation: `Check ownership on every read of a ${object.name} by id (owner or admin), and answer 404 (or 403) to anyone else`,
      },
    })),
  };
}

/** Role x route matrix, then object-level access for each configured object. */
export async function runAuthzChecks(ctx: SecurityContext): Promise<void> {
  const checks = authzChecks(ctx.config);
  if (checks.rbac) await ctx.check(checks.rbac, () => checkRbac(ctx));
  for (const { object, spec } of checks.objects) await ctx.check(spec, () => checkObjectAccess(ctx, object));
}

type RbacEntry = SecurityConfig['authz']['rbac'][number];

/** One cell of the access matrix: a role, a route, what it got and what was expected. */
interface RbacCell {
  readonly role: string;
  readonly request: Pick<RbacEntry['request'], 'method' | 'path'>;
  readonly status: number;
  readonly expected: readonly number[];
}

/** Every role of every matrix row sends its request (anonymous without credentials). */
async function checkRbac(ctx: SecurityContext): Promise<CheckOutcome> {
  const cells: RbacCell[] = [];
  for (const entry of ctx.config.authz.rbac) {
    for (const [role, expected] of Object.entries(entry.expect)) {
      const identity = role === 'anonymous' ? undefined : await ctx.principalWithRole(role);
      const request = fromTemplate(entry.request, ctx.varsOf(identity));
      const answer = await ctx.http.send({ ...request, ...(identity === undefined ? {} : { as: identity }) });
      cells.push({ role, request: entry.request, status: answer.status, expected });
    }
  }
  return judgeRbac(cells);
}

/** The matrix passes when every cell got one of its expected statuses; the evidence is the whole matrix. */
export function judgeRbac(cells: readonly RbacCell[]): CheckOutcome {
  const rows: string[] = [];
  const wrong: string[] = [];
  for (const { role, request, status, expected } of cells) {
    const ok = expected.includes(status);
    rows.push(
      `${role.padEnd(10)} ${request.method} ${request.path} -> ${status} (expected ${expected.join('|')})${ok ? '' : '  <-- wrong'}`,
    );
    if (!ok) wrong.push(`${role} ${request.method} ${request.path} -> ${status}, expected ${expected.join('|')}`);
  }
  const evidence = [{ name: 'access matrix', contentType: 'text/plain', content: rows.join('\n') }];
  if (wrong.length > 0)
    return { status: 'failed', message: `${wrong.length}/${rows.length} cells wrong: ${wrong.join('; ')}`, evidence };
  return { status: 'passed', message: `${rows.length} role x route cells as expected`, evidence };
}

/** The owner creates an object and reads it; the other principal must be refused it. */
async function checkObjectAccess(ctx: SecurityContext, object: AuthzObject): Promise<CheckOutcome> {
  const owner = await ctx.principal(object.owner);
  const other = await ctx.principal(object.other);
  const created = await ctx.http.send({ ...fromTemplate(object.create, ctx.varsOf(owner)), as: owner });
  const id = fieldOf(jsonOf(created), object.idField);
  if (!is2xx(created.status) || (typeof id !== 'string' && typeof id !== 'number')) {
    return {
      status: 'broken',
      message: `creating a ${object.name} as ${object.owner} failed: ${describeExchange(created)} ${created.body.slice(0, 200)}`,
    };
  }
  const vars = { id: String(id) };
  const own = await ctx.http.send({ ...fromTemplate(object.read, { ...ctx.varsOf(owner), ...vars }), as: owner });
  const foreign = await ctx.http.send({ ...fromTemplate(object.read, { ...ctx.varsOf(other), ...vars }), as: other });
  return judgeObjectAccess(object, { created, id, own, foreign });
}

/** A foreign read must be refused with a denied status, once the owner's own read proves the request right. */
export function judgeObjectAccess(
  object: Pick<AuthzObject, 'name' | 'owner' | 'other' | 'deniedStatus'>,
  exchanges: {
    readonly created: HttpExchange;
    readonly id: string | number;
    readonly own: HttpExchange;
    readonly foreign: HttpExchange;
  },
): CheckOutcome {
  const { created, id, own, foreign } = exchanges;
  const evidence = [
    {
      name: 'requests',
      contentType: 'text/plain',
      content: [
        `${object.owner} creates: ${describeExchange(created)} id=${String(id)}`,
        `${object.owner} reads it: ${describeExchange(own)}`,
        `${object.other} reads it: ${describeExchange(foreign)} ${foreign.body.slice(0, 300)}`,
      ].join('\n'),
    },
  ];
  if (!is2xx(own.status)) {
    return {
      status: 'broken',
      message: `the owner cannot read its own ${object.name} (${describeExchange(own)}): the read request is wrong`,
      evidence,
    };
  }
  if (is2xx(foreign.status)) {
    return {
      status: 'failed',
      message: `${object.other} read ${object.owner}'s ${object.name}: ${describeExchange(foreign)} (broken object-level authorization)`,
      evidence,
    };
  }
  if (!object.deniedStatus.includes(foreign.status)) {
    return {
      status: 'failed',
      message: `${object.other} got ${foreign.status}, expected ${object.deniedStatus.join(' or ')}`,
      evidence,
    };
  }
  return {
    status: 'passed',
    message: `${object.other} got ${foreign.status} for ${object.owner}'s ${object.name}`,
    evidence,
  };
}
