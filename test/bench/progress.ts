/**
 * A one-line progress bar on stderr, redrawn with \r at most every 200 ms. On a terminal it
 * overwrites itself; in a log file each redraw is a line-less overwrite sequence, which is harmless.
 */
export interface Progress {
  set(done: number, note?: string): void;
  tick(by?: number, note?: string): void;
  done(note?: string): void;
}

const WIDTH = 28;
/** Bound at load, before any section swallows stderr (handlers' log lines while they are measured). */
const write = process.stderr.write.bind(process.stderr);
let active = false;

export function progress(label: string, total: number): Progress {
  const started = performance.now();
  let current = 0;
  let lastDraw = 0;
  let lastNote = '';
  active = true;
  const draw = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastDraw < 200) return;
    lastDraw = now;
    const fraction = total > 0 ? Math.min(1, current / total) : 1;
    const filled = Math.round(fraction * WIDTH);
    const seconds = ((now - started) / 1000).toFixed(1);
    const line = `${label.padEnd(34)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(current).padStart(String(total).length)}/${total} ${seconds}s ${lastNote}`;
    write(`\r${line.slice(0, 118).padEnd(118)}`);
  };
  draw(true);
  return {
    set(done, note) {
      current = done;
      if (note !== undefined) lastNote = note;
      draw(false);
    },
    tick(by = 1, note) {
      current += by;
      if (note !== undefined) lastNote = note;
      draw(false);
    },
    done(note) {
      if (note !== undefined) lastNote = note;
      current = Math.max(current, total);
      draw(true);
      write('\n');
      active = false;
    },
  };
}

/** A status line that does not break an active progress bar. */
export function say(line: string): void {
  write(`${active ? '\n' : ''}${line}\n`);
}
