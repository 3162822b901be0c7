// @ts-check
// Helpers every Client page shares: the chosen project, and its backoffice path.
import { put } from "./dom.js";
import { empty } from "./ui.js";

export const enc = encodeURIComponent;

/** True (after saying so on the page) when no project is chosen yet. */
export function needProject(ctx) {
  if (ctx.project) return false;
  put(ctx.main, empty("No project selected.", "Create a project on the Projects page, then pick it in the sidebar."));
  return true;
}

export function projectPath(ctx, rest = "") {
  return `/v1/client/projects/${enc(ctx.project)}${rest}`;
}
