// @ts-check
// The project's player sign-in settings (docs/PLAYER_AUTH.md): device sign-in on or off, the
// browser origins allowed to call the game API (CORS), the custom-token secret (write-only) and
// public keys (`GET`/`PATCH .../player-auth`), and the economy's client policy, shown here
// read-only: it lives in the economy document, so the economy editor changes it (and reviews it).
import { h, clear, put } from "./dom.js";
import { api, ApiError } from "./api.js";
import { field, input, select, button, showError, notice, dialog, confirmAction, clearFieldErrors, secretOnce, table, empty, badge, card, toolbar } from "./ui.js";
import { needProject, projectPath } from "./project.js";
import { CLIENT_OPS, clientAllow } from "./economy.js";

/**
 * @typedef {{ kid: string, alg: "EdDSA" | "RS256", publicKey: string }} PublicKey
 * @typedef {{ deviceSignIn: boolean, allowedOrigins: string[], hasSecret: boolean, publicKeys: PublicKey[] }} PlayerAuth
 */

/** 48 random bytes as URL-safe base64: a secret made in the browser, never sent anywhere else. */
function randomSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(48));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function playerSignIn(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project, can } = ctx;
  const writable = can("projects:write", tenant, project);
  const path = projectPath(ctx, "/player-auth");
  const messages = h("div");
  const access = h("div");
  const custom = h("div");
  const policy = h("div", {}, h("p", { class: "hint" }, "Loading…"));

  /** @param {object} change */
  const patch = (change) => api(path, { method: "PATCH", tenant, body: change });

  /** @param {PlayerAuth} settings */
  function drawAccess(settings) {
    const device = h("input", { type: "checkbox", id: "device-sign-in", checked: settings.deviceSignIn, disabled: !writable });
    const origins = h("textarea", { rows: 4, class: "mono", spellcheck: "false", placeholder: "https://play.example.com", readonly: !writable });
    origins.value = settings.allowedOrigins.join("\n");
    const form = h("form", { novalidate: true });
    const saved = h("div");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      clear(saved);
      const allowedOrigins = origins.value.split(/[\s,]+/).map((o) => o.trim().replace(/\/$/, "")).filter(Boolean);
      try {
        const answer = await patch({ deviceSignIn: device.checked, allowedOrigins });
        drawAccess(answer);
        notice(messages, "Sign-in settings saved. Every server uses them within a second.");
      } catch (error) {
        showError(saved, error, form);
      }
    });
    put(
      form,
      h("label", { class: "check top" }, device, h("span", {}, h("strong", {}, "Device sign-in"), h("span", { class: "hint" }, " — game clients sign in with an install's random id; the player is created on first use. Off: 403 device-sign-in-disabled."))),
      field("Allowed origins", origins, { path: "allowedOrigins", hint: "One per line, exact (https://host or https://host:port): browser and WebGL builds served there may call the game API. None by default." }),
      saved,
      writable ? h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save sign-in settings")) : null,
    );
    put(clear(access), form);
  }

  /** @param {PlayerAuth} settings */
  function drawCustom(settings) {
    const keys = settings.publicKeys;
    put(
      clear(custom),
      h("p", { class: "hint" }, "Your own backend signs a short JWT for a player (sub = player id, exp); the game exchanges it at …/auth/custom. Ludex verifies it with the secret (HS256) or a public key (EdDSA, RS256) and never calls out."),
      toolbar(
        h("span", {}, h("strong", {}, "HS256 secret "), settings.hasSecret ? badge("set", "good") : badge("not set", "neutral")),
        h("span", { class: "grow" }),
        writable ? button(settings.hasSecret ? "Replace secret" : "Set secret", setSecret) : null,
        writable && settings.hasSecret ? button("Remove secret", () => removeSecret(), { class: "danger ghost" }) : null,
      ),
      keys.length
        ? table(
            [
              ["Key ID", (k) => h("span", { class: "mono" }, k.kid)],
              ["Algorithm", (k) => badge(k.alg)],
              ["Public key", (k) => h("code", { class: "data" }, `${k.publicKey.replace(/-----[A-Z ]+-----|\s/g, "").slice(0, 24)}…`)],
              ["", (k) => (writable ? button("Remove", () => removeKey(settings, k), { class: "danger ghost", "aria-label": `Remove key ${k.kid}` }) : null)],
            ],
            keys,
            { caption: "Public keys" },
          )
        : empty("No public keys.", writable ? "Add one to verify tokens your backend signs with EdDSA or RS256 (its private key never leaves your backend)." : null),
      writable ? h("div", { class: "row" }, button("Add public key", () => addKey(settings))) : null,
    );
  }

  /** @param {PlayerAuth} settings */
  function drawAll(settings) {
    drawAccess(settings);
    drawCustom(settings);
  }

  async function setSecret() {
    const secret = input({ class: "mono", required: true, minlength: 32, maxlength: 512, autocomplete: "new-password" });
    const generate = button("Generate", () => {
      secret.value = randomSecret();
    });
    const answer = await dialog(
      "Custom sign-in secret",
      h("div", {}, h("p", {}, "Your backend signs custom tokens (HS256) with it. It is stored sealed and never shown again; a new one replaces the old at once."), field("Secret", secret, { path: "secret", hint: "At least 32 characters." }), h("div", { class: "row" }, generate)),
      { submitLabel: "Save secret", onSubmit: async () => ({ settings: await patch({ secret: secret.value }), secret: secret.value }) },
    );
    if (!answer) return;
    drawAll(answer.settings);
    await dialog("Secret saved", secretOnce("HS256 secret", answer.secret), { submitLabel: "Done" });
  }

  async function removeSecret() {
    if (!(await confirmAction("Remove the HS256 secret? Custom tokens signed with it are refused from now on (sessions already open go on).", "Remove secret"))) return;
    try {
      drawAll(await patch({ clearSecret: true }));
      notice(messages, "Secret removed.");
    } catch (error) {
      showError(messages, error);
    }
  }

  /** @param {PlayerAuth} settings */
  async function addKey(settings) {
    const kid = input({ required: true, maxlength: 64 });
    const alg = select([["EdDSA", "EdDSA (Ed25519)"], ["RS256", "RS256"]], {});
    const pem = h("textarea", { rows: 6, class: "mono", spellcheck: "false", placeholder: "-----BEGIN PUBLIC KEY-----" });
    const answer = await dialog(
      "Add public key",
      h("div", {}, field("Key ID", kid, { path: "publicKeys", hint: "The kid your tokens' header names." }), field("Algorithm", alg), field("Public key (PEM)", pem)),
      { submitLabel: "Add key", onSubmit: () => patch({ publicKeys: [...settings.publicKeys, { kid: kid.value.trim(), alg: alg.value, publicKey: pem.value.trim() }] }) },
    );
    if (!answer) return;
    drawAll(answer);
    notice(messages, `Public key ${kid.value.trim()} added.`);
  }

  /**
   * @param {PlayerAuth} settings
   * @param {PublicKey} key
   */
  async function removeKey(settings, key) {
    if (!(await confirmAction(`Remove public key “${key.kid}”? Tokens signed with its private key are refused from now on.`, "Remove key"))) return;
    try {
      drawAll(await patch({ publicKeys: settings.publicKeys.filter((k) => k.kid !== key.kid) }));
      notice(messages, `Public key ${key.kid} removed.`);
    } catch (error) {
      showError(messages, error);
    }
  }

  async function drawPolicy() {
    /** @type {any} */
    let document = null;
    try {
      document = (await api(projectPath(ctx, "/economy"), { tenant })).document;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        showError(policy, error);
        return;
      }
    }
    const allowed = new Set(clientAllow(document));
    const href = `/dashboard/client/economy?tenant=${encodeURIComponent(tenant)}&project=${encodeURIComponent(project)}&section=clientPolicy`;
    put(
      clear(policy),
      h("p", { class: "hint" }, "The commands a player session may send for its own player. It is part of the economy document, so it is versioned, reviewed and published with it."),
      table(
        [
          ["Command", ([op]) => h("span", { class: "mono" }, op)],
          ["Lets a player", ([, what]) => what],
          ["From a game client", ([op, , risky]) => (allowed.has(op) ? badge("allowed", risky ? "warn" : "good") : badge("server only", "neutral"))],
        ],
        CLIENT_OPS,
        { caption: document && document.clientPolicy ? "The economy's clientPolicy" : "No clientPolicy in the economy: the default" },
      ),
      h("p", {}, h("a", { href, "data-nav": true }, can("economy:write", tenant, project) ? "Change it in the economy editor" : "See it in the economy editor")),
    );
  }

  put(main, toolbar(h("p", { class: "hint" }, `How game clients of project ${project} sign players in, and what a signed-in client may do. API keys are for your game servers only.`)), messages);
  try {
    /** @type {PlayerAuth} */
    const settings = await api(path, { tenant });
    drawAll(settings);
  } catch (error) {
    showError(access, error);
  }
  put(main, h("div", { class: "grid-2" }, card("Sign-in and origins", access), card("Custom sign-in (your backend)", custom)), card("Client policy", policy));
  drawPolicy();
}
