/**
 * Who may do what is domain vocabulary: keys carry a role, routes name the roles they allow.
 * Lives here (not in infra/) so the domain never imports infrastructure; the app definition
 * imports it.
 */
export const ROLES = ['agent', 'reviewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
