export { Ludex, type LudexOptions, type KeyOptions, type SessionClientOptions, type WriteOptions, type PlayerQuery, type HistoryQuery, type EventQuery, type LeaderboardQuery, type StandingQuery } from "./client.js";
export { LudexAdmin, type LudexAdminOptions, type PageQuery } from "./admin.js";
export { LudexError, slugOf, type ProblemBody } from "./errors.js";
export {
  Realtime,
  type RealtimeOptions,
  type OpenInfo,
  type CloseInfo,
  type WebSocketConstructor,
  type WebSocketLike,
  type StreamCommand,
  type CommandBodies,
  type CommandBody,
} from "./realtime.js";
export { DEFAULT_RETRY, type RetryPolicy, type RetryOption } from "./retry.js";
export type { CallOptions, RetryInfo } from "./transport.js";
export {
  verifyWebhook,
  signWebhook,
  WebhookVerificationError,
  type WebhookHeaders,
  type RawBody,
  type VerifyOptions,
} from "./webhooks.js";
export type * from "./types.js";
export {
  Session,
  MemorySessionStorage,
  type SessionOptions,
  type SessionStorage,
  type SessionTokens,
  type SignedIn,
} from "./session.js";
