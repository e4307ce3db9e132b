import { readFileSync } from 'node:fs';
import { openApiDocument } from '../../shared/http/openapi.js';

describe('shared/client/openapi.json', () => {
  it('is the current document (regenerate it with `npm run openapi`)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../shared/client/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('marks only the document itself as open; every other operation names its roles', () => {
    const operations = Object.entries(openApiDocument().paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, op: op as Record<string, unknown> })));
    const open = operations.filter(({ op }) => Array.isArray(op.security) && (op.security as unknown[]).length === 0).map(({ key }) => key);
    expect(open).toEqual(['get /v1/openapi.json']);
    for (const { key, op } of operations) if (key !== 'get /v1/openapi.json') expect((op['x-roles'] as string[]).length).toBeGreaterThan(0);
  });
});
