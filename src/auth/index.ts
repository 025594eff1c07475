export { Authenticator, cookiePairs, looksLikeJwt, renderCredentialRequest } from './authenticator.ts';
export type { AuthAnswer, AuthRequest, AuthSend, Credentials } from './authenticator.ts';
export { fetchAuthSend } from './transport.ts';
export { resolveValueRef, stageAuthenticator } from './stage.ts';
