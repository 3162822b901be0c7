using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    /// <summary>Shared plumbing of the API groups: each group is a thin map from methods to routes.</summary>
    public abstract class ApiGroup
    {
        internal readonly LudexClient Client;

        internal ApiGroup(LudexClient client) { Client = client; }

        internal string PlayerPath(string playerId, string rest = "")
        {
            return Client.ProjectPath("/players/" + LudexClient.Escape(playerId) + rest);
        }

        internal static List<KeyValuePair<string, string>> Query(params string[] pairs)
        {
            var query = new List<KeyValuePair<string, string>>();
            for (int i = 0; i + 1 < pairs.Length; i += 2) query.Add(new KeyValuePair<string, string>(pairs[i], pairs[i + 1]));
            return query;
        }

        internal static string Number(int? value)
        {
            return value.HasValue ? value.Value.ToString(CultureInfo.InvariantCulture) : null;
        }

        internal static JsonObject Body(params object[] pairs)
        {
            var body = new JsonObject();
            for (int i = 0; i + 1 < pairs.Length; i += 2)
            {
                if (pairs[i + 1] != null) body[(string)pairs[i]] = pairs[i + 1];
            }
            return body;
        }
    }

    /// <summary>Players, profiles and progression.</summary>
    public sealed class PlayersApi : ApiGroup
    {
        internal PlayersApi(LudexClient client) : base(client) { }

        /// <summary>201 a new player; 200 when that playerId exists with the same body. A null playerId is derived from the idempotency key.</summary>
        public async Task<Player> CreateAsync(string playerId, string username, IDictionary<string, object> metadata = null,
            string idempotencyKey = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Player.From(await Client.WriteAsync(Client.ProjectPath("/players"), Body("playerId", playerId, "username", username, "metadata", metadata), idempotencyKey, cancellationToken));
        }

        public async Task<Profile> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Profile.From(await Client.ReadAsync("GET", PlayerPath(playerId), null, cancellationToken));
        }

        public async Task<Page<Player>> ListAsync(string username = null, string cursor = null, int? limit = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.ReadAsync("GET", Client.ProjectPath("/players"), Query("username", username, "cursor", cursor, "limit", Number(limit)), cancellationToken);
            return Page<Player>.From(body, Player.From);
        }

        public async Task<Player> UpdateAsync(string playerId, string username = null, IDictionary<string, object> metadata = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return Player.From(await Client.SendAsync("PATCH", PlayerPath(playerId), null, Body("username", username, "metadata", metadata), null, cancellationToken));
        }

        public Task DeleteAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Client.ReadAsync("DELETE", PlayerPath(playerId), null, cancellationToken);
        }

        public async Task<XpResult> AwardXpAsync(string playerId, long amount, string reason = null, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.WriteAsync(PlayerPath(playerId, "/xp"), Body("amount", amount, "reason", reason), idempotencyKey, cancellationToken);
            return XpResult.From(body);
        }

        public async Task<Progression> GetProgressionAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Progression.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/progression"), null, cancellationToken));
        }
    }

    /// <summary>Balances and the ledger.</summary>
    public sealed class WalletApi : ApiGroup
    {
        internal WalletApi(LudexClient client) : base(client) { }

        public async Task<Wallet> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Wallet.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/wallet"), null, cancellationToken));
        }

        public async Task<WalletResult> CreditAsync(string playerId, string currency, long amount, string reason = null,
            IDictionary<string, object> metadata = null, string idempotencyKey = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return WalletResult.From(await Client.WriteAsync(PlayerPath(playerId, "/wallet/credit"), Body("currency", currency, "amount", amount, "reason", reason, "metadata", metadata), idempotencyKey, cancellationToken));
        }

        /// <summary>409 <c>insufficient-funds</c> when short.</summary>
        public async Task<WalletResult> DebitAsync(string playerId, string currency, long amount, string reason = null,
            IDictionary<string, object> metadata = null, string idempotencyKey = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return WalletResult.From(await Client.WriteAsync(PlayerPath(playerId, "/wallet/debit"), Body("currency", currency, "amount", amount, "reason", reason, "metadata", metadata), idempotencyKey, cancellationToken));
        }

        /// <summary>Ledger entries, oldest first.</summary>
        public async Task<Page<LedgerEntry>> HistoryAsync(string playerId, string currency = null, string cursor = null, int? limit = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return Page<LedgerEntry>.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/wallet/history"), Query("currency", currency, "cursor", cursor, "limit", Number(limit)), cancellationToken), LedgerEntry.From);
        }
    }

    /// <summary>Items.</summary>
    public sealed class InventoryApi : ApiGroup
    {
        internal InventoryApi(LudexClient client) : base(client) { }

        public async Task<Inventory> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Inventory.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/inventory"), null, cancellationToken));
        }

        /// <summary>The new total; 409 <c>stack-limit</c>.</summary>
        public async Task<InventoryLine> GrantAsync(string playerId, string itemId, long quantity, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return InventoryLine.From(await Client.WriteAsync(PlayerPath(playerId, "/items/grant"), Body("itemId", itemId, "quantity", quantity), idempotencyKey, cancellationToken));
        }

        /// <summary>The new total; 409 <c>insufficient-items</c>.</summary>
        public async Task<InventoryLine> ConsumeAsync(string playerId, string itemId, long quantity, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return InventoryLine.From(await Client.WriteAsync(PlayerPath(playerId, "/items/consume"), Body("itemId", itemId, "quantity", quantity), idempotencyKey, cancellationToken));
        }
    }

    /// <summary>Counters (which may unlock achievements).</summary>
    public sealed class CountersApi : ApiGroup
    {
        internal CountersApi(LudexClient client) : base(client) { }

        public async Task<Counters> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Counters.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/counters"), null, cancellationToken));
        }

        /// <summary>The new value and the achievements it unlocked.</summary>
        public async Task<CounterResult> IncrementAsync(string playerId, string counterId, long by = 1, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return CounterResult.From(await Client.WriteAsync(PlayerPath(playerId, "/counters/" + LudexClient.Escape(counterId) + "/increment"), Body("by", by), idempotencyKey, cancellationToken));
        }

        public async Task<CounterResult> ResetAsync(string playerId, string counterId, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return CounterResult.From(await Client.WriteAsync(PlayerPath(playerId, "/counters/" + LudexClient.Escape(counterId) + "/reset"), new JsonObject(), idempotencyKey, cancellationToken));
        }
    }

    /// <summary>Quests.</summary>
    public sealed class QuestsApi : ApiGroup
    {
        internal QuestsApi(LudexClient client) : base(client) { }

        public async Task<Quests> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Quests.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/quests"), null, cancellationToken));
        }

        /// <summary>The quest's state; rewards are applied in the same command when it completes.</summary>
        public async Task<QuestState> ProgressAsync(string playerId, string questId, string objectiveId, long by = 1, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return QuestState.From(await Client.WriteAsync(PlayerPath(playerId, "/quests/" + LudexClient.Escape(questId) + "/progress"), Body("objectiveId", objectiveId, "by", by), idempotencyKey, cancellationToken));
        }
    }

    /// <summary>Achievements.</summary>
    public sealed class AchievementsApi : ApiGroup
    {
        internal AchievementsApi(LudexClient client) : base(client) { }

        public async Task<Achievements> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Achievements.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/achievements"), null, cancellationToken));
        }
    }

    /// <summary>The store: catalog, SKUs, purchases and receipts.</summary>
    public sealed class StoreApi : ApiGroup
    {
        internal StoreApi(LudexClient client) : base(client) { }

        public async Task<Catalog> CatalogAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Catalog.From(await Client.ReadAsync("GET", Client.ProjectPath("/store/catalog"), null, cancellationToken));
        }

        public async Task<Sku> GetSkuAsync(string sku, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Sku.From(await Client.ReadAsync("GET", Client.ProjectPath("/store/skus/" + LudexClient.Escape(sku)), null, cancellationToken));
        }

        /// <summary>The receipt; 409 <c>insufficient-funds</c>. Debit and grants commit together or not at all.</summary>
        public async Task<Receipt> PurchaseAsync(string playerId, string sku, int quantity = 1, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return Receipt.From(await Client.WriteAsync(PlayerPath(playerId, "/purchases"), Body("sku", sku, "quantity", quantity), idempotencyKey, cancellationToken));
        }

        public async Task<Receipt> GetReceiptAsync(string playerId, string purchaseId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Receipt.From(await Client.ReadAsync("GET", PlayerPath(playerId, "/purchases/" + LudexClient.Escape(purchaseId)), null, cancellationToken));
        }
    }

    /// <summary>Batches of commands (1 to 500): each result is {ok, status, body | problem, replayed}.</summary>
    public sealed class CommandsApi : ApiGroup
    {
        internal CommandsApi(LudexClient client) : base(client) { }

        /// <summary>
        /// Commands without an idempotencyKey get a fresh UUIDv4 here, once, so a retried batch
        /// replays instead of applying twice. The caller's dictionaries are not modified.
        /// </summary>
        public async Task<List<BatchResult>> BatchAsync(IEnumerable<IDictionary<string, object>> commands, string idempotencyKey = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var keyed = new List<object>();
            foreach (var command in commands)
            {
                var copy = new JsonObject();
                foreach (var pair in command) copy[pair.Key] = pair.Value;
                if (!copy.ContainsKey("idempotencyKey") || copy["idempotencyKey"] == null) copy["idempotencyKey"] = LudexClient.NewIdempotencyKey();
                keyed.Add(copy);
            }
            var body = await Client.WriteAsync(Client.ProjectPath("/commands"), Body("commands", keyed), idempotencyKey, cancellationToken);
            return ModelReader.List(body.GetArray("results"), BatchResult.From) ?? new List<BatchResult>();
        }
    }

    /// <summary>The event store: filtered pages, or every page in turn.</summary>
    public sealed class EventsApi : ApiGroup
    {
        internal EventsApi(LudexClient client) : base(client) { }

        public async Task<Page<LudexEvent>> ListAsync(EventQuery query = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            query = query ?? new EventQuery();
            var body = await Client.ReadAsync("GET", Client.ProjectPath("/events"), Query(
                "type", query.Types != null && query.Types.Count > 0 ? string.Join(",", query.Types) : null,
                "playerId", query.PlayerId, "from", query.From, "to", query.To, "cursor", query.Cursor, "limit", Number(query.Limit)), cancellationToken);
            return Page<LudexEvent>.From(body, LudexEvent.From);
        }

        /// <summary>Calls <paramref name="onEvent"/> for every matching event, following cursors to the last page (C# 7.3 has no async streams).</summary>
        public async Task<int> ForEachAsync(EventQuery query, Action<LudexEvent> onEvent, CancellationToken cancellationToken = default(CancellationToken))
        {
            query = query ?? new EventQuery();
            var current = new EventQuery { Types = query.Types, PlayerId = query.PlayerId, From = query.From, To = query.To, Cursor = query.Cursor, Limit = query.Limit };
            int count = 0;
            while (true)
            {
                var page = await ListAsync(current, cancellationToken);
                foreach (var item in page.Items) { onEvent(item); count++; }
                if (string.IsNullOrEmpty(page.NextCursor) || page.Items.Count == 0) return count;
                current.Cursor = page.NextCursor;
            }
        }

        /// <summary>Every matching event, all pages.</summary>
        public async Task<List<LudexEvent>> ListAllAsync(EventQuery query = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            var all = new List<LudexEvent>();
            await ForEachAsync(query, all.Add, cancellationToken);
            return all;
        }
    }

    /// <summary>
    /// The project's leaderboards. <c>period</c> is <c>current</c> (the default), <c>previous</c>
    /// (the last ended period, archived) or a period id (<c>2026-W49</c>); ranks are 1-based, ties
    /// to whoever reached the score first.
    /// </summary>
    public sealed class LeaderboardsApi : ApiGroup
    {
        internal LeaderboardsApi(LudexClient client) : base(client) { }

        private string BoardPath(string boardId, string rest = "")
        {
            return Client.ProjectPath("/leaderboards/" + LudexClient.Escape(boardId) + rest);
        }

        /// <summary>The boards the economy defines, each with its current period.</summary>
        public async Task<List<BoardDefinition>> ListAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.ReadAsync("GET", Client.ProjectPath("/leaderboards"), null, cancellationToken);
            return BoardList.From(body).Items ?? new List<BoardDefinition>();
        }

        /// <summary>
        /// A score for a <c>submitted</c> board (409 <c>not-submittable</c> on a board the economy
        /// feeds), exactly once like every write; answers the player's score and rank after it.
        /// </summary>
        public async Task<ScoreResult> SubmitAsync(string boardId, string playerId, long score, IDictionary<string, object> metadata = null,
            string idempotencyKey = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.WriteAsync(BoardPath(boardId, "/scores"), Body("playerId", playerId, "score", score, "metadata", metadata), idempotencyKey, cancellationToken);
            return ScoreResult.From(body);
        }

        /// <summary>One page of a period's entries, best first (limit 1 to 100, default 50).</summary>
        public async Task<BoardPage> PageAsync(string boardId, string period = null, string cursor = null, int? limit = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.ReadAsync("GET", BoardPath(boardId), Query("period", period, "cursor", cursor, "limit", Number(limit)), cancellationToken);
            return BoardPage.From(body);
        }

        /// <summary>Calls <paramref name="onEntry"/> for every entry of the period in rank order, page after page; return false to stop. Answers how many it saw.</summary>
        public async Task<int> ForEachAsync(string boardId, Func<BoardEntry, bool> onEntry, string period = null, int? limit = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            int count = 0;
            string cursor = null;
            while (true)
            {
                var page = await PageAsync(boardId, period, cursor, limit, cancellationToken);
                foreach (var entry in page.Items)
                {
                    count++;
                    if (!onEntry(entry)) return count;
                }
                if (string.IsNullOrEmpty(page.NextCursor) || page.Items.Count == 0) return count;
                cursor = page.NextCursor;
            }
        }

        /// <summary>
        /// The player's rank and score with <paramref name="around"/> entries above and below (fewer
        /// at the edges); 404 <c>not-ranked</c> when the player has no score in that period.
        /// </summary>
        public async Task<PlayerStanding> AroundAsync(string boardId, string playerId, int around = 0, string period = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.ReadAsync("GET", BoardPath(boardId, "/players/" + LudexClient.Escape(playerId)),
                Query("period", period, "around", Number(around)), cancellationToken);
            return PlayerStanding.From(body);
        }
    }

    /// <summary>Feature flags, evaluated for one player (rollouts, targeting rules, the project's overrides).</summary>
    public sealed class FlagsApi : ApiGroup
    {
        internal FlagsApi(LudexClient client) : base(client) { }

        /// <summary>Every flag of the economy: values are <c>bool</c>, <c>long</c> or <c>string</c> (read them with <c>GetBool</c>, <c>GetLong</c>, <c>GetString</c>).</summary>
        public async Task<JsonObject> GetAsync(string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = await Client.ReadAsync("GET", PlayerPath(playerId, "/flags"), null, cancellationToken);
            return PlayerFlags.From(body).Flags ?? new JsonObject();
        }
    }

    /// <summary>A session's own devices (a key is refused with 403 <c>forbidden</c>).</summary>
    public sealed class DevicesApi : ApiGroup
    {
        internal DevicesApi(LudexClient client) : base(client) { }

        /// <summary>From now on the device id signs in as the session's player; 409 <c>device-linked</c> when another player has it.</summary>
        public Task LinkAsync(string deviceId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Client.SendAsync("POST", Client.ProjectPath("/auth/devices/link"), null, new JsonObject { { "deviceId", deviceId } }, null, cancellationToken);
        }

        /// <summary>The device no longer signs in as the session's player (its next device sign-in makes a new one).</summary>
        public Task UnlinkAsync(string deviceId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Client.SendAsync("POST", Client.ProjectPath("/auth/devices/unlink"), null, new JsonObject { { "deviceId", deviceId } }, null, cancellationToken);
        }
    }
}
