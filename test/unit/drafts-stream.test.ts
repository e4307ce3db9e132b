import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { newDraft, type Draft, type DraftStatus } from '../../shared/domain/draft.js';
import { toItem } from '../../shared/store/drafts-store.js';
import { decodeDraftImage, isCreatedRecord, isDecisionRecord } from '../../shared/store/drafts-stream.js';

const agent = { keyId: 'k1', name: 'bot', role: 'agent' as const };
const draft = newDraft(
  { title: 'Send the invoice', content: { to: 'a@example.com', amount: 12.5 }, metadata: { run: 7 } },
  agent,
  new Date('2026-01-01T00:00:00Z'),
);

const image = (d: Draft) => marshall(toItem(d), { removeUndefinedValues: true }) as Record<string, AttributeValue>;
const record = (eventName: DynamoDBRecord['eventName'], before: DraftStatus | undefined, after: DraftStatus): DynamoDBRecord => ({
  eventName,
  dynamodb: {
    ...(before ? { OldImage: image({ ...draft, status: before }) } : {}),
    NewImage: image({ ...draft, status: after }),
  },
});

describe('the drafts stream, as the fan-out reads it', () => {
  it.each<[DynamoDBRecord['eventName'], DraftStatus | undefined, DraftStatus, boolean]>([
    ['MODIFY', 'pending', 'approved', true],
    ['MODIFY', 'pending', 'rejected', true],
    ['MODIFY', 'pending', 'expired', true],
    ['INSERT', undefined, 'pending', false],
    ['MODIFY', 'pending', 'pending', false],
    ['MODIFY', 'approved', 'approved', false],
    ['MODIFY', 'approved', 'expired', false],
  ])('%s %s → %s is a decision: %s (the stream filters decide)', (eventName, before, after, expected) => {
    expect(isDecisionRecord(record(eventName, before, after))).toBe(expected);
  });

  it.each<[DynamoDBRecord['eventName'], DraftStatus | undefined, DraftStatus, boolean]>([
    ['INSERT', undefined, 'pending', true],
    ['MODIFY', 'pending', 'pending', false],
    ['MODIFY', 'pending', 'approved', false],
    ['REMOVE', undefined, 'pending', false],
  ])('%s %s → %s is a new pending draft (draft.created): %s', (eventName, before, after, expected) => {
    expect(isCreatedRecord(record(eventName, before, after))).toBe(expected);
  });

  it('decodes a stream image back into the draft it stores', () => {
    const decided = { ...draft, status: 'approved' as const };
    expect(decodeDraftImage(image(decided))).toEqual(decided);
    expect(decodeDraftImage(undefined)).toBeUndefined();
  });
});
