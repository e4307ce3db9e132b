#!/usr/bin/env node
/**
 * `processa-mcp`: Processa as a Model Context Protocol server on stdio, for agent hosts (Claude
 * Desktop, IDE agents). Configured by the environment:
 *   PROCESSA_URL          the API's base URL (`http://localhost:3000/v1` from `npm run dev`)
 *   PROCESSA_API_KEY      an agent key
 *   PROCESSA_AGENT_NAME   optional: who asks, put in each draft's metadata as `agent` (default `mcp-agent`);
 *                         list_my_pending lists the pending drafts carrying this name.
 *
 * Built with esbuild into one file (dist/mcp-server.js) with the MCP SDK and zod inside, so that
 * the package keeps no runtime dependencies and `npx processa-mcp` needs nothing else.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ProcessaClient } from './index.js';
import { configFromEnv, createProcessaMcpServer, VERSION } from './mcp.js';

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  if ('problems' in config) {
    // stdout is the protocol's channel: everything for people goes to stderr.
    process.stderr.write(`processa-mcp: ${config.problems.join('\nprocessa-mcp: ')}\n`);
    process.exit(2);
  }
  let client: ProcessaClient;
  try {
    client = new ProcessaClient({ baseUrl: config.baseUrl, apiKey: config.apiKey });
  } catch (error) {
    process.stderr.write(`processa-mcp: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const server = createProcessaMcpServer({ client, agentName: config.agentName });
  await server.connect(new StdioServerTransport());
  process.stderr.write(`processa-mcp ${VERSION}: serving ${config.baseUrl} on stdio as ${config.agentName}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`processa-mcp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
