// @ts-check
// A player's sign-in sessions in the player lookup (docs/PLAYER_AUTH.md): the live sessions a
// game client holds (never their tokens), the devices linked to the player, the ban, and the moderation actions — ban with a
// reason and an optional end, unban, end all sessions — for roles with `players:moderate`.
import { h, clear, when, put } from "./dom.js";
import { api } from "./api.js";
import { field, input, button, showError, notice, dialog, confirmAction, table, empty, badge, card, toolbar } from "./ui.js";
import { enc } from "./project.js";

/**
 * @typedef {{ sessionId: string, method: "device" | "custom", createdAt: string, refreshedAt: string, expiresAt: string }} Session
 * @typedef {{ reason: string, since: string, until: string | null }} Ban
 * @typedef {{ deviceHash: string, linkedAt: string }} Device
 * @typedef {{ playerId: string, items: Session[], devices: Device[], ban: Ban | null }} PlayerSessions
 */

/**
 * The "Sessions" card of one player; it loads itself and redraws after each action.
 * @param {{ tenant: string, project: string, can: (action: string, tenant?: string | null, project?: string | null) => boolean }} ctx
 * @param {string} playerId
 */
export function sessionsCard(ctx, playerId) {
  const { tenant, project, can } = ctx;
  const moderator = can("players:moderate", tenant, project);
  const base = `/v1/client/projects/${enc(project)}/players/${enc(playerId)}`;
  const messages = h("div");
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "hint" }, "Loading…"));
  const status = h("span", { class: "badge neutral", "data-testid": "ban-status" }, "…");
  const actions = h("div", { class: "row-actions" });

  /** @param {PlayerSessions} view */
  function draw(view) {
    body.setAttribute("aria-busy", "false");
    const ban = view.ban;
    status.className = `badge ${ban ? "bad" : "good"}`;
    status.textContent = ban ? (ban.until ? `banned until ${when(ban.until)}` : "banned") : "not banned";
    put(
      clear(body),
      ban
        ? h("div", { class: "alert", role: "note" }, h("strong", {}, "Banned: "), ban.reason, h("span", { class: "hint" }, ` — since ${when(ban.since)}, ${ban.until ? `until ${when(ban.until)}` : "until lifted"}. Sign-ins and session calls answer 403; server keys still act on the player.`))
        : null,
      view.items.length
        ? table(
            [
              ["Session", (s) => h("span", { class: "mono" }, s.sessionId)],
              ["Signed in with", (s) => badge(s.method === "device" ? "device" : "custom token", s.method === "device" ? "neutral" : "good")],
              ["Started", (s) => when(s.createdAt)],
              ["Last refreshed", (s) => when(s.refreshedAt)],
              ["Expires", (s) => when(s.expiresAt)],
            ],
            view.items,
            { caption: `${view.items.length} live session${view.items.length === 1 ? "" : "s"}` },
          )
        : empty("No live sessions.", "A game client's sign-in (device or custom token) appears here until it ends."),
      view.devices.length
        ? table(
            [
              ["Device", (d) => h("span", { class: "mono", title: "The start of the device id's SHA-256: the id itself is never kept" }, `${d.deviceHash}…`)],
              ["Linked", (d) => when(d.linkedAt)],
            ],
            view.devices,
            { caption: `${view.devices.length} linked device${view.devices.length === 1 ? "" : "s"}` },
          )
        : h("p", { class: "hint" }, "No linked devices: this player signs in with custom tokens only, or not at all."),
    );
    put(
      clear(actions),
      moderator && view.items.length ? button("End all sessions", () => revoke(view), { class: "secondary" }) : null,
      moderator && ban ? button("Unban", unban) : null,
      moderator && !ban ? button("Ban player", banPlayer, { class: "danger" }) : null,
    );
  }

  async function load() {
    try {
      draw(await api(`${base}/sessions`, { tenant }));
    } catch (error) {
      body.setAttribute("aria-busy", "false");
      showError(body, error);
    }
  }

  /** @param {PlayerSessions} view */
  async function revoke(view) {
    const n = view.items.length;
    if (!(await confirmAction(`End all ${n} session${n === 1 ? "" : "s"} of player ${playerId}? Their game clients are signed out at once; the player may sign in again (ban to prevent that).`, "End all sessions"))) return;
    try {
      const done = await api(`${base}/sessions/revoke`, { method: "POST", tenant });
      notice(messages, `${done.ended} session${done.ended === 1 ? "" : "s"} ended.`);
      await load();
    } catch (error) {
      showError(messages, error);
    }
  }

  async function banPlayer() {
    const reason = input({ required: true, maxlength: 500, placeholder: "e.g. chargeback fraud" });
    const until = input({ type: "datetime-local" });
    const banned = await dialog(
      `Ban player ${playerId}`,
      h(
        "div",
        {},
        h("p", {}, "Ends every session of the player at once and refuses their sign-ins and session calls. Audited."),
        field("Reason", reason, { path: "reason", hint: "Kept in the audit log; support reads it here." }),
        field("Ends", until, { path: "until", hint: "Optional, your local time; empty: until someone unbans the player." }),
      ),
      {
        submitLabel: "Ban player",
        danger: true,
        onSubmit: () => {
          /** @type {{ reason: string, until?: string }} */
          const payload = { reason: reason.value.trim() };
          if (until.value) payload.until = new Date(until.value).toISOString();
          return api(`${base}/ban`, { method: "POST", tenant, body: payload });
        },
      },
    );
    if (!banned) return;
    notice(messages, `Player ${playerId} is banned.`);
    draw(banned);
  }

  async function unban() {
    if (!(await confirmAction(`Lift the ban of player ${playerId}? They may sign in again (their ended sessions stay ended).`, "Unban"))) return;
    try {
      draw(await api(`${base}/unban`, { method: "POST", tenant }));
      notice(messages, `Player ${playerId} may sign in again.`);
    } catch (error) {
      showError(messages, error);
    }
  }

  load();
  return card(
    "Sessions",
    toolbar(h("p", { class: "hint" }, "Game clients signed in as this player (docs: Player sessions). Tokens are never shown."), status, h("span", { class: "grow" }), actions),
    messages,
    body,
  );
}
