/**
 * Request limits enforced by every JSON handler and page (API Gateway itself allows 10 MB).
 * The HTTP layer owns them; the app definition re-exports them for infra code (e.g. the local gateway).
 */
export const limits = {
  maxBodyBytes: 256 * 1024,
} as const;
