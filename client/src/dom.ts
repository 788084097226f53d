/**
 * A tiny DOM helper: elements are built with properties, attributes and children, and every
 * string child becomes a text node — user text is never parsed as HTML.
 */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

export interface Props {
  class?: string | undefined;
  testid?: string | undefined;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
  attrs?: Record<string, string | number | boolean | null | undefined>;
  [prop: string]: unknown;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined) continue;
      if (key === 'class') el.className = String(value);
      else if (key === 'testid') el.dataset.testid = String(value);
      else if (key === 'on') {
        for (const [name, handler] of Object.entries(value as Record<string, EventListener>))
          el.addEventListener(name, handler);
      } else if (key === 'attrs') {
        for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === false || v == null) continue;
          el.setAttribute(name, v === true ? '' : String(v));
        }
      } else {
        (el as unknown as Record<string, unknown>)[key] = value;
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(parent, child as readonly Child[]);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Re-renders a container only when its data signature changes (keeps focus and form input otherwise). */
export function keyed(container: Element, signature: string, render: () => Child): void {
  const el = container as Element & { __sig?: string };
  if (el.__sig === signature) return;
  el.__sig = signature;
  replace(container, render());
}

let idCounter = 0;
/** A unique id for label/field pairs. */
export function uid(prefix = 'f'): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: the label's `for` points at the control. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLElement {
  if (!control.id) control.id = uid();
  const hintEl = hint ? h('small', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { htmlFor: control.id }, label), control, hintEl);
}
