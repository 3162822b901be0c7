// @ts-check
// Leaderboards, read-only: a board the economy defines, its current or previous period, and its
// standings page by page (GET .../leaderboards/{boardId}, players:read).
import { h, number, when, put } from "./dom.js";
import { api } from "./api.js";
import { field, select, showError, table, empty, card, toolbar, paginated } from "./ui.js";
import { enc, needProject, projectPath } from "./project.js";

const PERIODS = [
  ["current", "Current"],
  ["previous", "Previous"],
];

export async function leaderboards(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant } = ctx;
  const messages = h("div");
  let ids = [];
  try {
    const economy = await api(projectPath(ctx, "/economy"), { tenant });
    ids = (economy.document.leaderboards || []).map((board) => board.id);
  } catch (error) {
    showError(messages, error);
  }
  if (!ids.length) {
    put(main, messages, empty("No leaderboards.", "Define one in the Economy editor's Leaderboards tab."));
    return;
  }
  const board = select(ids.map((id) => [id, id]), { value: ids[0] });
  const period = select(PERIODS, { value: "current" });
  const heading = h("p", { class: "totals" });
  /** @type {import("./ui.js").Column[]} */
  const columns = [
    ["Rank", (e) => number(e.rank)],
    ["Player", (e) => e.playerId],
    ["Username", (e) => e.username || "—"],
    ["Score", (e) => number(e.score)],
    ["Updated", (e) => when(e.updatedAt)],
  ];
  const list = paginated(
    async (cursor) => {
      heading.textContent = "";
      const page = await api(projectPath(ctx, `/leaderboards/${enc(board.value)}`), { tenant, params: { period: period.value, limit: 25, cursor } });
      heading.textContent = `Period ${page.period.id}`;
      return page;
    },
    (items) => table(columns, items, { caption: `Standings of ${board.value}` }),
    empty("Nobody is ranked in this period yet.", "Scores appear as players play."),
  );
  board.addEventListener("change", list.reload);
  period.addEventListener("change", list.reload);
  put(main, toolbar(field("Leaderboard", board), field("Period", period)), messages, card(null, heading, list.element));
  list.reload();
}
