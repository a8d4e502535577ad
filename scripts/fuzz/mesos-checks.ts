/**
 * Oracles for Mesos's v1 scheduler HTTP API (docs/mesos-scheduler-api.md). Every refusal carries
 * Agora's `{code, message}` (Mesos answers plain text; Agora's page promises the code); no 5xx;
 * a call is accepted (2xx) only when it is a SUBSCRIBE without a stream id, or names this
 * session's framework with this session's stream id; a plain SUBSCRIBE is accepted; refused calls
 * leave the session's stream open; every ERROR event's message starts with a stable code.
 */
import type { Problem } from './checks.js';
import type { MesosInput } from './mesos-gen.js';
import type { MesosOutcome } from './mesos-send.js';

function shape(text: string): string {
  return text
    .replace(/"[^"]{40,}"/g, '"…"')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/g, '<uuid>')
    .replace(/\d+/g, 'N')
    .slice(0, 80);
}

export function checkMesos(input: MesosInput, o: MesosOutcome): Problem[] {
  const out: Problem[] = [];
  if (input.subscribe && o.subscribeStatus !== 200) {
    out.push({
      kind: 'expectation',
      signature: `a plain SUBSCRIBE is refused (${o.subscribeStatus})`,
      observed: o.subscribeRefusal.slice(0, 300),
    });
  }
  let accepted = 0;
  for (const a of o.answers) {
    const c = a.call;
    const where = `mesos ${c.type}${c.chunked ? ' (chunked garbage)' : ''}`;
    if (a.status === -1) continue; // the client library refused to send it
    if (a.status === 0) {
      // A server that refuses before reading a huge body (413, 415) closes while we still write: not a defect.
      const refusedWhileWriting =
        /EPIPE|ECONNRESET/.test(a.error ?? '') && (c.body.t === 'bulk' || a.bodyBytes > 65_536);
      if (!c.chunked && !refusedWhileWriting)
        out.push({
          kind: 'no-answer',
          signature: `no HTTP answer: ${where}: ${shape(a.error ?? '')}`,
          observed: a.error ?? '',
        });
      continue;
    }
    let body: { code?: unknown; message?: unknown } | undefined;
    try {
      body = JSON.parse(a.body);
    } catch {
      body = undefined;
    }
    const code = typeof body?.code === 'string' ? body.code : undefined;
    if (a.status >= 500)
      out.push({
        kind: 'server-error',
        signature: `${a.status} ${code ?? '(no code)'} ${shape(String(body?.message ?? a.body))}: ${where}`,
        observed: `${a.status} ${a.body.slice(0, 300)}`,
      });
    if (a.status >= 400 && (!code || typeof body?.message !== 'string'))
      out.push({
        kind: 'no-code',
        signature: `${a.status} without {code, message}: ${where}`,
        observed: `${a.status} ${a.body.slice(0, 300) || '(empty body)'}`,
      });
    if (a.status >= 200 && a.status < 300) {
      accepted++;
      const subscribe = a.sentType === 'SUBSCRIBE' && a.sentStream === 'none';
      const ownCall = a.sentStream === 'own' && o.frameworkId !== '' && a.sentFw === o.frameworkId;
      if (!subscribe && !ownCall) {
        const why =
          a.sentType === 'SUBSCRIBE'
            ? 'a SUBSCRIBE carrying a Mesos-Stream-Id'
            : a.sentStream === 'none'
              ? 'a call without Mesos-Stream-Id'
              : a.sentStream === 'other'
                ? "a call with a made-up or another framework's stream id"
                : "a call naming another framework on this session's stream";
        out.push({
          kind: 'expectation',
          signature: `${why} is accepted (${a.status})`,
          observed: `${c.type} fw=${c.fw} stream=${c.stream} sent type=${a.sentType} fw=${a.sentFw} -> ${a.status}`,
        });
      }
      if (c.contentType !== 'application/json' && !/^application\/json\s*(;|$)/i.test(c.contentType ?? ''))
        out.push({
          kind: 'expectation',
          signature: 'a call without Content-Type application/json is accepted',
          observed: `content-type ${JSON.stringify(c.contentType)} -> ${a.status}`,
        });
    }
  }
  if (o.streamEndedByServer && accepted === 0)
    out.push({
      kind: 'expectation',
      signature: "refused calls ended the session's event stream",
      observed: `events ${o.events.join(',')}; answers ${o.answers.map((a) => a.status).join(',')}`,
    });
  for (const e of o.streamErrors)
    if (!/^AGORA_[A-Z0-9_]+\b/.test(e))
      out.push({
        kind: 'no-code',
        signature: `ERROR event without a code: ${shape(e)}`,
        observed: e.slice(0, 300),
      });
  return out;
}

/** Could this input be accepted (and so legitimately change state)? From its shape alone. */
export function mesosMaybeAccepting(input: MesosInput): boolean {
  return (
    input.subscribe ||
    input.calls.some((c) => c.type === 'SUBSCRIBE' || (c.body.t === 'text' && c.body.text.includes('SUBSCRIBE')))
  );
}

export function mesosAccepted(o: MesosOutcome): boolean {
  return o.subscribeStatus === 200 || o.answers.some((a) => a.status >= 200 && a.status < 300);
}
