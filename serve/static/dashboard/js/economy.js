// @ts-check
// The economy editor: one working copy of the project's economy document, edited per section
// (forms for currencies, items, counters, flags and the XP curve, with items' effects as JSON;
// JSON per entry for SKUs, quests and achievements), reviewed as the server's diff (a dry run of the PUT), then published
// with PUT as the next version. The API validates the whole document; its 422 `errors[].field`
// paths are shown at the field. The verifier's findings (`POST .../economy/verify`,
// docs/ECONOMY.md "Verification") show above the editor as the designer types.
import { h, clear, when, put } from "./dom.js";
import { api, ApiError } from "./api.js";
import { input, select, button, showError, notice, dialog, markFields, clearFieldErrors, empty, badge, card, toolbar } from "./ui.js";
import { barChart } from "./charts.js";

const enc = encodeURIComponent;
// section -> [title, id key, template of a new entry].
/** @type {Record<string, [string, string, Record<string, unknown>]>} */
const LISTS = {
  currencies: ["Currencies", "id", { id: "", kind: "soft" }],
  items: ["Items", "id", { id: "", stackLimit: 1 }],
  skus: ["SKUs & bundles", "sku", { sku: "new-sku", title: "New SKU", price: {}, grants: { items: [] }, bundle: false }],
  counters: ["Counters", "id", { id: "", title: "" }],
  achievements: ["Achievements", "id", { id: "new-achievement", title: "New achievement", conditions: [] }],
  quests: ["Quests", "id", { id: "new-quest", title: "New quest", objectives: [{ id: "objective", target: 1 }], rewards: {} }],
  leaderboards: ["Leaderboards", "id", { id: "new-board", title: "New board", metric: "submitted", operator: "best", order: "desc", reset: "never" }],
  // docs/ECONOMY.md "Guardrails": a cap per player and/or a project budget, refuse or flag.
  guardrails: ["Guardrails", "id", { id: "new-guardrail", currency: "", perPlayer: { amount: 1000, per: "hour" }, action: "flag" }],
};
const TABS = [
  ["currencies", "Currencies"],
  ["items", "Items"],
  ["skus", "SKUs & bundles"],
  ["xpCurve", "XP curve"],
  ["quests", "Quests"],
  ["achievements", "Achievements"],
  ["counters", "Counters"],
  ["featureFlags", "Feature flags"],
  ["leaderboards", "Leaderboards"],
  ["clientPolicy", "Client policy"],
  ["guardrails", "Guardrails"],
  ["history", "Version history"],
];
/**
 * The batch ops a player session may be allowed to send (`clientPolicy.allow`, docs/ECONOMY.md),
 * with what allowing each lets a player do for themselves; `risky` ones let a cheater enrich
 * themselves. tests/unit/serve/test_webui.py checks the ops equal engine.client_policy.CLIENT_OPS.
 * @type {Array<[string, string, boolean]>}
 */
export const CLIENT_OPS = [
  ["purchase", "buy a store SKU with currency the player has", false],
  ["consume", "use up items the player holds (and their effects)", false],
  ["increment", "add to a counter (which can complete quests and achievements)", true],
  ["reset", "reset a counter", false],
  ["progress", "advance a quest objective", true],
  ["score", "submit a leaderboard score", true],
  ["update", "change the player's username and metadata", false],
  ["create", "create the player (sign-in already does)", false],
  ["delete", "delete the player", false],
  ["xp", "award XP", true],
  ["credit", "add currency", true],
  ["debit", "remove currency", false],
  ["grant", "give items", true],
];
/** Without a `clientPolicy`, sessions may send these (engine/client_policy.py). */
export const DEFAULT_CLIENT_ALLOW = ["purchase", "consume"];

/**
 * The ops an economy document lets sessions send.
 * @param {any} document
 * @returns {string[]}
 */
export function clientAllow(document) {
  const policy = document && document.clientPolicy;
  return policy && Array.isArray(policy.allow) ? policy.allow : DEFAULT_CLIENT_ALLOW;
}
const clone = (value) => JSON.parse(JSON.stringify(value ?? null));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The server's review lines (engine/economy_diff.py, as `PUT .../economy?dryRun=true` and
 * `POST .../economy/diff` answer them): `+ item shield`, `- currency gems`,
 * `~ item potion: stackLimit 99 -> 150`. The console never diffs documents itself, so it agrees
 * with the CLI and the API on what counts as a change (defaults written out do not).
 * @param {string[]} lines
 */
function diffList(lines) {
  if (!lines.length) return empty("No changes.");
  /** @type {Record<string, string>} */
  const classes = { "+": "add", "-": "del", "~": "mod" };
  return h("ul", { class: "diff", "aria-label": "Changes" }, lines.map((line) => h("li", { class: classes[line[0]] || "mod" }, h("span", { class: "sign" }, line[0]), line.slice(2))));
}

const TONES = { error: "bad", warning: "warn", info: "neutral" };

/**
 * The verifier's findings, errors first (as the server orders them); each names its path, which
 * `open` turns into a jump to its tab, and an arbitrage spells its loop out.
 * @param {Array<{kind: string, severity: string, path: string, message: string, cycle?: string[] | null}>} findings
 * @param {(path: string) => void} open
 */
function findingList(findings, open) {
  if (!findings.length) return empty("The verifier finds nothing to report.");
  return h("ul", { class: "findings", "aria-label": "Findings" },
    findings.map((finding) => h("li", { class: `finding ${finding.severity}`, "data-kind": finding.kind },
      badge(finding.severity, /** @type {Record<string, string>} */ (TONES)[finding.severity] || "neutral"), " ",
      h("strong", {}, finding.kind), " ",
      button(finding.path, () => open(finding.path), { class: "link mono" }),
      h("p", {}, finding.message),
      finding.cycle ? h("ol", { class: "cycle" }, finding.cycle.map((step) => h("li", { class: "mono" }, step))) : null,
    )),
  );
}

/** An input with its error slot under it; `path` is the API field path it edits. */
function cell(control, label, path) {
  control.id = `eco-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;
  control.dataset.field = path;
  control.setAttribute("aria-label", label);
  const error = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "cell" }, control, error);
}

export async function economy(ctx) {
  const { main, tenant, project, can } = ctx;
  if (!project) {
    put(main, empty("No project selected.", "Create a project on the Projects page first."));
    return;
  }
  const writable = can("economy:write", tenant, project);
  const path = `/v1/client/projects/${enc(project)}/economy`;
  let version = 0;
  let published = null;
  try {
    const found = await api(path, { tenant });
    version = found.version;
    published = found.document;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404 && error.slug === "not-found")) throw error;
  }
  let working = clone(published) || { currencies: [], items: [], xpCurve: { levels: [0, 100] } };
  // `?section=clientPolicy` opens a section (the Player sign-in page links to it).
  const asked = new URLSearchParams(location.search).get("section");
  let tab = TABS.some(([id]) => id === asked) ? String(asked) : "currencies";
  const messages = h("div");
  const findingsBody = h("div", { "aria-live": "polite" }, empty("Checking…"));
  const findingsCard = card("Verifier findings", findingsBody);
  const versionBadge = badge(published ? `Version ${version}` : "No economy yet", "neutral");
  const dirty = h("span", { class: "hint" });
  const form = h("form", { class: "economy", novalidate: true });
  form.addEventListener("submit", (event) => event.preventDefault());
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Economy sections" });

  /**
   * A dry run of the PUT for the working copy: the server's changes, or its 422 (`force`: past
   * the verifier's errors).
   * @param {boolean} [force]
   * @returns {Promise<{ changes: string[] } | { error: ApiError }>}
   */
  async function dryRun(force = false) {
    try {
      const params = force ? { dryRun: "true", force: "true" } : { dryRun: "true" };
      return await api(path, { method: "PUT", tenant, params, body: working });
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) return { error };
      throw error;
    }
  }
  let checks = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let checking;
  /** The verifier's findings for the working copy, asked once typing pauses; an answer that
   * arrives after a newer edit is dropped. An invalid document has none yet: its field errors
   * come with the review. */
  function verifySoon() {
    checks += 1;
    clearTimeout(checking);
    const check = checks;
    checking = setTimeout(async () => {
      /** @type {any} */
      let answer;
      try {
        answer = await api(`${path}/verify`, { method: "POST", tenant, body: working });
      } catch (error) {
        answer = { error };
      }
      if (check !== checks) return;
      if (answer.error) {
        const invalid = answer.error instanceof ApiError && answer.error.slug === "invalid-definition";
        put(clear(findingsBody), empty(invalid ? "Findings show once the document is valid." : "The verifier could not be reached."));
        return;
      }
      put(clear(findingsBody), findingList(answer.findings, openPath));
    }, 400);
  }
  /** Opens the tab of a document path (a finding's or an error's). */
  async function openPath(fieldPath) {
    const section = tabOf(fieldPath);
    if (section && section !== tab) {
      tab = section;
      await draw();
    }
  }
  let edits = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let counting;
  /** The toolbar's count of unpublished changes as the server counts them: a dry run sent once
   * typing pauses; an answer that arrives after a newer edit is dropped. */
  function touched() {
    verifySoon();
    edits += 1;
    clearTimeout(counting);
    if (same(published, working) || !writable) {
      dirty.textContent = "No unpublished changes";
      return;
    }
    const edit = edits;
    dirty.textContent = "Unpublished edits…";
    counting = setTimeout(async () => {
      const answer = await dryRun(true).catch(() => null); // forced: the findings card tells of errors
      if (edit !== edits || !answer) return;
      if ("error" in answer) dirty.textContent = "Unpublished edits (not valid yet)";
      else {
        const n = answer.changes.length;
        dirty.textContent = n ? `${n} unpublished change${n === 1 ? "" : "s"}` : "No unpublished changes (only defaults written out or left out)";
      }
    }, 400);
  }

  function listSection(section) {
    const [title, idKey, template] = LISTS[section];
    const entries = working[section] || (working[section] = []);
    const noun = title.replace(/ & .*/, "").replace(/ies$/, "y").replace(/s$/, "");
    const rows = entries.map((entry, i) => {
      const n = i + 1;
      const remove = writable
        ? button("Remove", async () => {
            if (!(await confirmRemove(`${noun} ${entry[idKey] || n}`))) return;
            entries.splice(i, 1);
            draw();
          }, { class: "danger ghost", "aria-label": `Remove ${noun.toLowerCase()} ${n}` })
        : null;
      return h("div", { class: "entry" }, h("span", { class: "entry-n" }, `#${n}`), ...entryFields(section, entry, n, i, noun), remove);
    });
    const add = writable
      ? button(`Add ${noun.toLowerCase()}`, () => {
          entries.push(clone(template));
          draw();
        })
      : null;
    return h("div", {}, rows.length ? rows : empty(`No ${title.toLowerCase()} yet.`, writable ? `Add one with “Add ${noun.toLowerCase()}”.` : null), h("div", { class: "row" }, add));
  }

  function text(entry, key, label, path, attrs = {}) {
    const control = input({ value: entry[key] ?? "", readonly: !writable, ...attrs });
    control.addEventListener("input", () => {
      entry[key] = attrs.type === "number" ? (control.value === "" ? null : Number(control.value)) : control.value;
      touched();
    });
    return cell(control, label, path);
  }

  /** @param {HTMLElement} control */
  function errorSlot(control) {
    return /** @type {HTMLElement} */ (form.querySelector(`#${CSS.escape(control.id)}-error`));
  }

  function jsonEntry(entry, label, path, replace) {
    const area = h("textarea", { rows: Math.min(14, JSON.stringify(entry, null, 2).split("\n").length + 1), class: "mono", spellcheck: "false", readonly: !writable });
    area.value = JSON.stringify(entry, null, 2);
    area.addEventListener("input", () => {
      try {
        replace(JSON.parse(area.value));
        area.removeAttribute("aria-invalid");
        errorSlot(area).hidden = true;
        touched();
      } catch (error) {
        area.setAttribute("aria-invalid", "true");
        const slot = errorSlot(area);
        slot.hidden = false;
        slot.textContent = `Not valid JSON: ${error instanceof Error ? error.message : error}`;
      }
    });
    return cell(area, label, path);
  }

  function entryFields(section, entry, n, i, noun) {
    const at = `${section}[${i}]`;
    if (section === "currencies") {
      const kind = select([["soft", "soft"], ["hard", "hard"]], { value: entry.kind, disabled: !writable });
      kind.addEventListener("change", () => {
        entry.kind = kind.value;
        touched();
      });
      return [text(entry, "id", `Currency ${n} ID`, `${at}.id`), cell(kind, `Currency ${n} kind`, `${at}.kind`)];
    }
    if (section === "items") {
      // Effects (docs/ECONOMY.md "Item effects") as JSON: `[]` removes the key, so an item
      // without effects keeps the document it had.
      const effects = jsonEntry(entry.effects ?? [], `Item ${n} effects`, `${at}.effects`, (value) => {
        if (Array.isArray(value) && value.length === 0) delete entry.effects;
        else entry.effects = value;
      });
      return [text(entry, "id", `Item ${n} ID`, `${at}.id`), text(entry, "stackLimit", `Item ${n} stack limit`, `${at}.stackLimit`, { type: "number" }), effects];
    }
    if (section === "counters") return [text(entry, "id", `Counter ${n} ID`, `${at}.id`), text(entry, "title", `Counter ${n} title`, `${at}.title`)];
    const entries = working[section];
    return [jsonEntry(entry, `${noun} ${n} (${entry[LISTS[section][1]]})`, at, (value) => {
      entries[i] = value;
    })];
  }

  function xpSection() {
    const curve = working.xpCurve || (working.xpCurve = { levels: [0] });
    const levels = curve.levels || (curve.levels = [0]);
    const chartBox = h("div");
    const drawChart = () => {
      const labels = levels.map((_, i) => `L${i + 1}`);
      const perLevel = levels.map((xp, i) => (i === 0 ? Number(xp) || 0 : (Number(xp) || 0) - (Number(levels[i - 1]) || 0)));
      put(clear(chartBox), barChart("XP per level chart", labels, [{ name: "XP to reach the level", values: perLevel }], { width: 440 }));
    };
    const rows = levels.map((xp, i) => {
      const control = input({ type: "number", min: 0, value: xp, readonly: !writable });
      control.addEventListener("input", () => {
        levels[i] = control.value === "" ? null : Number(control.value);
        drawChart();
        touched();
      });
      return h("div", { class: "entry" }, h("span", { class: "entry-n" }, `Level ${i + 1}`), cell(control, `Total XP for level ${i + 1}`, `xpCurve.levels[${i}]`));
    });
    drawChart();
    return h(
      "div",
      { class: "grid-2" },
      h(
        "div",
        {},
        h("p", { class: "hint" }, "Total XP a player needs to reach each level (strictly increasing, starting at 0)."),
        h("div", { class: "cell", "data-field": "xpCurve", id: "eco-xpCurve" }, h("p", { class: "field-error", id: "eco-xpCurve-error", hidden: true })),
        rows,
        writable
          ? h(
              "div",
              { class: "row" },
              button("Add level", () => {
                const last = Number(levels[levels.length - 1]) || 0;
                const step = levels.length > 1 ? last - (Number(levels[levels.length - 2]) || 0) : 100;
                levels.push(last + Math.max(1, Math.round(step * 1.2)));
                draw();
              }),
              levels.length > 1
                ? button("Remove last level", () => {
                    levels.pop();
                    draw();
                  }, { class: "danger ghost" })
                : null,
            )
          : null,
      ),
      h("div", {}, chartBox),
    );
  }

  function flagsSection() {
    const flags = working.featureFlags || (working.featureFlags = {});
    const rows = Object.entries(flags).map(([name, value]) => {
      const control =
        typeof value === "boolean"
          ? h("input", { type: "checkbox", checked: value, disabled: !writable })
          : input({ value: JSON.stringify(value), class: "mono", readonly: !writable });
      control.addEventListener(typeof value === "boolean" ? "change" : "input", () => {
        if (control.type === "checkbox") flags[name] = control.checked;
        else {
          try {
            flags[name] = JSON.parse(control.value);
          } catch {
            flags[name] = control.value;
          }
        }
        touched();
      });
      const remove = writable
        ? button("Remove", () => {
            delete flags[name];
            draw();
          }, { class: "danger ghost", "aria-label": `Remove flag ${name}` })
        : null;
      return h("div", { class: "entry" }, h("span", { class: "mono flag" }, name), cell(control, `Flag ${name}`, `featureFlags.${name}`), remove);
    });
    const newName = input({ placeholder: "flagName", "aria-label": "New flag name" });
    const add = writable
      ? h(
          "div",
          { class: "row" },
          newName,
          button("Add flag", () => {
            const name = newName.value.trim();
            if (!name || name in flags) return;
            flags[name] = false;
            draw();
          }),
        )
      : null;
    return h("div", {}, rows.length ? rows : empty("No feature flags.", writable ? "Add one below; games read them from the economy." : null), add);
  }

  function clientPolicySection() {
    const allowed = new Set(clientAllow(working));
    const boxes = CLIENT_OPS.map(([op]) => h("input", { type: "checkbox", value: op, checked: allowed.has(op), disabled: !writable, id: `eco-client-op-${op}` }));
    for (const box of boxes) {
      box.addEventListener("change", () => {
        // In CLIENT_OPS order, so that ticking a box and unticking it again is no change.
        working.clientPolicy = { ...(working.clientPolicy || {}), allow: boxes.filter((b) => b.checked).map((b) => b.value) };
        touched();
      });
    }
    const labels = CLIENT_OPS.map(([op, what, risky], i) =>
      h("label", { class: "check", for: boxes[i].id }, boxes[i], h("span", {}, h("span", {}, h("span", { class: "mono" }, op), " ", risky ? badge("a cheater gains from it", "warn") : null), h("span", { class: "hint" }, what))),
    );
    return h(
      "div",
      {},
      h("p", { class: "hint" }, "The commands a game client signed in as a player (a player session) may send for its own player; anything else answers 403 not-client-callable. API keys (your game server) are not concerned. Without a policy: purchase and consume."),
      h("fieldset", { class: "scopes", "data-field": "clientPolicy", id: "eco-clientPolicy" }, h("legend", {}, "Player sessions may send"), labels, h("p", { class: "field-error", id: "eco-clientPolicy-error", hidden: true })),
    );
  }

  async function historySection() {
    const box = h("div", {}, h("p", { class: "hint" }, "Loading…"));
    if (!can("audit:read", tenant)) {
      put(clear(box), empty("Version history comes from the audit log.", "Your role cannot read the audit log; ask an owner."));
      return box;
    }
    try {
      const page = await api("/v1/admin/audit", { params: { tenantId: tenant, action: "economy.define", target: project, limit: 50 } });
      put(clear(box), 
        page.items.length
          ? h(
              "ol",
              { class: "versions" },
              page.items.map((entry, i) =>
                h(
                  "li",
                  {},
                  h("div", { class: "row" }, h("strong", {}, i === 0 ? `Version ${version} (current)` : `Version ${version - i}`), h("span", { class: "hint" }, `${when(entry.occurredAt)} by ${entry.actor}`)),
                  versionChanges(entry),
                ),
              ),
            )
          : empty("No published versions recorded.", "Versions published from this console or the API appear here."),
      );
    } catch (error) {
      showError(box, error);
    }
    return box;
  }

  /** An audit entry's changes, asked of the server when the reader opens them. */
  function versionChanges(entry) {
    const body = h("div", {}, h("p", { class: "hint" }, "Loading…"));
    const details = h("details", {}, h("summary", {}, "Changes in this version"), body);
    details.addEventListener("toggle", async () => {
      if (!details.open || body.dataset.loaded) return;
      body.dataset.loaded = "true";
      try {
        const diff = await api(`${path}/diff`, { method: "POST", tenant, body: { before: entry.before, after: entry.after || {} } });
        put(clear(body), diffList(diff.changes));
      } catch (error) {
        delete body.dataset.loaded;
        showError(clear(body), error);
      }
    });
    return details;
  }

  async function draw() {
    put(clear(tabs), 
      TABS.map(([id, label]) => {
        const tabButton = h("button", { type: "button", role: "tab", "aria-selected": String(id === tab), class: "tab" }, label);
        tabButton.addEventListener("click", () => {
          tab = id;
          draw();
        });
        return tabButton;
      }),
    );
    const selected = tabs.querySelector('[aria-selected="true"]');
    if (selected) selected.scrollIntoView({ block: "nearest", inline: "nearest" }); // the last tabs may be scrolled away
    clear(form);
    if (tab in LISTS) put(form, listSection(tab));
    else if (tab === "xpCurve") put(form, xpSection());
    else if (tab === "featureFlags") put(form, flagsSection());
    else if (tab === "clientPolicy") put(form, clientPolicySection());
    else put(form, await historySection());
    touched();
  }

  async function confirmRemove(what) {
    return dialog("Please confirm", h("p", {}, `Remove ${what} from the working copy? Nothing changes until you publish.`), { submitLabel: "Remove", danger: true });
  }

  /** The section tab holding an API error path. */
  function tabOf(fieldPath) {
    const section = String(fieldPath).split(/[.[]/)[0];
    return TABS.some(([id]) => id === section) ? section : null;
  }

  /** Shows a 422's field errors at their fields, on the tab of the first. */
  async function refused(error) {
    const errors = error.errors;
    const first = errors.length ? tabOf(errors[0].field) : null;
    if (first && first !== tab) {
      tab = first;
      await draw();
    }
    showError(messages, error);
    const unplaced = markFields(form, errors);
    if (unplaced.length) put(messages, h("ul", { class: "field-list" }, unplaced.map((line) => h("li", {}, line))));
  }

  async function review() {
    clear(messages);
    clearFieldErrors(form);
    let checked;
    try {
      checked = await dryRun();
    } catch (error) {
      showError(messages, error);
      return;
    }
    let force = false;
    if ("error" in checked && checked.error.slug === "economy-unsafe") {
      await refused(checked.error);
      const forced = await dialog("Publish despite the verifier's errors?", h("p", {}, "The verifier found errors (see its findings): players could exploit them or get stuck. Publishing anyway is recorded in the audit log."), { submitLabel: "Review anyway", danger: true });
      if (!forced) return;
      force = true;
      clear(messages);
      checked = await dryRun(true);
    }
    if ("error" in checked) {
      await refused(checked.error);
      return;
    }
    if (!checked.changes.length) {
      notice(messages, "Nothing to publish: the working copy equals the published version.");
      return;
    }
    const outcome = await dialog(`Review changes before publishing version ${version + 1}`, diffList(checked.changes), {
      submitLabel: `Publish version ${version + 1}`,
      onSubmit: async () => {
        try {
          return { saved: await api(path, { method: "PUT", tenant, body: working, params: force ? { force: "true" } : undefined }) };
        } catch (error) {
          if (error instanceof ApiError && error.status === 422) return { error };
          throw error;
        }
      },
    });
    if (!outcome) return;
    if (outcome.error) {
      await refused(outcome.error);
      return;
    }
    version = outcome.saved.version;
    published = clone(outcome.saved.document);
    working = clone(published);
    versionBadge.textContent = `Version ${version}`;
    notice(messages, `Published version ${version}. Games use it from their next call.`);
    draw();
  }

  const discard = button("Discard changes", async () => {
    if (same(published, working)) return;
    if (!(await dialog("Please confirm", h("p", {}, "Discard every unpublished change?"), { submitLabel: "Discard", danger: true }))) return;
    working = clone(published) || { currencies: [], items: [], xpCurve: { levels: [0, 100] } };
    clear(messages);
    draw();
  });
  put(main, 
    toolbar(versionBadge, dirty, h("span", { class: "grow" }), writable ? discard : null, writable ? button("Review and publish", review, { class: "primary" }) : null),
    messages,
    published ? null : h("div", { class: "notice" }, "This project has no economy yet: define its sections, then publish version 1."),
    findingsCard,
    card(null, tabs, form),
  );
  draw();
}
