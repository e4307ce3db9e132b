/**
 * Text helpers shared by the Slack and email formatters: safe truncation, escaping, and the
 * readable preview of a draft's content.
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * At most `max` characters (UTF-16 units, as Slack and mail clients count) ending with "…" when
 * cut. It cuts between grapheme clusters, so a multi-byte character, a surrogate pair or an emoji
 * sequence is never split.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const { segment } of segmenter.segment(text)) {
    if (out.length + segment.length > max - 1) break;
    out += segment;
  }
  return `${out}…`;
}

/** Slack mrkdwn: &, < and > are its control characters (links, mentions); escaped, hostile text renders as text. */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Lines a reviewer reads: an email-shaped content as To/Subject/Body, anything else as compact JSON. */
export function contentPreview(content: Record<string, unknown>, max: number): string {
  const { to, subject, body } = content;
  const isText = (v: unknown): v is string => typeof v === 'string';
  if ((isText(to) || Array.isArray(to)) && (isText(subject) || isText(body))) {
    const lines = [`To: ${Array.isArray(to) ? to.map(String).join(', ') : to}`];
    if (isText(subject)) lines.push(`Subject: ${subject}`);
    if (isText(body)) lines.push('', body);
    return truncate(lines.join('\n'), max);
  }
  return truncate(JSON.stringify(content), max);
}

/** Metadata as "key: value" pairs on one line. */
export const metadataLine = (metadata: Record<string, unknown>, max: number): string =>
  truncate(
    Object.entries(metadata)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join(' · '),
    max,
  );
