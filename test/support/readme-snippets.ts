import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './dev-runtime.js';

/** The client package's README, where the agent snippets live. */
export const clientReadme = join(repoRoot, 'shared', 'client', 'README.md');

/**
 * The code of the README block whose first line is `// snippet: NAME` (or `# snippet: NAME`),
 * that marker line left out; or, for a name like `json:mcpServers`, the first ```json block
 * containing that text. Throws when there is none, so a snippet cannot silently go untested.
 */
export function readmeSnippet(name: string, file = clientReadme): string {
  const blocks = [...readFileSync(file, 'utf8').matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
  if (name.startsWith('json:')) {
    const found = blocks.find((block) => block.lang === 'json' && block.code.includes(name.slice(5)));
    if (!found) throw new Error(`${file}: no json block containing ${name.slice(5)}`);
    return found.code;
  }
  const marker = new RegExp(`^(//|#) snippet: ${name}\\n`);
  const found = blocks.find((block) => marker.test(block.code));
  if (!found) throw new Error(`${file}: no block starting with "snippet: ${name}"`);
  return found.code.replace(marker, '');
}
