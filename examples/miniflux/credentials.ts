// The stack's throwaway credentials, written once: the config hands them to the services and the
// stages, the experiments use the admin's to call the API.
export const dbPassword = 'miniflux-db-password';
export const admin = { username: 'mf-admin', password: 'miniflux-Admin-pass-1' } as const;
