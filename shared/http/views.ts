import { publicDraft, type Draft } from '../domain/draft-model.js';
import { publicBaseUrl, type ApiEvent } from './api-event.js';

/** A draft as the API returns it: its public fields plus the link a reviewer opens. */
export function draftView(draft: Draft, event: ApiEvent) {
  return { ...publicDraft(draft), reviewUrl: `${publicBaseUrl(event)}/review/${encodeURIComponent(draft.id)}` };
}
