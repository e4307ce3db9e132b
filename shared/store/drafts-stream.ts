import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as StreamAttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { Draft } from '../domain/draft.js';
import { fromItem } from './drafts-store.js';
import { matchesAny } from './stream-filter.js';

/**
 * The drafts table's stream as the fan-out sees it: which records are decisions, and the draft
 * each carries. The store adapter owns the stream image format, as it owns the item format.
 */

/**
 * Lambda event filter (same syntax as EventSourceMapping FilterCriteria) that lets only
 * decisions through: an update whose old image is pending and new image is decided.
 */
export const decisionStreamFilter = {
  eventName: ['MODIFY'],
  dynamodb: {
    OldImage: { status: { S: ['pending'] } },
    NewImage: { status: { S: ['approved', 'rejected'] } },
  },
} as const;

/** Expiry, as a filter: pending → expired. */
export const expiryStreamFilter = {
  eventName: ['MODIFY'],
  dynamodb: {
    OldImage: { status: { S: ['pending'] } },
    NewImage: { status: { S: ['expired'] } },
  },
} as const;

/** A new draft waiting for review: the insert of a pending draft (draft.created and notification channels). */
export const createdStreamFilter = {
  eventName: ['INSERT'],
  dynamodb: {
    NewImage: { status: { S: ['pending'] } },
  },
} as const;

/** The records the fan-out acts on; the stream's event source mapping filters by the same list. */
export const draftStreamFilters = [decisionStreamFilter, expiryStreamFilter, createdStreamFilter] as const;

/** Whether a record is a decision or an expiry (pending → approved/rejected/expired). */
export const isDecisionRecord = (record: DynamoDBRecord): boolean => matchesAny([decisionStreamFilter, expiryStreamFilter], record);

/** Whether a record is a new pending draft. */
export const isCreatedRecord = (record: DynamoDBRecord): boolean => matchesAny([createdStreamFilter], record);

/** The draft in a stream image (e.g. a record's NewImage), or undefined when the image is absent. */
export function decodeDraftImage(image: Record<string, StreamAttributeValue> | undefined): Draft | undefined {
  // aws-lambda's and the SDK's AttributeValue types describe the same JSON; only their declarations differ.
  return image ? fromItem(unmarshall(image as Record<string, AttributeValue>)) : undefined;
}
