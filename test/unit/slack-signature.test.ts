import { slackSignature, verifySlackRequest } from '../../shared/integrations/slack/signature.js';

// Slack's documented example ("Verifying requests from Slack"): a slash command's raw form body.
const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const timestamp = '1531420618';
const rawBody =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const at = (seconds: number) => new Date(seconds * 1000);

describe('Slack request signatures', () => {
  it("reproduces Slack's documented example and accepts it within the window", () => {
    expect(slackSignature(secret, timestamp, rawBody)).toBe(signature);
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody }, at(1531420618))).toEqual({ ok: true });
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody: Buffer.from(rawBody) }, at(1531420618 + 299))).toEqual({ ok: true });
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody }, at(1531420618 - 299))).toEqual({ ok: true });
  });

  it('refuses a tampered body, another secret, a changed timestamp or a malformed signature', () => {
    const now = at(1531420618);
    const refused = { ok: false, reason: 'bad_signature' };
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody: rawBody.replace('roadrunner', 'coyote') }, now)).toEqual(refused);
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody: `${rawBody}&x=1` }, now)).toEqual(refused);
    expect(verifySlackRequest('another-secret', { timestamp, signature, rawBody }, now)).toEqual(refused);
    expect(verifySlackRequest(secret, { timestamp: '1531420619', signature, rawBody }, now)).toEqual(refused);
    expect(verifySlackRequest(secret, { timestamp, signature: signature.toUpperCase(), rawBody }, now)).toEqual(refused);
    expect(verifySlackRequest(secret, { timestamp, signature: signature.slice(0, -1), rawBody }, now)).toEqual(refused);
    expect(verifySlackRequest(secret, { timestamp, signature: `v1=${signature.slice(3)}`, rawBody }, now)).toEqual(refused);
  });

  it('refuses a stale or future timestamp (more than five minutes away) even when correctly signed', () => {
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody }, at(1531420618 + 301))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifySlackRequest(secret, { timestamp, signature, rawBody }, at(1531420618 - 301))).toEqual({ ok: false, reason: 'stale_timestamp' });
    const odd = '1e9';
    expect(verifySlackRequest(secret, { timestamp: odd, signature: slackSignature(secret, odd, rawBody), rawBody }, at(1e9))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it('refuses a request without the headers', () => {
    expect(verifySlackRequest(secret, { timestamp: undefined, signature, rawBody }, at(1531420618))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifySlackRequest(secret, { timestamp, signature: '', rawBody }, at(1531420618))).toEqual({ ok: false, reason: 'missing_headers' });
  });
});
