/**
 * `@processa/client/langchain`: put a person's approval in front of a LangChain.js tool.
 * Needs `@langchain/core` (an optional peer dependency: only this entry point imports it).
 *
 *   const sendEmail = requireApproval(tool(send, { name: 'send_email', schema }), { client: processa, title: 'Send email to {to}' });
 *   const model = chat.bindTools([sendEmail]);
 *
 * When the tool is invoked with a tool call, a draft is created and the call waits for the
 * decision: approved → the tool runs with the approved (possibly edited) arguments, checked again
 * by the tool's own schema; rejected, expired or no decision in time → the tool does not run and
 * the ToolMessage carries an ApprovalOutcome saying so (with the reviewer's reason). Arguments a
 * reviewer edited into something the schema refuses give an error ToolMessage naming the fields.
 */
import { ToolMessage } from '@langchain/core/messages';
import { DynamicStructuredTool, type StructuredToolInterface, type ToolRunnableConfig } from '@langchain/core/tools';
import { Validator } from '@langchain/core/utils/json_schema';
import { interopSafeParseAsync, isInteropZodSchema } from '@langchain/core/utils/types';
import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import { ApprovedArgumentsInvalidError, awaitApproval, checkApprovalOptions, fieldProblems, type ApprovalOptions } from './approval.js';

export { ApprovedArgumentsInvalidError, isApprovalOutcome, type ApprovalOptions, type ApprovalOutcome } from './approval.js';

/** The same tool (name, description, schema), which first waits for a person's approval. */
export function requireApproval(tool: StructuredToolInterface, options: ApprovalOptions): DynamicStructuredTool {
  checkApprovalOptions(options as ApprovalOptions<never>, 'requireApproval');
  if (!tool || typeof tool.invoke !== 'function' || typeof tool.name !== 'string') throw new TypeError('requireApproval: expected a LangChain tool');
  const schema: unknown = tool.schema;

  return new DynamicStructuredTool({
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
    returnDirect: tool.returnDirect,
    func: async (input: unknown, runManager?: CallbackManagerForToolRun, config?: ToolRunnableConfig) => {
      const toolCall = config?.toolCall;
      const gate = await awaitApproval(
        { toolName: tool.name, args: input, toolCallId: toolCall?.id, signal: config?.signal },
        options as ApprovalOptions<never>,
      );
      // Returned as the tool's result: LangChain puts it, as JSON, in the ToolMessage the model reads.
      if (gate.approval !== 'approved') return gate;

      // A reviewer's edit wins, but only if the tool itself accepts it.
      const problems = await schemaProblems(schema, gate.args);
      if (problems) {
        const error = new ApprovedArgumentsInvalidError(tool.name, problems, gate.draft.id);
        if (!toolCall?.id) throw error;
        return new ToolMessage({ content: error.message, status: 'error', tool_call_id: toolCall.id, name: tool.name });
      }
      const childConfig = { ...config, callbacks: runManager?.getChild() };
      // Invoked with the tool call (its args replaced), the tool answers with its own ToolMessage, artifact included.
      const args = gate.args as Record<string, unknown>;
      return tool.invoke(toolCall ? { ...toolCall, args } : args, childConfig);
    },
  });
}

/** The field problems of `value` against a LangChain tool schema (zod 3/4 or JSON Schema); undefined when it fits. */
async function schemaProblems(schema: unknown, value: unknown) {
  if (isInteropZodSchema(schema)) {
    const result = await interopSafeParseAsync(schema, value);
    return result.success ? undefined : fieldProblems(result.error);
  }
  if (schema && typeof schema === 'object') {
    const result = new Validator(schema as ConstructorParameters<typeof Validator>[0]).validate(value);
    return result.valid ? undefined : fieldProblems({ issues: result.errors.filter((error) => error.keyword !== 'properties') });
  }
  return undefined;
}
