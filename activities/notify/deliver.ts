import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { FailureType, WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, type NotificationMessage } from '../../common';
import type { NotificationChannelConfig, NotificationsConfig } from '../../config/schema';
import { webhookSignature } from '../../client/webhookSignature';
import { withEnv } from '../http';

const WEBHOOK_TIMEOUT_MS = 10_000;
const SMTP_TIMEOUT_MS = 10_000;

/**
 * POSTs the message to a webhook: the JSON message (or a Slack-compatible body), signed with HMAC-SHA256 in
 * `X-Ecp-Signature` (`t=<unix>,v1=<hex over "t.body">`) and named by `X-Ecp-Event-Id`. Throws on a network fault or a
 * non-2xx answer (retried by Temporal); 4xx other than 408/429 is final.
 */
export async function sendWebhook(spec: NonNullable<NotificationChannelConfig['webhook']>, message: NotificationMessage): Promise<void> {
  const body = JSON.stringify(spec.format === 'slack' ? slackBody(message) : message);
  const signature = webhookSignature(withEnv(spec.secret), body, Math.floor(Date.now() / 1000));
  const response = await fetch(withEnv(spec.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signature, [WEBHOOK_EVENT_ID_HEADER]: message.id },
    body,
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (response.ok) return;
  const final = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  const text = `webhook answered HTTP ${response.status}`;
  throw final ? ApplicationFailure.nonRetryable(text, FailureType.HttpStatusError) : new Error(text);
}

/**
 * Sends the message by e-mail to its recipients that have an address (ecp.yaml `notifications.emails`), one message
 * to all of them. Returns false when none has an address (nothing to send). Throws when the SMTP server cannot take it.
 */
export async function sendEmail(
  spec: NonNullable<NotificationChannelConfig['email']>,
  emails: NotificationsConfig['emails'],
  message: NotificationMessage,
): Promise<boolean> {
  const to = message.recipients.flatMap((h) => (Object.hasOwn(emails, h) ? [emails[h]!] : []));
  if (to.length === 0) return false;
  const transport = nodemailer.createTransport({
    host: spec.smtp.host,
    port: spec.smtp.port,
    secure: spec.smtp.secure,
    ...(spec.smtp.user ? { auth: { user: spec.smtp.user, pass: spec.smtp.password ? withEnv(spec.smtp.password) : '' } } : {}),
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({
      from: spec.from,
      to,
      subject: `[ECP] ${message.text}`.slice(0, 200),
      text: emailText(message),
      // The same Message-ID on every try, so a mail system that saw a try whose answer was lost can drop the copy.
      messageId: `<${message.id.replace(/[^A-Za-z0-9._:-]/g, '_')}@ecp>`,
      headers: { [WEBHOOK_EVENT_ID_HEADER]: message.id },
    });
    return true;
  } finally {
    transport.close();
  }
}

function emailText(m: NotificationMessage): string {
  const lines = [m.text, ''];
  if (m.detail) lines.push(m.detail, '');
  if (m.link) lines.push(`Open it: ${m.link}`, '');
  if (m.attempt) {
    lines.push(
      `Attempt: ${m.attempt.attemptId} (${m.attempt.status})`,
      `Agent: ${m.attempt.agent}`,
      `Action type: ${m.attempt.actionType}`,
    );
    lines.push(`Resource: ${m.attempt.resource}`);
    if (m.attempt.parameters) lines.push(`Parameters: ${JSON.stringify(m.attempt.parameters)}`);
  }
  lines.push('', `Event ${m.id} at ${m.at}`);
  return lines.join('\n');
}

/** A Slack incoming-webhook body: `text` (fallback) and one mrkdwn section. */
function slackBody(m: NotificationMessage): { text: string; blocks: unknown[] } {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const lines = [`*${esc(m.text)}*`];
  if (m.detail) lines.push(esc(m.detail));
  if (m.link) lines.push(`<${m.link}|Open in the ECP console>`);
  return { text: m.text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }] };
}
