import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger for every function; POWERTOOLS_LOG_LEVEL sets the level. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'processa' });
