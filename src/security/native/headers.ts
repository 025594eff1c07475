import type { SecurityConfig } from '../../config/stages/security.ts';
import type { CheckOutcome, CheckSpec } from '../../runner/suite.ts';
import type { SecurityContext } from '../context.ts';
import type { HttpExchange } from '../http.ts';

/** What is missing from one response's security headers (empty when complete). */
export function missingSecurityHeaders(headers: Readonly<Record<string, string>>, tls: boolean): string[] {
  const missing: string[] = [];
  const csp = headers['content-security-policy'];
  if (!csp?.trim()) missing.push('Content-Security-Policy');
  if (headers['x-content-type-options']?.trim().toLowerCase() !== 'nosniff')
    missing.push('X-Content-Type-Options: nosniff');
  const frame = headers['x-frame-options']?.trim().toUpperCase();
  const frameByCsp = csp !== undefined && /frame-ancestors\s+('none'|'self')/i.test(csp);
  if (frame !== 'DENY' && frame !== 'SAMEORIGIN' && !frameByCsp) {
    missing.push("frame protection (X-Frame-Options DENY/SAMEORIGIN or CSP frame-ancestors 'none'/'self')");
  }
  if (tls && !/max-age=\d+/i.test(headers['strict-transport-security'] ?? '')) {
    missing.push('Strict-Transport-Security (max-age)');
  }
  return missing;
}

/** Headers that advertise the technology or its version. */
export function bannerHeaders(headers: Readonly<Record<string, string>>): string[] {
  const found: string[] = [];
  const powered = headers['x-powered-by'];
  if (powered !== undefined) found.push(`X-Powered-By: ${powered}`);
  const server = headers['server'];
  if (server !== undefined && /\d|\//.test(server)) found.push(`Server: ${server}`);
  for (const name of ['x-aspnet-version', 'x-aspnetmvc-version', 'x-runtime', 'x-version']) {
    const value = headers[name];
    if (value !== undefined) found.push(`${name}: ${value}`);
  }
  return found;
}

async function fetchPaths(ctx: SecurityContext): Promise<HttpExchange[]> {
  const out: HttpExchange[] = [];
  for (const path of ctx.config.headers.paths) out.push(await ctx.http.send({ method: 'GET', path }));
  return out;
}

const evidenceOf = (responses: readonly HttpExchange[]) => ({
  name: 'response headers',
  contentType: 'text/plain',
  content: responses
    .map(
      (r) =>
        `GET ${r.path} -> ${r.status}\n${Object.entries(r.headers)
          .map(([k, v]) => `  ${k}: ${v}`)
          .join('\n')}`,
    )
    .join('\n\n'),
});

/** The header checks, as planned and as recorded; HSTS is part of the first one when `security.target.tls` is set. */
export function headerChecks(config: SecurityConfig): Readonly<Record<'required' | 'banner' | 'cors', CheckSpec>> {
  const tls = config.target.tls;
  return {
    required: {
      id: 'security.headers.required',
      name: `Security headers on every response (CSP, nosniff, frame protection${tls ? ', HSTS' : ''})`,
      feature: 'headers',
      severity: 'critical',
      remediation:
        "Send Content-Security-Policy, X-Content-Type-Options: nosniff and X-Frame-Options: DENY (or CSP frame-ancestors 'none')" +
        (tls ? ' and Strict-Transport-Security' : '') +
        ' on every response, e.g. from one onSend hook or the reverse proxy',
    },
    banner: {
      id: 'security.headers.banner',
      name: 'No X-Powered-By or version banner',
      feature: 'headers',
      severity: 'normal',
      remediation:
        'Remove X-Powered-By and any Server header carrying a product version (framework option or proxy rule)',
    },
    cors: {
      id: 'security.headers.cors',
      name: 'CORS does not reflect an unlisted origin',
      feature: 'headers',
      severity: 'critical',
      remediation:
        'Answer Access-Control-Allow-Origin only for origins on an allow-list, never by echoing the request Origin (and never * with credentials)',
    },
  };
}

/** Security headers on every configured path; no technology banner; CORS does not reflect strangers. */
export async function runHeaderChecks(ctx: SecurityContext): Promise<void> {
  const tls = ctx.config.target.tls;
  const checks = headerChecks(ctx.config);
  let responses: HttpExchange[] | undefined;
  const responsesOnce = async (): Promise<HttpExchange[]> => (responses ??= await fetchPaths(ctx));
  await ctx.check(checks.required, async () => judgeRequiredHeaders(await responsesOnce(), tls));
  await ctx.check(checks.banner, async () => judgeBanners(await responsesOnce()));
  await ctx.check(checks.cors, () => checkCors(ctx));
}

/** Every path must send the security headers (HSTS only when the target is TLS). */
export function judgeRequiredHeaders(all: readonly HttpExchange[], tls: boolean): CheckOutcome {
  const problems = all.flatMap((r) => missingSecurityHeaders(r.headers, tls).map((m) => `GET ${r.path}: missing ${m}`));
  const note = tls
    ? ''
    : ' (HSTS not required: the target is plain HTTP; set security.target.tls when clients use TLS)';
  if (problems.length > 0) {
    return {
      status: 'failed',
      message: `${problems.length} header problems: ${problems.join('; ')}`,
      evidence: [evidenceOf(all)],
    };
  }
  return {
    status: 'passed',
    message: `all ${all.length} paths send the security headers${note}`,
    evidence: [evidenceOf(all)],
  };
}

/** No path may name its technology or version. */
export function judgeBanners(all: readonly HttpExchange[]): CheckOutcome {
  const found = all.flatMap((r) => bannerHeaders(r.headers).map((b) => `GET ${r.path}: ${b}`));
  if (found.length > 0)
    return { status: 'failed', message: `technology banners sent: ${found.join('; ')}`, evidence: [evidenceOf(all)] };
  return { status: 'passed', message: `no banner on ${all.length} paths` };
}

/** One CORS answer: which request, and the Allow-Origin and Allow-Credentials it sent back. */
interface CorsAnswer {
  readonly what: string;
  readonly allow: string | undefined;
  readonly credentials: string | undefined;
}

/** A simple GET and a preflight from an unlisted origin; the preflight by `fetch` (the client does not send OPTIONS). */
async function checkCors(ctx: SecurityContext): Promise<CheckOutcome> {
  const origin = ctx.config.headers.unlistedOrigin;
  const path = ctx.config.headers.paths[0] ?? '/';
  const simple = await ctx.http.send({ method: 'GET', path, headers: { origin } });
  const options = await fetch(`${ctx.http.baseUrl}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
    signal: AbortSignal.any([ctx.suite.signal, AbortSignal.timeout(ctx.config.requestTimeoutMs)]),
  });
  await options.text();
  return judgeCors(origin, [
    {
      what: `GET ${path}`,
      allow: simple.headers['access-control-allow-origin'],
      credentials: simple.headers['access-control-allow-credentials'],
    },
    {
      what: `OPTIONS ${path} (preflight)`,
      allow: options.headers.get('access-control-allow-origin') ?? undefined,
      credentials: options.headers.get('access-control-allow-credentials') ?? undefined,
    },
  ]);
}

/** An answer that echoes the origin, allows `null`, or allows `*` with credentials lets the stranger in. */
export function judgeCors(origin: string, answers: readonly CorsAnswer[]): CheckOutcome {
  const bad = answers.filter(
    (a) => a.allow === origin || (a.allow === '*' && a.credentials?.toLowerCase() === 'true') || a.allow === 'null',
  );
  const evidence = [
    {
      name: 'CORS answers',
      contentType: 'text/plain',
      content: answers
        .map(
          (a) =>
            `${a.what} with Origin: ${origin} -> Access-Control-Allow-Origin: ${a.allow ?? '(none)'}, Allow-Credentials: ${a.credentials ?? '(none)'}`,
        )
        .join('\n'),
    },
  ];
  if (bad.length > 0) {
    return {
      status: 'failed',
      message: `${bad.map((b) => b.what).join(' and ')} allowed the unlisted origin ${origin}`,
      evidence,
    };
  }
  return { status: 'passed', message: `the unlisted origin ${origin} was not allowed (GET and preflight)`, evidence };
}
