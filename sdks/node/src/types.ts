/**
 * Friendly names for the schemas generated from docs/openapi.json (src/generated/openapi.ts), so
 * the SDK's types change when the server's contract does and never drift by hand.
 */
import type { components } from "./generated/openapi.js";

type Schemas = components["schemas"];
/** A request body without `idempotencyKey`: the SDK sends the key as a header. */
type Input<T> = Omit<T, "idempotencyKey">;

export type Problem = Schemas["Problem"];
export type Player = Schemas["Player"];
export type Profile = Schemas["Profile"];
export type PlayerPage = Schemas["PlayerPage"];
export type CreatePlayer = Input<Schemas["CreatePlayer"]>;
export type UpdatePlayer = Schemas["UpdatePlayer"];
export type AwardXp = Input<Schemas["AwardXp"]>;
export type XpResult = Schemas["XpResult"];
export type Progression = Schemas["Progression"];
export type Wallet = Schemas["Wallet"];
export type WalletChange = Input<Schemas["WalletChange"]>;
export type WalletResult = Schemas["WalletResult"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type LedgerPage = Schemas["LedgerPage"];
export type Inventory = Schemas["Inventory"];
export type InventoryLine = Schemas["InventoryLine"];
export type ItemChange = Input<Schemas["ItemChange"]>;
export type Counters = Schemas["Counters"];
export type CounterIncrement = Input<Schemas["CounterIncrement"]>;
export type CounterResult = Schemas["CounterResult"];
export type Quests = Schemas["Quests"];
export type QuestState = Schemas["QuestState"];
export type QuestProgress = Input<Schemas["QuestProgress"]>;
export type Achievements = Schemas["Achievements"];
export type Catalog = Schemas["Catalog"];
export type Sku = Schemas["Sku"];
export type PurchaseRequest = Input<Schemas["PurchaseRequest"]>;
export type Receipt = Schemas["Receipt"];
export type BatchCommand = Schemas["Batch"]["commands"][number];
export type BatchResult = Schemas["BatchResult"];
export type BatchResults = Schemas["BatchResults"];
export type LudexEvent = Schemas["Event"];
export type EventPage = Schemas["EventPage"];
export type ScoreSubmission = Input<Schemas["ScoreSubmission"]>;
export type ScoreResult = Schemas["ScoreResult"];
export type LeaderboardPeriod = Schemas["PeriodBody"];
export type LeaderboardEntry = Schemas["BoardEntry"];
export type LeaderboardPage = Schemas["BoardPage"];
export type LeaderboardStanding = Schemas["PlayerStanding"];
export type LeaderboardDefinition = Schemas["BoardDefinition"];
export type LeaderboardList = Schemas["BoardList"];
export type PlayerFlags = Schemas["PlayerFlags"];
export type Tokens = Schemas["Tokens"];
/** A player session's sign-in or refresh answer. */
export type PlayerTokens = Schemas["PlayerTokens"];
export type Me = Schemas["Me"];
export type Project = Schemas["Project"];
export type ProjectIn = Schemas["ProjectIn"];
export type ProjectPage = Schemas["ProjectPage"];
export type ApiKey = Schemas["ApiKey"];
export type ApiKeyIn = Schemas["ApiKeyIn"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type ApiKeyList = Schemas["ApiKeyList"];
export type Webhook = Schemas["Webhook"];
export type WebhookIn = Schemas["WebhookIn"];
export type WebhookPatch = Schemas["WebhookPatch"];
export type WebhookCreated = Schemas["WebhookCreated"];
export type WebhookPage = Schemas["WebhookPage"];
export type Delivery = Schemas["Delivery"];
export type DeliveryPage = Schemas["DeliveryPage"];
export type Redriven = Schemas["Redriven"];
export type Economy = Schemas["Economy"];

export type { components, paths } from "./generated/openapi.js";
