import { describe, expect, it } from 'vitest';
import { contractBrokerSchema } from '../config/stages/contract.ts';
import { brokerVerifierOptions, credentialDecision, emptyRun } from './verifier-options.ts';

describe('credentialDecision', () => {
  const base = {
    chosen: undefined,
    defaultPrincipal: 'alice',
    headerOption: undefined,
    credentialHeaders: ['authorization', 'x-api-key'],
    sent: { authorization: 'Bearer example', accept: 'application/json' },
  };

  it('gives fresh credentials of the default principal to a request that carries credentials', () => {
    expect(credentialDecision(base)).toEqual({ kind: 'fresh', principal: 'alice' });
  });

  it("prefers the provider state's principal, and keeps the request as is when the state chose none", () => {
    expect(credentialDecision({ ...base, chosen: 'bob' })).toEqual({ kind: 'fresh', principal: 'bob' });
    expect(credentialDecision({ ...base, chosen: null })).toEqual({ kind: 'keep' });
  });

  it('keeps a request that carries no credential header (an unauthenticated example)', () => {
    expect(credentialDecision({ ...base, sent: { accept: 'application/json' } })).toEqual({ kind: 'keep' });
    expect(credentialDecision({ ...base, headerOption: 'x-token' })).toEqual({ kind: 'keep' });
  });

  it('is a filter error when a request carries credentials and no principal is named', () => {
    expect(credentialDecision({ ...base, defaultPrincipal: undefined, headerOption: 'authorization' })).toEqual({
      kind: 'unnamed',
      error:
        'the request carries authorization but neither the provider state nor auth.defaultPrincipal names a principal',
    });
  });
});

describe('emptyRun', () => {
  it('starts a run with nothing recorded', () => {
    expect(emptyRun(42)).toEqual({
      startedAt: 42,
      durationMs: 0,
      states: [],
      filterErrors: [],
      filterLog: [],
      refused: [],
    });
  });
});

describe('brokerVerifierOptions', () => {
  it('passes only the broker settings the config gives', () => {
    const broker = contractBrokerSchema.parse({ url: 'https://broker.example' });
    expect(brokerVerifierOptions({ kind: 'broker', broker, enablePending: false })).toEqual({
      pactBrokerUrl: 'https://broker.example',
      consumerVersionSelectors: [{ mainBranch: true }, { deployedOrReleased: true }],
      enablePending: false,
      publishVerificationResult: false,
      providerVersionTags: [],
    });
  });

  it('adds credentials, WIP pacts, branch and build url when given', () => {
    const broker = contractBrokerSchema.parse({
      url: 'https://broker.example',
      token: 't0ken',
      publish: true,
      providerVersionBranch: 'main',
      providerVersionTags: ['prod'],
    });
    expect(brokerVerifierOptions({ kind: 'broker', broker, enablePending: true })).toMatchObject({
      pactBrokerToken: 't0ken',
      enablePending: true,
      publishVerificationResult: true,
      providerVersionBranch: 'main',
      providerVersionTags: ['prod'],
    });
  });
});
