// @ts-check
// The pages that speak the game API with a project key: the live event feed (realtime
// WebSocket, plus stored events read with the dashboard token) and the player lookup (its
// Sessions card, with ban and unban, is sessions.js).
import { h, clear, when, number, put } from "./dom.js";
import { api, download } from "./api.js";
import { field, input, button, showError, notice, confirmAction, table, empty, paginated, badge, card, toolbar } from "./ui.js";
import { enc, needProject, projectPath } from "./project.js";
import { sessionsCard } from "./sessions.js";

// --- A project key for the pages that use the game API (live feed, player lookup) -------------

const CONSOLE_KEYS = "ludex.consoleKeys";

function storedKey(tenant, project) {
  return JSON.parse(sessionStorage.getItem(CONSOLE_KEYS) || "{}")[`${tenant}/${project}`] || null;
}

function storeKey(tenant, project, key) {
  const keys = JSON.parse(sessionStorage.getItem(CONSOLE_KEYS) || "{}");
  if (key) keys[`${tenant}/${project}`] = key;
  else delete keys[`${tenant}/${project}`];
  sessionStorage.setItem(CONSOLE_KEYS, JSON.stringify(keys));
}

/**
 * The live feed and the player lookup speak the game API, which takes project API keys: the
 * console makes one for this browser session (read scopes only, 8 hours) through the documented
 * key endpoint, or takes one pasted by a user whose role cannot create keys.
 */
function consoleKey(ctx, purpose, onReady) {
  const { tenant, project, can, me } = ctx;
  const existing = storedKey(tenant, project);
  if (existing) {
    onReady(existing);
    return h("p", { class: "hint" }, "Reading through this session's console key. ", button("Forget key", () => {
      storeKey(tenant, project, null);
      ctx.go(location.pathname + location.search, { replace: true });
    }, { class: "link" }));
  }
  const messages = h("div");
  const pasted = input({ class: "mono", placeholder: "ldx_…" });
  const create = async () => {
    try {
      const expiresAt = new Date(Date.now() + 8 * 3600 * 1000).toISOString();
      const created = await api(projectPath(ctx, "/api-keys"), {
        method: "POST",
        tenant,
        // endsWithSession: signing out revokes the key on the server (docs/DASHBOARD.md).
        body: { name: `console ${me.email}`, scopes: ["players:read", "events:read", "realtime"], expiresAt, endsWithSession: true },
      });
      storeKey(tenant, project, created.apiKey);
      ctx.go(location.pathname + location.search, { replace: true });
    } catch (error) {
      showError(messages, error);
    }
  };
  const use = () => {
    if (!pasted.value.trim()) return;
    storeKey(tenant, project, pasted.value.trim());
    ctx.go(location.pathname + location.search, { replace: true });
  };
  return card(
    "A project key is needed",
    h("p", {}, `${purpose} uses the game API, which takes a project API key. The console keeps it in this browser tab only.`),
    messages,
    can("api-keys:write", tenant, project)
      ? h("div", { class: "row" }, button("Create a console key", create, { class: "primary" }), h("span", { class: "hint" }, "Scopes players:read, events:read, realtime; expires in 8 hours."))
      : null,
    toolbar(field("Paste an API key", pasted), button("Use this key", use)),
  );
}

// --- Events: history (dashboard token) and the live feed (realtime WebSocket) ----------------

// docs/EVENTS.md: the stored-events query takes exact types, so a prefix such as `wallet.*`
// is expanded here (the live feed takes prefixes itself).
const EVENT_TYPES = [
  "player.created", "player.updated", "player.deleted", "player.xp.added", "player.level.updated", "player.levelup",
  "wallet.credited", "wallet.debited", "item.granted", "item.consumed", "counter.incremented", "counter.reset",
  "quest.progressed", "quest.completed", "achievement.unlocked", "store.purchase.succeeded",
  "economy.guardrail.tripped", "economy.guardrail.counted",
];

function exactTypes(wanted) {
  if (wanted.includes("*")) return [];
  return [...new Set(wanted.flatMap((t) => (t.endsWith(".*") ? EVENT_TYPES.filter((known) => known.startsWith(t.slice(0, -1))) : [t])))];
}

export async function events(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project } = ctx;
  const type = input({ placeholder: "all types, or e.g. player.levelup, wallet.*", list: "event-types" });
  const suggestions = h("datalist", { id: "event-types" }, EVENT_TYPES.map((t) => h("option", { value: t })));
  const player = input({ placeholder: "any player" });
  const state = h("span", { class: "badge neutral", role: "status" }, "not connected");
  const feed = h("ol", { class: "feed", "aria-label": "Live events" });
  const feedEmpty = empty("Waiting for events…", "Events appear here as players play.");
  let socket = null;
  let lastId = null;
  let stopped = false;
  let generation = 0; // a filter change starts a new connection; the old one must not reconnect
  let currentKey = null;
  const types = () => type.value.split(",").map((t) => t.trim()).filter(Boolean);
  const matches = (event) => {
    const wanted = types();
    const typeOk = !wanted.length || wanted.some((t) => t === "*" || t === event.type || (t.endsWith(".*") && event.type.startsWith(t.slice(0, -1))));
    return typeOk && (!player.value.trim() || event.playerId === player.value.trim());
  };
  function line(event) {
    return h(
      "li",
      { class: "feed-item" },
      h("time", { datetime: event.occurredAt }, new Date(event.occurredAt).toLocaleTimeString()),
      badge(event.type, event.type.startsWith("wallet") ? "good" : "neutral"),
      h("span", { class: "mono" }, event.playerId || "—"),
      h("code", { class: "data" }, JSON.stringify(event.data)),
    );
  }
  function connect(key) {
    if (stopped) return;
    currentKey = key;
    generation += 1;
    const mine = generation;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The key goes in the first message, never in the URL (URLs end up in access logs).
    const opened = new WebSocket(`${scheme}://${location.host}/v1/realtime`);
    socket = opened;
    opened.addEventListener("open", () => {
      opened.send(JSON.stringify({ action: "auth", apiKey: key, tenantId: tenant, projectId: project }));
    });
    state.textContent = "connecting";
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "hello") {
        const subscribe = { action: "subscribe", eventTypes: types().length ? types() : ["*"] };
        if (lastId) subscribe.since = lastId;
        socket.send(JSON.stringify(subscribe));
      } else if (data.type === "subscribed") {
        state.textContent = "live";
        state.className = "badge good";
      } else if (data.type === "event") {
        lastId = data.event.id;
        if (!matches(data.event)) return;
        feedEmpty.remove();
        feed.prepend(line(data.event));
        while (feed.lastElementChild && feed.children.length > 200) feed.lastElementChild.remove();
      } else if (data.type === "error") {
        state.textContent = `error: ${data.error}`;
        state.className = "badge bad";
        if (data.error === "invalid_credentials" || data.error === "key_revoked") {
          stopped = true;
          storeKey(tenant, project, null);
        }
      }
    });
    socket.addEventListener("close", () => {
      if (!main.isConnected || mine !== generation) return;
      if (!stopped) {
        state.textContent = "reconnecting";
        state.className = "badge warn";
        setTimeout(() => connect(key), 2000);
      }
    });
  }
  const keyPanel = consoleKey(ctx, "The live feed", (key) => setTimeout(() => connect(key)));
  const restart = () => {
    const old = socket;
    socket = null;
    clear(feed);
    feed.before(feedEmpty);
    if (currentKey) {
      state.textContent = "connecting";
      state.className = "badge neutral";
      connect(currentKey);
    }
    if (old) old.close();
  };
  const apply = button("Apply filters", () => {
    restart();
    history.reload();
  }, { class: "primary" });
  const history = paginated(
    (cursor) => api(`/v1/projects/${enc(project)}/events`, { tenant, params: { type: exactTypes(types()).join(","), playerId: player.value.trim(), cursor, limit: 25 } }),
    (items) =>
      table(
        [
          ["When", (e) => when(e.occurredAt)],
          ["Type", (e) => badge(e.type)],
          ["Player", (e) => h("span", { class: "mono" }, e.playerId || "—")],
          ["Data", (e) => h("code", { class: "data" }, JSON.stringify(e.data))],
        ],
        items,
      ),
    empty("No stored events match.", "Try other filters."),
  );
  put(main, 
    toolbar(field("Event type", type), suggestions, field("Player", player), apply),
    card("Live feed", h("div", { class: "row" }, state), keyPanel, currentKey || storedKey(tenant, project) ? feedEmpty : null, feed),
    card("Stored events", toolbar(h("p", { class: "hint" }, "Events kept in the event store, oldest first, with the same filters."), h("span", { class: "grow" }), button("Refresh", () => history.reload())), history.element),
  );
  history.reload();
  const observer = new MutationObserver(() => {
    if (!main.isConnected) {
      stopped = true;
      if (socket) socket.close();
      observer.disconnect();
    }
  });
  observer.observe(/** @type {HTMLElement} */ (document.getElementById("app")), { childList: true, subtree: true });
}

// --- Player lookup ---------------------------------------------------------------------------

export async function players(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project, can } = ctx;
  const id = input({ placeholder: "player id" });
  const out = h("div");
  // The backoffice's own read-only player lookup: the dashboard sign-in is enough, no API key.
  const game = (path, params) => api(`/v1/client/projects/${enc(project)}/players${path}`, { tenant, params });
  async function lookUp(playerId) {
    if (!playerId) return;
    id.value = playerId;
    put(clear(out), h("p", { class: "hint" }, "Loading…"));
    try {
      const profile = await game(`/${enc(playerId)}`);
      const ledger = paginated(
        (cursor) => game(`/${enc(playerId)}/wallet/history`, { cursor, limit: 20 }),
        (items) => table([["When", (e) => when(e.occurredAt)], ["Currency", (e) => e.currency], ["Change", (e) => (e.delta > 0 ? `+${number(e.delta)}` : number(e.delta))], ["Balance", (e) => number(e.balanceAfter)], ["Reason", (e) => e.reason]], items),
        empty("No ledger entries."),
      );
      const journal = paginated(
        (cursor) => game(`/${enc(playerId)}/journal`, { cursor, limit: 20 }),
        (items) => table([["Seq", (r) => String(r.seq)], ["When", (r) => when(r.occurredAt)], ["Command", (r) => (r.command ? badge(r.command.op) : "—")], ["Idempotency key", (r) => h("span", { class: "mono" }, r.idempotencyKey || "—")], ["Request", (r) => h("span", { class: "mono" }, r.requestId || "—")], ["Events", (r) => r.events.map((e) => e.type).join(", ")]], items),
        empty("No journal records."),
      );
      const erase = async () => {
        if (!(await confirmAction(`Erase the personal data of player ${playerId}? The player is deleted and its username, metadata and free-text reasons are rewritten everywhere; balances stay. This cannot be undone.`, "Erase"))) return;
        try {
          const erased = await api(`/v1/client/projects/${enc(project)}/players/${enc(playerId)}/erase`, { method: "POST", tenant });
          notice(out, `Player ${playerId} was erased at ${when(erased.erasedAt)}.`);
          list.reload();
        } catch (error) {
          showError(out, error);
        }
      };
      const actions = toolbar(
        h("span", { class: "grow" }),
        button("Export data", () => download(`/v1/client/projects/${enc(project)}/players/${enc(playerId)}/export`, { tenant }, `${playerId}.json`)),
        can("players:erase", tenant, project) ? button("Erase personal data", erase, { class: "danger" }) : null,
      );
      const quests = Object.entries(profile.quests || {}).flatMap(([group, value]) => (Array.isArray(value) ? value.map((q) => ({ group, ...q })) : []));
      put(clear(out), 
        actions,
        h(
          "div",
          { class: "stats" },
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Player"), h("p", { class: "stat-value small" }, profile.username || profile.playerId)),
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Level"), h("p", { class: "stat-value" }, String(profile.level))),
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "XP"), h("p", { class: "stat-value" }, number(profile.xp))),
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Since"), h("p", { class: "stat-value small" }, when(profile.createdAt))),
        ),
        sessionsCard(ctx, playerId),
        h(
          "div",
          { class: "grid-2" },
          card("Wallet", Object.keys(profile.wallet).length ? table([["Currency", ([c]) => c], ["Balance", ([, v]) => number(v)]], Object.entries(profile.wallet)) : empty("Empty wallet.")),
          card("Inventory", profile.inventory.length ? table([["Item", (i) => i.itemId], ["Quantity", (i) => number(i.quantity)]], profile.inventory) : empty("No items.")),
          card("Quests", quests.length ? table([["Quest", (q) => q.title || q.questId], ["State", (q) => (q.completed ? badge("completed", "good") : badge("active"))], ["Progress", (q) => q.objectives.map((o) => `${o.objectiveId} ${o.progress ?? ""}/${o.target ?? ""}`).join(", ")]], quests) : empty("No quests.")),
          card("Achievements", profile.achievements.length ? table([["Achievement", (a) => a.achievementId], ["Unlocked", (a) => when(a.unlockedAt)]], profile.achievements) : empty("None unlocked yet.")),
          card("Counters", Object.keys(profile.counters).length ? table([["Counter", ([c]) => c], ["Value", ([, v]) => number(v)]], Object.entries(profile.counters)) : empty("No counters yet.")),
          card("Boosts", (profile.boosts ?? []).length ? table([["Metric", (b) => b.metric], ["Multiplier", (b) => `×${b.multiplier}`], ["Ends", (b) => when(b.endsAt)]], profile.boosts) : empty("No boosts running.")),
        ),
        card("Wallet ledger", ledger.element),
        card("Journal", h("p", { class: "hint" }, "Every accepted command, oldest first, with the events it produced."), journal.element),
      );
      ledger.reload();
      journal.reload();
    } catch (error) {
      clear(out);
      showError(out, error);
    }
  }
  const list = paginated(
    (cursor) => game("", { cursor, limit: 20 }),
    (items) => table([["Player", (p) => button(p.username || p.playerId, () => lookUp(p.playerId), { class: "link" })], ["ID", (p) => h("span", { class: "mono" }, p.playerId)], ["Created", (p) => when(p.createdAt)]], items),
    empty("No players yet.", "Players appear once your game creates them."),
  );
  const form = h("form", { class: "toolbar" }, field("Player ID", id), h("button", { type: "submit", class: "primary" }, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    lookUp(id.value.trim());
  });
  put(main, form, out, card("Players", list.element));
  list.reload();
}
