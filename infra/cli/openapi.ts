/** `npm run openapi [-- <file>]`: writes the OpenAPI 3.1 document (default shared/client/openapi.json). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../../shared/http/openapi.js';

const target = process.argv[2] ?? fileURLToPath(new URL('../../shared/client/openapi.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`Wrote ${target}`);
