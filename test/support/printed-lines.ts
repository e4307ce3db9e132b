/**
 * The lines a threaded receiver printed, each starting with one of `starts`. Python's print()
 * writes its text and its newline separately, so two request threads can interleave as
 * "Draft x rejected: …executing approved action: {…}\n\n": a record begins at any known start,
 * not only after a newline.
 */
export function printedLines(output: string, starts: readonly string[]): string[] {
  const escaped = starts.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const split = output.replace(new RegExp(`(?<!^|\\n)(${escaped.join('|')})`, 'g'), '\n$1');
  return split.split('\n').filter((line) => starts.some((s) => line.startsWith(s)));
}
