// @ts-check
// Shared widgets: fields, tables with cursor pagination and empty states, dialogs that confirm
// destructive actions, alerts that show a problem's `detail`, secrets shown once with Copy.
import { h, clear, uid, put } from "./dom.js";

/**
 * A labelled control; `input` gets an id, and `field` (an API path) for errors at the field.
 * @param {string} label
 * @param {HTMLElement} input
 * @param {{ hint?: string, path?: string }} [options]
 */
export function field(label, input, { hint, path } = {}) {
  input.id = input.id || uid("field");
  if (path) input.dataset.field = path;
  const error = h("p", { class: "field-error", id: `${input.id}-error`, hidden: true });
  input.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("p", { class: "hint" }, hint) : null, error);
}

export function input(attrs = {}) {
  return h("input", { type: "text", autocomplete: "off", ...attrs });
}

export function select(options, attrs = {}) {
  return h("select", attrs, options.map(([value, label]) => h("option", { value, selected: value === attrs.value }, label ?? value)));
}

export function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", class: attrs.class || "secondary", onclick, ...attrs }, label);
}

/** The problem's `detail` as an alert (and each field error next to its control in `form`). */
export function showError(container, error, form) {
  clear(container);
  const detail = error && error.detail ? error.detail : String(error && error.message ? error.message : error);
  put(container, h("div", { class: "alert", role: "alert" }, h("strong", {}, "Error: "), detail));
  if (form && error && error.errors) markFields(form, error.errors);
}

export function markFields(form, errors) {
  clearFieldErrors(form);
  const unplaced = [];
  for (const { field: path, message } of errors) {
    const target = findField(form, path);
    if (!target) {
      unplaced.push(`${path}: ${message}`);
      continue;
    }
    target.setAttribute("aria-invalid", "true");
    const slot = form.querySelector(`#${CSS.escape(target.id)}-error`);
    if (slot) {
      slot.hidden = false;
      slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : `${path}: ${message}`;
    }
  }
  return unplaced;
}

/** The control for an API field path, or the nearest parent path that has one. */
function findField(form, path) {
  let current = String(path);
  while (current) {
    const found = form.querySelector(`[data-field="${CSS.escape(current)}"]`);
    if (found) return found;
    const cut = Math.max(current.lastIndexOf("."), current.lastIndexOf("["));
    current = cut > 0 ? current.slice(0, cut) : "";
  }
  return null;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

export function notice(container, message) {
  clear(container);
  put(container, h("div", { class: "notice", role: "status" }, message));
}

/**
 * A modal dialog; resolves with the value `onSubmit` returns, or null when cancelled.
 * @param {string} title
 * @param {Node} body
 * @param {{ submitLabel?: string, danger?: boolean, onSubmit?: (form: HTMLFormElement) => unknown }} [options]
 * @returns {Promise<any>}
 */
export function dialog(title, body, { submitLabel = "Save", danger = false, onSubmit } = {}) {
  return new Promise((resolve) => {
    const errors = h("div", { class: "errors" });
    const form = h("form", { method: "dialog", class: "dialog-form" });
    const submit = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const element = h(
      "dialog",
      { "aria-label": title },
      append(form, [h("h2", {}, title), errors, body, h("div", { class: "actions" }, cancel, submit)]),
    );
    const finish = (value) => {
      element.close();
      element.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(null));
    element.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        finish(onSubmit ? await onSubmit(form) : true);
      } catch (error) {
        showError(errors, error, form);
        submit.disabled = false;
      }
    });
    document.body.append(element);
    element.showModal();
    const first = /** @type {HTMLElement | null} */ (form.querySelector("input, select, textarea"));
    (first || submit).focus();
  });
}

function append(parent, children) {
  for (const child of children) if (child) parent.append(child);
  return parent;
}

/** Every destructive action asks first. */
export function confirmAction(message, label) {
  return dialog("Please confirm", h("p", {}, message), { submitLabel: label, danger: true });
}

/** A secret the API shows once: read-only field, Copy button, and a warning. */
export function secretOnce(label, value) {
  const box = input({ readonly: true, value, class: "mono" });
  const copied = h("span", { class: "hint", role: "status" });
  const copy = button("Copy", async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      box.select();
      document.execCommand("copy");
    }
    copied.textContent = "Copied";
  });
  return h(
    "div",
    { class: "secret" },
    field(label, box),
    h("div", { class: "row" }, copy, copied),
    h("p", { class: "hint" }, "Copy it now: it is shown only once and cannot be shown again."),
  );
}

/** @typedef {[string, (row: any) => unknown]} Column A table column: header, and the cell of a row. */

/**
 * A table: columns are [header, (row) => cell].
 * @param {Column[]} columns
 * @param {any[]} rows
 * @param {{ caption?: string }} [options]
 */
export function table(columns, rows, { caption } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([header]) => h("th", { scope: "col" }, header)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))),
    ),
  );
}

export function empty(title, next) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), next ? h("p", {}, next) : null);
}

/**
 * A cursor-paginated list: `load(cursor)` answers {items, nextCursor}; `render(items)` draws a page.
 * Previous/Next walk a stack of cursors. Answers {element, reload}.
 */
export function paginated(load, render, emptyState) {
  const element = h("div", { class: "paged" });
  const cursors = [null];
  let index = 0;
  let nextCursor = null;
  const previous = button("Previous", () => {
    index -= 1;
    show();
  });
  const next = button("Next", () => {
    if (cursors.length <= index + 1) cursors.push(nextCursor);
    index += 1;
    show();
  });
  const body = h("div", { "aria-busy": "false" });
  const status = h("span", { class: "hint" });
  put(element, body, h("nav", { class: "pager", "aria-label": "Pagination" }, previous, status, next));
  let shown = 0; // the newest load asked for: an older answer arriving late is dropped
  async function show() {
    const mine = ++shown;
    // A reload keeps the rows on screen (no flicker) and marks them busy until the answer is in.
    body.setAttribute("aria-busy", "true");
    if (!body.firstChild) put(body, h("p", { class: "hint" }, "Loading…"));
    try {
      const page = await load(cursors[index]);
      if (mine !== shown) return;
      nextCursor = page.nextCursor || null;
      clear(body);
      if (!page.items.length && index === 0) put(body, emptyState);
      else put(body, render(page.items));
      previous.disabled = index === 0;
      next.disabled = !nextCursor;
      status.textContent = `Page ${index + 1}`;
    } catch (error) {
      if (mine !== shown) return;
      showError(body, error);
    } finally {
      if (mine === shown) body.setAttribute("aria-busy", "false");
    }
  }
  return {
    element,
    reload: () => {
      cursors.length = 1;
      index = 0;
      return show();
    },
  };
}

export function badge(text, tone = "neutral") {
  return h("span", { class: `badge ${tone}` }, text);
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function toolbar(...children) {
  return h("div", { class: "toolbar" }, ...children);
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}
