import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, DescribeStreamCommand, GetShardIteratorCommand, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import { startDynamoDbLocal, LOCAL_AWS } from '../../../infra/local/dynamodb-local.js';
import { provisionTables, streamArn } from '../../../infra/local/provision.js';
const d = await startDynamoDbLocal();
const c = new DynamoDBClient({ ...LOCAL_AWS, endpoint: d.endpoint });
const s = new DynamoDBStreamsClient({ ...LOCAL_AWS, endpoint: d.endpoint });
const names = await provisionTables(c, 'x');
const arn = await streamArn(c, names.drafts);
for (const total of [500, 2000, 4000]) {
  const t0 = performance.now();
  const have = total === 500 ? 0 : total === 2000 ? 500 : 2000;
  for (let i = have; i < total; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => c.send(new PutItemCommand({ TableName: names.drafts, Item: { id: { S: `d${i + j}` }, kind: { S: 'draft' }, status: { S: 'pending' }, listKey: { S: `k${i + j}` }, pad: { S: 'x'.repeat(500) } } }))));
  const putMs = performance.now() - t0;
  const { StreamDescription } = await s.send(new DescribeStreamCommand({ StreamArn: arn }));
  const shard = StreamDescription!.Shards![0]!.ShardId!;
  let it = (await s.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  let n = 0, calls = 0; const t1 = performance.now(); const per: number[] = [];
  while (it && n < total) { const t = performance.now(); const r = await s.send(new GetRecordsCommand({ ShardIterator: it, Limit: 100 })); per.push(performance.now() - t); calls++; n += r.Records?.length ?? 0; it = r.NextShardIterator; if (!r.Records?.length) break; }
  console.log(`items=${total} put ${(putMs/1000).toFixed(1)}s; read ${n} records in ${calls} calls, ${(performance.now() - t1).toFixed(0)} ms, per call p50 ${per.sort((a,b)=>a-b)[per.length>>1].toFixed(0)} max ${per.at(-1)!.toFixed(0)} ms`);
}
c.destroy(); s.destroy(); await d.stop();
