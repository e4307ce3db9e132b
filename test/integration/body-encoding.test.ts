/**
 * The real create-draft handler against DynamoDB Local, called with API Gateway v2 events whose
 * body is not UTF-8: base64-encoded (isBase64Encoded, as API Gateway sends bytes it does not pass
 * as text) or a text body with a lone surrogate. Each is refused naming the body, and nothing is
 * stored: not in the table, not in the listing.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { handler as createHandler } from '../../functions/create-draft/handler.js';
import { handler as readHandler } from '../../functions/read-drafts/handler.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { bearer, seedKeys } from '../support/keys.js';

const keys = await seedKeys();

function createEvent(body: string, isBase64Encoded: boolean) {
  const event = apiEvent({ routeKey: 'POST /v1/drafts', headers: { ...bearer(keys.agent.key), 'content-type': 'application/json' } });
  event.body = body;
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

async function storedWithTitlePrefix(prefix: string) {
  const { Items = [] } = await documentClient().send(
    new ScanCommand({
      TableName: tableNameFromEnv('drafts'),
      FilterExpression: 'begins_with(title, :t)',
      ExpressionAttributeValues: { ':t': prefix },
      ConsistentRead: true,
    }),
  );
  return Items;
}

describe('POST /v1/drafts with a body that is not UTF-8', () => {
  it('base64-encoded invalid bytes: 400 naming the body, nothing stored or listed', async () => {
    const marker = `enc-${Math.random().toString(36).slice(2)}`;
    for (const bad of [[0xff], [0x80], [0xc0, 0xaf], [0xed, 0xb0, 0x80], [0xf0, 0x9f, 0x8e]]) {
      const bytes = Buffer.concat([Buffer.from(`{"title":"${marker} `), Buffer.from(bad), Buffer.from('","content":{"n":1}}')]);
      const res = await invoke(createHandler, createEvent(bytes.toString('base64'), true));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_encoding', details: { fields: [{ field: 'body', message: 'must be valid UTF-8' }] } });
    }
    // A text body with a lone surrogate, the one way a string can be invalid.
    const surrogate = await invoke(createHandler, createEvent(`{"title":"${marker} \ud83c","content":{"n":1}}`, false));
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.error.details.fields[0].field).toBe('body');

    expect(await storedWithTitlePrefix(marker)).toEqual([]);
    const listed = await invoke(readHandler, apiEvent({ routeKey: 'GET /v1/drafts', query: { limit: '100' }, headers: bearer(keys.reviewer.key) }));
    expect(listed.status).toBe(200);
    expect(listed.body.items.filter((d: { title: string }) => d.title.startsWith(marker))).toEqual([]);
  });

  it('the same draft in valid UTF-8, base64 or not, is created with its text intact', async () => {
    const title = `enc-ok-${Math.random().toString(36).slice(2)} ✓ 🎉`;
    const text = JSON.stringify({ title, content: { n: 1 } });
    const viaBase64 = await invoke(createHandler, createEvent(Buffer.from(text).toString('base64'), true));
    expect(viaBase64.status).toBe(201);
    expect(viaBase64.body.title).toBe(title);
    const viaText = await invoke(createHandler, createEvent(text, false));
    expect(viaText.status).toBe(201);
    expect((await storedWithTitlePrefix(title)).map((item) => item.title)).toEqual([title, title]);
  });
});
