/// <reference lib="dom" />
import { ATTEMPT_STATUSES } from '../../common/status';
import { api, ApiFailure, type AttemptList } from '../api';
import { h, render, statusBadge, table } from '../dom';
import { relative, when } from '../format';
import type { App } from '../app';

/**
 * An awaiting attempt escalation widened reads "escalated to …" beside its status: still awaiting, never to be taken
 * for EXPIRED (nobody decided in time) or REJECTED (a human said no), whose badges differ too.
 */
function escalationMark(a: AttemptList['attempts'][number]): HTMLElement | null {
  if (!a.escalatedTo?.length) return null;
  return h('span', { class: 'escalated-to', 'data-escalated': a.escalatedTo.join(',') }, `escalated to ${a.escalatedTo.join(', ')}`);
}

/** Inbox rows (`withDeadline`) carry the action type's one-line summary; the list of all attempts does not. */
function rows(list: AttemptList['attempts'], withDeadline: boolean): HTMLTableRowElement[] {
  return list.map((a) =>
    h(
      'tr',
      { 'data-attempt': a.attemptId },
      h('td', {}, h('a', { href: `/attempts/${a.attemptId}`, 'data-link': true, class: 'mono' }, a.attemptId)),
      withDeadline ? h('td', { class: 'summary' }, a.summary ?? '—') : null,
      h('td', {}, statusBadge(a.status), escalationMark(a)),
      h('td', {}, a.agent ?? '—'),
      h('td', {}, a.actionType ?? '—'),
      h('td', {}, a.resource ?? '—'),
      withDeadline ? h('td', { title: a.deadline ?? '' }, a.deadline ? relative(a.deadline) : '—') : h('td', {}, when(a.startedAt)),
    ),
  );
}

/** Attempts awaiting this human's decision, soonest deadline first, updated live. */
export function renderInbox(app: App): void {
  const body = h('div', { id: 'inbox-list' });
  const heading = h('h1', {}, 'Awaiting your decision');
  const show = (list: AttemptList) => {
    heading.textContent = `Awaiting your decision (${list.count})`;
    body.replaceChildren(
      list.count === 0
        ? h('p', { class: 'muted' }, 'Nothing awaits your decision. This list updates by itself.')
        : table(
            ['Attempt', 'Summary', 'Status', 'Agent', 'Action', 'Resource', 'Deadline'],
            rows(list.attempts, true),
            'Attempts awaiting your decision, soonest deadline first',
            { stack: true },
          ),
    );
  };
  render(heading, h('p', { class: 'muted' }, 'Attempts you may decide — soonest deadline first. Updates live.'), body);
  app.onInbox = show;
  if (app.inbox) show(app.inbox);
  else
    void api.inbox().then(show, (err: unknown) => body.replaceChildren(h('p', { class: 'error', role: 'alert' }, (err as Error).message)));
  // Keep relative deadlines fresh.
  const timer = window.setInterval(() => app.inbox && show(app.inbox), 15_000);
  app.cleanup = () => window.clearInterval(timer);
}

/** Every attempt, newest first, filtered by status, agent and action type (filters live in the URL). */
export function renderAll(app: App): void {
  const params = new URLSearchParams(location.search);
  const status = h(
    'select',
    { id: 'f-status', name: 'status' },
    h('option', { value: '' }, 'any'),
    ...ATTEMPT_STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s }, s)),
  );
  const agent = h('input', { id: 'f-agent', name: 'agent', value: params.get('agent') ?? '', placeholder: 'e.g. refund-bot' });
  const actionType = h('input', {
    id: 'f-action',
    name: 'actionType',
    value: params.get('actionType') ?? '',
    placeholder: 'e.g. payments.refund',
  });
  const body = h('div', { id: 'all-list', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter attempts' },
    h('label', { for: 'f-status' }, 'Status', status),
    h('label', { for: 'f-agent' }, 'Agent', agent),
    h('label', { for: 'f-action' }, 'Action type', actionType),
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    if (status.value) next.set('status', status.value);
    if (agent.value.trim()) next.set('agent', agent.value.trim());
    if (actionType.value.trim()) next.set('actionType', actionType.value.trim());
    app.navigate(`/all${next.size ? `?${next.toString()}` : ''}`);
  });
  render(h('h1', {}, 'All attempts'), form, body);
  const filter = Object.fromEntries([...params].filter(([k, v]) => ['status', 'agent', 'actionType'].includes(k) && v));
  api.attempts(filter).then(
    (list) =>
      body.replaceChildren(
        h('p', { class: 'muted' }, `${list.count} attempt${list.count === 1 ? '' : 's'}`),
        list.count
          ? table(['Attempt', 'Status', 'Agent', 'Action', 'Resource', 'Started'], rows(list.attempts, false), 'Attempts', { stack: true })
          : '',
      ),
    (err: unknown) =>
      body.replaceChildren(h('p', { class: 'error', role: 'alert' }, err instanceof ApiFailure ? `${err.message}` : String(err))),
  );
}
