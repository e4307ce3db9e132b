import { createHash } from 'node:crypto';
import { html, trusted, type SafeHtml } from './html.js';

/** One small stylesheet, inline; the CSP allows exactly this text by its hash and no script at all. */
const STYLESHEET = `
:root{--fg:#1d232a;--muted:#5c6670;--line:#d9dee3;--bg:#f7f8f9;--card:#fff;--accent:#2457c5;--ok:#1f7a4d;--warn:#9a6200;--bad:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.75rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
header strong{margin-right:auto}
header form{margin:0}
main{max-width:52rem;margin:0 auto;padding:1rem;overflow-wrap:break-word}
a{color:var(--accent)}
h1{font-size:1.35rem;margin:.5rem 0 1rem}
h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0 0 1rem}
.muted{color:var(--muted)}
.tabs{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.tabs a{padding:.2rem .6rem;border-radius:999px;border:1px solid var(--line);text-decoration:none}
.tabs a[aria-current]{background:var(--fg);color:#fff;border-color:var(--fg)}
ul.drafts{list-style:none;margin:0;padding:0}
ul.drafts li{padding:.75rem 0;border-bottom:1px solid var(--line)}
ul.drafts li:last-child{border-bottom:0}
.badge{display:inline-block;font-size:.8rem;padding:0 .45rem;border-radius:4px;border:1px solid var(--line)}
.badge.pending{color:var(--warn)}.badge.approved,.badge.succeeded{color:var(--ok)}.badge.rejected,.badge.failed{color:var(--warn)}.badge.dead,.badge.expired{color:var(--bad)}
tr.failed td{background:#fff8e6}tr.dead td{background:#fdecea}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.75rem;margin:0;font-size:.9rem}
.email-body{white-space:pre-wrap;overflow-wrap:anywhere;border-top:1px solid var(--line);margin-top:.75rem;padding-top:.75rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=url],input[type=password],textarea{width:100%;font:inherit;padding:.5rem;border:1px solid var(--line);border-radius:6px;background:#fff}
input[type=number]{width:9rem;font:inherit;padding:.45rem .5rem;border:1px solid var(--line);border-radius:6px;background:#fff}
textarea{min-height:10rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
button{font:inherit;padding:.45rem .9rem;border-radius:6px;border:1px solid var(--fg);background:var(--fg);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--fg)}
button.danger{background:var(--bad);border-color:var(--bad)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem}
.actions form{margin:0}
.notice{border-left:4px solid var(--accent);background:#eef3fd;padding:.6rem .9rem;margin:0 0 1rem;border-radius:4px}
.error{border-left-color:var(--bad);background:#fdecea}
.secret{font-family:ui-monospace,monospace;background:#fff;border:1px dashed var(--fg);padding:.4rem .6rem;display:inline-block;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
.table-wrap{overflow-x:auto}
fieldset{border:0;padding:0;margin:.75rem 0 0}
fieldset label,label.confirm{display:inline-flex;gap:.35rem;align-items:center;font-weight:400;margin:.25rem 1rem .25rem 0}
.card>h2:first-child{margin-top:0}
td.nowrap{white-space:nowrap}
table.deliveries{table-layout:fixed;min-width:36rem}table.deliveries td{overflow-wrap:anywhere}
.deliveries .w-outcome{width:6.5rem}.deliveries .w-http{width:3.5rem}.deliveries .w-attempt{width:5.5rem}.deliveries .w-event{width:10.5rem}.deliveries .w-time{width:6.5rem}.deliveries .w-took{width:5rem}
.wrap{overflow-wrap:anywhere;word-break:break-word}td.wrap{min-width:12rem}
.health strong{text-transform:capitalize}.health.healthy strong{color:var(--ok)}.health.failing strong{color:var(--warn)}.health.disabled strong{color:var(--bad)}
@media (max-width:560px){main{padding:.75rem}dl{grid-template-columns:1fr}.card{padding:.75rem}}
`.trim();

const styleHash = createHash('sha256').update(STYLESHEET).digest('base64');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${styleHash}'`,
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface Viewer {
  name: string;
  role: string;
  csrfToken: string;
}

export function layout(title: string, body: SafeHtml, viewer?: Viewer): string {
  const nav = viewer
    ? html`<a href="/review">Drafts</a>${viewer.role === 'admin' ? html` <a href="/settings/webhooks">Webhooks</a>` : ''}
        <span class="muted">${viewer.name} (${viewer.role})</span>
        <form method="post" action="/review/logout"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button class="secondary" type="submit">Sign out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Processa</title><style>${trusted(STYLESHEET)}</style></head>
<body><header><strong>Processa</strong>${nav}</header><main>${body}</main></body></html>`.value;
}
