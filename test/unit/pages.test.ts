import { createHash } from 'node:crypto';
import { escapeHtml, html } from '../../shared/pages/html.js';
import { CONTENT_SECURITY_POLICY, layout } from '../../shared/pages/layout.js';
import { age, readableContent } from '../../shared/pages/review-views.js';

describe('page HTML', () => {
  it('escapes every interpolated value, including in attributes', () => {
    const hostile = `"><img src=x onerror=alert(1)> <script>alert('x')</script> \`javascript:alert(1)\``;
    const out = html`<a title="${hostile}">${hostile}</a>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<img');
    expect(out).not.toMatch(/"\s*>\s*<img/);
    expect(out).toContain('&lt;script&gt;');
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('nests safe fragments without double escaping and drops null, undefined and false', () => {
    expect(html`<p>${html`<b>${'<i>'}</b>`}${null}${undefined}${false}${0}</p>`.value).toBe('<p><b>&lt;i&gt;</b>0</p>');
  });

  it('renders email-like content readably and anything else as JSON, escaped either way', () => {
    const email = readableContent({ to: 'a@b.c', subject: '<script>x</script>', body: 'Hi\n</textarea>' }).value;
    expect(email).toContain('<dt>Subject</dt><dd>&lt;script&gt;x&lt;/script&gt;</dd>');
    expect(email).toContain('&lt;/textarea&gt;');
    expect(readableContent({ amount: 5, note: '<b>' }).value).toBe('<pre>{\n  &quot;amount&quot;: 5,\n  &quot;note&quot;: &quot;&lt;b&gt;&quot;\n}</pre>');
  });

  it('sends a CSP that allows no script and exactly the one inline stylesheet', () => {
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src|unsafe-inline/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/frame-ancestors 'none'/);
    const page = layout('T', html`<p>x</p>`);
    const style = page.match(/<style>([\s\S]*)<\/style>/)![1]!;
    const hash = CONTENT_SECURITY_POLICY.match(/'sha256-([^']+)'/)![1];
    expect(createHash('sha256').update(style).digest('base64')).toBe(hash);
    expect(page).not.toMatch(/<script|https?:\/\//);
  });

  it('describes ages in words', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(age('2026-01-01T11:59:30Z', now)).toBe('just now');
    expect(age('2026-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(age('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(age('2025-12-25T12:00:00Z', now)).toBe('7 days ago');
  });
});
