import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Dependencies point inward: shared/ (domain, store, webhooks, http, pages) and the handlers in
 * functions/ never import infra/. The definition imports the domain's words, not the other way round.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const infraDir = join(repoRoot, 'infra') + sep;

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, statically or dynamically. */
export function importedSpecifiers(source: string): string[] {
  const patterns = [/\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]!));
}

const infraImports = (dir: string) =>
  typeScriptFiles(join(repoRoot, dir)).flatMap((file) =>
    importedSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.') && resolve(dirname(file), specifier).startsWith(infraDir))
      .map((specifier) => `${relative(repoRoot, file)} imports ${specifier}`),
  );

describe('import boundaries', () => {
  it('sees imports in every form', () => {
    const source = `import { a } from '../../infra/a.js';\nimport type {\n  B,\n} from "../infra/b.js";\nexport { c } from './c.js';\nimport './d.js';\nawait import('../e.js');`;
    expect(importedSpecifiers(source).sort()).toEqual(['../../infra/a.js', '../e.js', '../infra/b.js', './c.js', './d.js']);
  });

  it.each(['shared', 'functions'])('no file under %s/ imports infra/', (dir) => {
    expect(infraImports(dir)).toEqual([]);
  });
});
