import type { Problem } from "./types.js";

/** The problem+json body of a failed call, with whatever extra members the server added. */
export type ProblemBody = Partial<Problem> & Record<string, unknown>;

/**
 * The one error every SDK call throws, so callers branch on `slug` (stable) rather than on
 * message text. Network failures and timeouts use status 0 and slugs `network-error` / `timeout`.
 */
export class LudexError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly detail: string;
  readonly problem: ProblemBody;
  readonly requestId: string | undefined;

  constructor(
    status: number,
    problem: ProblemBody,
    requestId?: string,
    options?: { cause?: unknown },
  ) {
    const slug = slugOf(problem.type) ?? (status === 0 ? "network-error" : `http-${status}`);
    const detail = typeof problem.detail === "string" ? problem.detail : (problem.title ?? `HTTP ${status}`);
    super(`${status} ${slug}: ${detail}`, options);
    this.name = "LudexError";
    this.status = status;
    this.slug = slug;
    this.detail = detail;
    this.problem = problem;
    this.requestId = (typeof problem.requestId === "string" ? problem.requestId : undefined) ?? requestId;
  }
}

/** `https://ludex.dev/problems/insufficient-funds` → `insufficient-funds`. */
export function slugOf(type: unknown): string | undefined {
  if (typeof type !== "string" || type === "" || type === "about:blank") return undefined;
  const segments = type.split("/").filter((segment) => segment !== "");
  return segments[segments.length - 1];
}
