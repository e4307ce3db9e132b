import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settings } from '../../infra/app-definition.js';

/**
 * Readers in shared/ and functions/ name their settings as strings (shared/ may not import the
 * definition). A reader with a misspelt name would silently get its default, so both sides are
 * compared: every PROCESSA_* name a reader uses is declared, and every declared setting is read.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'client'].includes(entry.name) ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// The client package is the builders' code: its PROCESSA_URL and friends are not the functions' settings.
const readerFiles = ['shared', 'functions'].flatMap((dir) => sources(join(repoRoot, dir)));
const text = new Map(readerFiles.map((file) => [relative(repoRoot, file), readFileSync(file, 'utf8')]));
const declared = new Set<string>(Object.values(settings).map((setting) => setting.envVar));
/** How a reader names a variable: `env.NAME` or a quoted 'NAME'. */
const READS = /(?:\benv\.|['"`])(PROCESSA_[A-Z0-9_]+|PUBLIC_BASE_URL)\b/g;
const readNames = new Set([...text.values()].flatMap((source) => [...source.matchAll(READS)].map((m) => m[1]!)));

describe('setting names', () => {
  it('every PROCESSA_* name a function reads is declared in the definition', () => {
    const undeclared = [...text].flatMap(([file, source]) => [...source.matchAll(READS)].filter((m) => !declared.has(m[1]!)).map((m) => `${file}: ${m[1]}`));
    expect(undeclared).toEqual([]);
  });

  it.each([...declared])('%s is read by some function', (name) => {
    expect(readNames.has(name)).toBe(true);
  });
});
