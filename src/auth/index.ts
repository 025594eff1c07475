export { Authenticator, cookiePairs, describeAnswer, looksLikeJwt, renderCredentialRequest } from './authenticator.ts';
export type {
  AuthAnswer,
  AuthRequest,
  AuthSend,
  AuthenticatorOptions,
  Credentials,
  UserOverride,
} from './authenticator.ts';
export { fetchAuthSend } from './transport.ts';
export type { FetchAuthSendOptions } from './transport.ts';
export { resolveValueRef, stageAuthenticator } from './stage.ts';
export type { StageAuthenticatorOptions } from './stage.ts';
