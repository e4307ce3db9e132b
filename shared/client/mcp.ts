/**
 * The tools of the `processa-mcp` server (./mcp-server.ts): request_approval, get_decision,
 * list_my_pending. API errors come back as tool errors (`isError: true`) whose text starts with
 * the API's error code.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ProcessaClient, ProcessaError, DecisionTimeoutError, type Draft } from './index.js';

export const VERSION = '0.1.0';
/** Most hosts give up on a tool call after about a minute; a longer wait continues with get_decision. */
const MAX_WAIT_SECONDS = 50;

const APPROVAL_MEANING =
  'Processa is a human approval gate: a person reviews the action you describe and approves it (possibly after editing it) or rejects it. ' +
  'You must not perform the action unless its status is "approved", and then exactly as in the returned content, which the reviewer may have changed. ' +
  'If it is "rejected", do not perform it; read rejectionReason and change course. If it is "pending", nothing is decided yet: do not act, check again later with get_decision. ' +
  'If it is "expired", it can no longer be approved.';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const waitSeconds = z.number().int().min(0).max(MAX_WAIT_SECONDS);

export interface McpServerConfig {
  client: ProcessaClient;
  /** Put in each draft's metadata as `agent`; list_my_pending lists the pending drafts carrying it. */
  agentName: string;
}

export function createProcessaMcpServer({ client, agentName }: McpServerConfig): McpServer {
  const server = new McpServer({ name: 'processa', version: VERSION }, { instructions: APPROVAL_MEANING });

  server.registerTool(
    'request_approval',
    {
      title: 'Ask a person to approve an action',
      description:
        'Submit an action you intend to take (for example sending an email, paying, deleting data) for human approval, then wait up to wait_seconds for the decision. ' +
        APPROVAL_MEANING +
        ' Returns status approved (with the approved content), rejected (with the reason), expired, or pending (with draftId, when the wait ended first).',
      inputSchema: {
        title: z.string().min(1).max(200).describe('One line a reviewer reads first, e.g. "Send welcome email to user@example.com"'),
        content: z.record(z.string(), z.unknown()).describe('The action as a JSON object, complete enough to execute once approved (e.g. {to, subject, body})'),
        metadata: z.record(z.string(), scalar).optional().describe('Flat string/number/boolean values shown to the reviewer (e.g. {customerId: "c_42"})'),
        wait_seconds: waitSeconds.optional().describe(`How long to wait for the decision before answering "pending" (0–${MAX_WAIT_SECONDS}, default 30)`),
        idempotency_key: z.string().min(1).max(255).optional().describe('Reuse the same key when retrying the same request, so the person is not asked twice'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ title, content, metadata, wait_seconds, idempotency_key }, extra) =>
      answer(async () => {
        const draft = await client.createDraft(
          { title, content, metadata: { ...metadata, agent: agentName } },
          { idempotencyKey: idempotency_key, signal: extra.signal },
        );
        return decision(await waitFor(draft, wait_seconds ?? 30, extra.signal));
      }),
  );

  server.registerTool(
    'get_decision',
    {
      title: 'Check an approval request',
      description:
        'The decision on an approval request made with request_approval: status, the approved content or the rejection reason. ' +
        'Optionally waits up to wait_seconds while it is still pending. ' +
        APPROVAL_MEANING,
      inputSchema: {
        draft_id: z.string().min(1).max(200).describe('The draftId request_approval returned'),
        wait_seconds: waitSeconds.optional().describe(`How long to wait while it is pending (0–${MAX_WAIT_SECONDS}, default 0)`),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ draft_id, wait_seconds }, extra) =>
      answer(async () => {
        const draft = await client.getDraft(draft_id, { signal: extra.signal });
        return decision(await waitFor(draft, wait_seconds ?? 0, extra.signal));
      }),
  );

  server.registerTool(
    'list_my_pending',
    {
      title: 'List my undecided approval requests',
      description: `The approval requests this agent (${agentName}) made that no one has decided yet, newest first. None of them may be acted on yet.`,
      inputSchema: { limit: z.number().int().min(1).max(100).optional().describe('At most this many (default 20)') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ limit }, extra) =>
      answer(async () => {
        const max = limit ?? 20;
        const items: ReturnType<typeof summary>[] = [];
        let scanned = 0;
        // Pending drafts of every agent are listed; this agent's are those carrying its name. Bounded scan.
        for await (const draft of client.listDrafts({ status: 'pending', limit: 100 }, { signal: extra.signal })) {
          if (draft.metadata.agent === agentName) items.push(summary(draft));
          if (items.length >= max || ++scanned >= 1_000) break;
        }
        return { items, note: items.length ? 'Not decided yet: do not perform any of these actions until get_decision says approved.' : 'Nothing pending.' };
      }),
  );

  async function waitFor(draft: Draft, seconds: number, signal: AbortSignal): Promise<Draft> {
    if (draft.status !== 'pending' || seconds === 0) return draft;
    try {
      return await client.waitForDecision(draft.id, { timeoutMs: seconds * 1000, pollIntervalMs: 500, maxPollIntervalMs: 4_000, signal });
    } catch (error) {
      if (error instanceof DecisionTimeoutError) return { ...draft, ...error.draft, reviewUrl: draft.reviewUrl };
      throw error;
    }
  }

  return server;
}

function summary(draft: Draft) {
  return { draftId: draft.id, title: draft.title, createdAt: draft.createdAt, expiresAt: draft.expiresAt, reviewUrl: draft.reviewUrl };
}

/** What the model reads about a draft: the decision and what it may do now. */
function decision(draft: Draft) {
  const base = { status: draft.status, draftId: draft.id, title: draft.title, reviewUrl: draft.reviewUrl };
  switch (draft.status) {
    case 'approved':
      return {
        ...base,
        content: draft.content,
        contentEdited: draft.originalContent !== undefined,
        reviewedBy: draft.reviewedBy?.name ?? null,
        instruction: 'Approved. You may now perform the action, exactly as described by content (the reviewer may have edited it).',
      };
    case 'rejected':
      return {
        ...base,
        rejectionReason: draft.rejectionReason,
        reviewedBy: draft.reviewedBy?.name ?? null,
        instruction: 'Rejected. Do not perform the action. Take the reason into account and change course.',
      };
    case 'expired':
      return { ...base, instruction: 'Expired before anyone decided. Do not perform the action; ask again if it is still needed.' };
    default:
      return { ...base, instruction: 'Not decided yet. Do not perform the action. Call get_decision with this draftId later.' };
  }
}

/** Runs a tool body: its result as JSON text, or a tool error carrying the API's code and message. */
async function answer(body: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    const result = await body();
    return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }], structuredContent: result };
  } catch (error) {
    if (!(error instanceof ProcessaError)) throw error;
    const payload = { error: { code: error.code, message: error.message, status: error.status ?? null, details: error.details ?? null } };
    return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}\n${JSON.stringify(payload)}` }], structuredContent: payload };
  }
}

/** The environment's configuration, or the lines that say what is missing. */
export function configFromEnv(env: NodeJS.ProcessEnv): { baseUrl: string; apiKey: string; agentName: string } | { problems: string[] } {
  const problems: string[] = [];
  const baseUrl = env.PROCESSA_URL?.trim();
  const apiKey = env.PROCESSA_API_KEY?.trim();
  if (!baseUrl) problems.push('PROCESSA_URL is not set: the API base URL, e.g. http://localhost:3000/v1');
  else if (!/^https?:\/\/[^\s]+$/.test(baseUrl)) problems.push(`PROCESSA_URL must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  if (!apiKey) problems.push('PROCESSA_API_KEY is not set: an agent key (npm run keys -- create --role agent --name my-agent)');
  if (problems.length || !baseUrl || !apiKey) return { problems };
  return { baseUrl, apiKey, agentName: env.PROCESSA_AGENT_NAME?.trim() || 'mcp-agent' };
}
