/// <reference lib="dom" />
/** A tiny element builder: text is always set as text (never parsed as HTML), so record data cannot inject markup. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

export function main(): HTMLElement {
  return document.getElementById('main')!;
}

/** Replaces the page content and moves focus to its heading, so keyboard and screen-reader users land on it. */
export function render(...children: Child[]): void {
  const m = main();
  m.replaceChildren();
  append(m, ...children);
  const heading = m.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

/** Says something through the polite live region (updates, results). */
export function announce(text: string): void {
  const region = document.getElementById('announce')!;
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}

/**
 * A table in a horizontally scrolling box. `stack`: on narrow screens each row becomes a card of "label value" lines
 * (every cell gets its column's name as `data-label`), so the table never needs scrolling sideways.
 */
export function table(head: string[], rows: Node[], caption?: string, options: { stack?: boolean } = {}): HTMLElement {
  if (options.stack) {
    for (const row of rows) {
      if (row instanceof Element) [...row.children].forEach((cell, i) => head[i] !== undefined && cell.setAttribute('data-label', head[i]));
    }
  }
  return h(
    'div',
    { class: options.stack ? 'table-wrap stack' : 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...rows),
    ),
  );
}

export function fields(rows: Array<[string, Child]>): HTMLElement {
  const dl = h('dl', { class: 'fields' });
  for (const [k, v] of rows) append(dl, h('dt', {}, k), h('dd', {}, v));
  return dl;
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status}` }, status);
}
