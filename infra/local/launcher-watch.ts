import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Notices when whoever started the dev runtime is gone, so the runtime never outlives it.
 *
 * npm forwards SIGINT/SIGTERM to its child only (our script `exec`s node so that child is us),
 * and SIGKILL of npm reaches nobody; a script run through `sh -c` or a wrapper (tsx's CLI, a
 * test runner) adds links whose death we would not hear of either. When one of them dies, the
 * chain above us breaks: a process in it is gone, or reparented. So we record the chain from our
 * parent up to the package manager once, and poll that every link is still in place. Outside a
 * package-manager script only the direct parent is watched; above npm nothing is, so `nohup` and
 * closing a terminal behave as usual.
 */

/** A package manager's process: its command line (or npm's own process title, "npm run dev"). */
const PACKAGE_MANAGER = /(?:^|[\s/])(?:npm|npx|pnpm|yarn)(?:-cli\.[cm]?js)?(?:\s|$)/;
const MAX_DEPTH = 8;

/** Parent pid of each live process among pids (zombies count as gone): /proc on Linux, ps elsewhere (macOS). */
function parentsOf(pids: number[]): Map<number, number> {
  const parents = new Map<number, number>();
  if (process.platform === 'linux') {
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state !== 'Z' && state !== 'X') parents.set(pid, Number(ppid));
      } catch {
        // gone
      }
    }
    return parents;
  }
  try {
    const out = execFileSync('ps', ['-o', 'pid=,ppid=,stat=', '-p', pids.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const line of out.split('\n')) {
      const [pid, ppid, stat] = line.trim().split(/\s+/);
      if (pid && ppid && !stat?.startsWith('Z')) parents.set(Number(pid), Number(ppid));
    }
  } catch {
    // ps exits 1 when none of the pids exist
  }
  return parents;
}

function commandOf(pid: number): string {
  try {
    if (process.platform === 'linux') return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** Our parent, then its ancestors up to and including the package manager that ran the script; or just our parent. */
function launcherChain(): number[] {
  const direct = [process.ppid];
  if (!process.env.npm_lifecycle_event) return direct;
  const chain = [process.ppid];
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const pid = chain[chain.length - 1]!;
    if (PACKAGE_MANAGER.test(commandOf(pid))) return chain;
    const parent = parentsOf([pid]).get(pid);
    if (!parent || parent <= 1) break;
    chain.push(parent);
  }
  return direct;
}

/**
 * Calls onGone once (with the pid that vanished) when any link of the launcher chain dies or is
 * reparented. The timer is unref'd: watching never keeps the process alive by itself.
 */
export function watchLauncher(onGone: (pid: number) => void, intervalMs = 1000): () => void {
  const chain = launcherChain();
  const check = () => {
    if (process.ppid !== chain[0]) return chain[0]!;
    const parents = parentsOf(chain);
    for (let i = 0; i + 1 < chain.length; i++) {
      const parent = parents.get(chain[i]!);
      if (parent === undefined) return chain[i]!;
      if (parent !== chain[i + 1]) return chain[i + 1]!;
    }
    return undefined;
  };
  const timer = setInterval(() => {
    const gone = check();
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
