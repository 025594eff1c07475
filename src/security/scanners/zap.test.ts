import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demuxDockerLogs, parseZapReport, zapApiScanArgs, zapCheckStatus, zapExitOutcome } from './zap.ts';

const REPORT = join(import.meta.dirname, '../../../test/fixtures/security/zap-report-no-headers.json');

describe('zap-api-scan.py exit codes', () => {
  it('maps 0/1/2/3 exactly and anything else to broken', () => {
    expect([0, 1, 2, 3].map((c) => zapExitOutcome(c).kind)).toEqual(['pass', 'fail', 'warn', 'error']);
    expect(zapCheckStatus(zapExitOutcome(0), 'FAIL')).toBe('passed');
    expect(zapCheckStatus(zapExitOutcome(1), 'FAIL')).toBe('failed');
    expect(zapCheckStatus(zapExitOutcome(2), 'FAIL')).toBe('passed');
    expect(zapCheckStatus(zapExitOutcome(2), 'WARN')).toBe('failed');
    expect(zapCheckStatus(zapExitOutcome(3), 'FAIL')).toBe('broken');
    for (const code of [4, 137, -1, null]) {
      expect(zapCheckStatus(zapExitOutcome(code), 'FAIL')).toBe('broken');
      expect(zapExitOutcome(code).meaning).toMatch(/not an exit code of zap-api-scan\.py/);
    }
  });
});

describe('ZAP traditional JSON report', () => {
  it('turns site[].alerts[] into findings with risk, confidence and instances', async () => {
    const findings = parseZapReport(JSON.parse(await readFile(REPORT, 'utf8')));
    const csp = findings.find((f) => f.ruleId === '10038');
    expect(csp).toMatchObject({
      scanner: 'zap',
      name: 'Content Security Policy (CSP) Header Not Set',
      risk: 'medium',
      confidence: 'high',
      cweId: 693,
      helpUri: 'https://www.zaproxy.org/docs/alerts/10038/',
    });
    expect(csp?.instances.map((i) => `${i.method} ${i.uri}`)).toEqual([
      'GET http://orders:8080/v1/products',
      'GET http://orders:8080/v1/orders',
      'GET http://orders:8080/health/live',
    ]);
    expect(csp?.description).not.toMatch(/<p>/);
    const server = findings.find((f) => f.ruleId === '10036');
    expect(server?.instances[0]?.evidence).toBe('Fastify/5.12.8 Node.js/v24.21.0');
    expect(findings.find((f) => f.ruleId === '100000')?.risk).toBe('info');
    // cweid 0 means none.
    expect(findings.find((f) => f.ruleId === '10104')?.cweId).toBeUndefined();
  });

  it('refuses what is not a report, and risk codes out of range', () => {
    expect(() => parseZapReport({ site: [{ '@name': 'x', alerts: [{ pluginid: '1' }] }] })).toThrow(
      /not a ZAP traditional JSON report/,
    );
    expect(() =>
      parseZapReport({
        site: [{ '@name': 'x', alerts: [{ pluginid: '1', alert: 'a', riskcode: '7', confidence: '2' }] }],
      }),
    ).toThrow(/risk code 7/);
    expect(parseZapReport({ '@programName': 'ZAP', site: [] })).toEqual([]);
  });
});

describe('zap-api-scan.py invocation', () => {
  it('scans the OpenAPI target with the rules file, both reports and a bounded scan', () => {
    const args = zapApiScanArgs({
      target: 'http://orders:8080/openapi.json',
      rulesFile: 'rules.tsv',
      reportJson: 'zap-report.json',
      reportHtml: 'zap-report.html',
      maxScanMinutes: 3,
    });
    expect(args.slice(0, 5)).toEqual(['zap-api-scan.py', '-t', 'http://orders:8080/openapi.json', '-f', 'openapi']);
    expect(args[args.indexOf('-c') + 1]).toBe('rules.tsv');
    expect(args[args.indexOf('-J') + 1]).toBe('zap-report.json');
    expect(args[args.indexOf('-r') + 1]).toBe('zap-report.html');
    expect(args[args.indexOf('-z') + 1]).toContain('scanner.maxScanDurationInMins=3');
  });

  it('demultiplexes docker log frames', () => {
    const frame = (stream: number, text: string): Buffer => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header.writeUInt8(stream, 0);
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demuxDockerLogs(Buffer.concat([frame(1, 'PASS: a\n'), frame(2, 'WARN-NEW: b\n')]))).toBe(
      'PASS: a\nWARN-NEW: b\n',
    );
    expect(demuxDockerLogs(Buffer.from(''))).toBe('');
  });
});
