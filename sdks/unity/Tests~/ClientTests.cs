using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>The game API surface against the real server and its demo economy.</summary>
    [TestFixture]
    public class ClientTests : ServerFixture
    {
        [Test]
        public async Task QuickStartFlowReachesLevelFourOnce()
        {
            string id = await NewPlayer("qs");
            string key = LudexClient.NewIdempotencyKey();
            var first = await Api.Players.AwardXpAsync(id, 460, "match", key);
            var second = await Api.Players.AwardXpAsync(id, 460, "match", key);
            Assert.AreEqual(4, first.Level);
            Assert.IsTrue(first.LeveledUp);
            Assert.AreEqual(3, first.LevelsGained);
            Assert.AreEqual(460, second.Xp, "the same key replays the first award");
            var progression = await Api.Players.GetProgressionAsync(id);
            Assert.AreEqual(460, progression.Xp);
            Assert.AreEqual(4, progression.Level);
            Assert.AreEqual(450, progression.CurrentLevelXp);
            Assert.AreEqual(700, progression.NextLevelXp);
        }

        [Test]
        public async Task PlayersCreateGetListUpdateDelete()
        {
            string id = await NewPlayer("crud");
            var profile = await Api.Players.GetAsync(id);
            Assert.AreEqual(1, profile.Level);
            Assert.AreEqual(id, profile.Username);
            Assert.AreEqual("red", profile.Metadata.GetString("team"));
            var page = await Api.Players.ListAsync(username: id, limit: 10);
            Assert.AreEqual(new[] { id }, page.Items.Select(p => p.PlayerId).ToArray());
            var renamed = await Api.Players.UpdateAsync(id, username: id + "-x");
            Assert.AreEqual(id + "-x", renamed.Username);
            await Api.Players.DeleteAsync(id);
            var gone = await TestServer.Throws<LudexException>(() => Api.Players.GetAsync(id));
            Assert.AreEqual(404, gone.Status);
        }

        [Test]
        public async Task WalletCreditDebitHistoryAndIdempotentCredit()
        {
            string id = await NewPlayer("wallet");
            string key = LudexClient.NewIdempotencyKey();
            var credit = await Api.Wallet.CreditAsync(id, "coins", 500, "bonus", idempotencyKey: key);
            Assert.AreEqual(500, credit.Balance);
            var again = await Api.Wallet.CreditAsync(id, "coins", 500, "bonus", idempotencyKey: key);
            Assert.AreEqual(500, again.Balance, "same key: no second credit");
            var debit = await Api.Wallet.DebitAsync(id, "coins", 120);
            Assert.AreEqual(380, debit.Balance);
            var wallet = await Api.Wallet.GetAsync(id);
            Assert.AreEqual(380, wallet.Balances["coins"]);
            var history = await Api.Wallet.HistoryAsync(id, "coins");
            Assert.AreEqual(new long[] { 500, -120 }, history.Items.Select(e => e.Delta).ToArray());
            Assert.AreEqual(key, history.Items[0].IdempotencyKey);
        }

        [Test]
        public async Task InventoryCountersAchievementsQuests()
        {
            string id = await NewPlayer("items");
            Assert.AreEqual(3, (await Api.Inventory.GrantAsync(id, "potion", 3)).Quantity);
            Assert.AreEqual(2, (await Api.Inventory.ConsumeAsync(id, "potion", 1)).Quantity);
            var items = (await Api.Inventory.GetAsync(id)).Items;
            Assert.AreEqual(2, items.Single(i => i.ItemId == "potion").Quantity);
            var shortOfItems = await TestServer.Throws<LudexException>(() => Api.Inventory.ConsumeAsync(id, "potion", 5));
            Assert.AreEqual("insufficient-items", shortOfItems.Slug);

            var win = await Api.Counters.IncrementAsync(id, "wins");
            Assert.AreEqual(1, win.Value);
            CollectionAssert.Contains(win.Unlocked, "first-win");
            Assert.AreEqual(1, (await Api.Counters.GetAsync(id)).Values["wins"]);
            var achievements = (await Api.Achievements.GetAsync(id)).Items;
            CollectionAssert.Contains(achievements.Select(a => a.AchievementId).ToList(), "first-win");
            Assert.AreEqual(0, (await Api.Counters.ResetAsync(id, "wins")).Value);

            var quest = await Api.Quests.ProgressAsync(id, "daily-battles", "battles", 3);
            Assert.IsTrue(quest.Completed);
            Assert.AreEqual(3, quest.Objectives.Single().Progress);
            var quests = await Api.Quests.GetAsync(id);
            CollectionAssert.Contains(quests.Completed.Select(q => q.QuestId).ToList(), "daily-battles");
            Assert.AreEqual(50, (await Api.Wallet.GetAsync(id)).Balances["coins"], "the quest's reward");
        }

        [Test]
        public async Task StoreCatalogSkuPurchaseReceipt()
        {
            string id = await NewPlayer("store");
            var catalog = (await Api.Store.CatalogAsync()).Items.Select(s => s.SkuId).ToList();
            CollectionAssert.IsSubsetOf(new[] { "potion-pack", "starter-bundle" }, catalog);
            var sku = await Api.Store.GetSkuAsync("potion-pack");
            Assert.AreEqual(100, sku.Price["coins"]);
            Assert.AreEqual(5, sku.Grants.Items.Single().Quantity);
            var broke = await TestServer.Throws<LudexException>(() => Api.Store.PurchaseAsync(id, "potion-pack"));
            Assert.AreEqual("insufficient-funds", broke.Slug);
            await Api.Wallet.CreditAsync(id, "coins", 150);
            var receipt = await Api.Store.PurchaseAsync(id, "potion-pack");
            Assert.AreEqual(50, receipt.Balances["coins"]);
            var again = await Api.Store.GetReceiptAsync(id, receipt.PurchaseId);
            Assert.AreEqual("potion-pack", again.Sku);
            var unknown = await TestServer.Throws<LudexException>(() => Api.Store.GetSkuAsync("no-such-sku"));
            Assert.AreEqual(404, unknown.Status);
        }

        [Test]
        public async Task BatchAppliesInOrderAndReplaysWithTheSameKeys()
        {
            string id = await NewPlayer("batch");
            var commands = new List<IDictionary<string, object>>
            {
                new Dictionary<string, object> { { "op", "xp" }, { "playerId", id }, { "idempotencyKey", id + "-xp" }, { "amount", 50 } },
                new Dictionary<string, object> { { "op", "credit" }, { "playerId", id }, { "idempotencyKey", id + "-c" }, { "currency", "coins" }, { "amount", 10 } },
                new Dictionary<string, object> { { "op", "debit" }, { "playerId", id }, { "currency", "coins" }, { "amount", 99 } },
            };
            var results = await Api.Commands.BatchAsync(commands);
            Assert.AreEqual(new[] { true, true, false }, results.Select(r => r.Ok).ToArray());
            Assert.AreEqual(409, results[2].Status);
            Assert.AreEqual("https://ludex.dev/problems/insufficient-funds", results[2].Problem.Type);
            Assert.IsFalse(commands[2].ContainsKey("idempotencyKey"), "the caller's command is not modified");
            var replay = await Api.Commands.BatchAsync(commands.Take(2));
            Assert.AreEqual(new[] { true, true }, replay.Select(r => r.Replayed).ToArray());
            Assert.AreEqual(10, (await Api.Wallet.GetAsync(id)).Balances["coins"]);
        }

        [Test]
        public async Task EventsListFollowsCursorsOverEveryPage()
        {
            string id = await NewPlayer("events");
            for (int i = 0; i < 3; i++) await Api.Wallet.CreditAsync(id, "coins", 1 + i);
            var first = await Api.Events.ListAsync(new EventQuery { PlayerId = id, Limit = 2 });
            Assert.AreEqual(2, first.Items.Count);
            Assert.IsNotNull(first.NextCursor);
            var all = await Api.Events.ListAllAsync(new EventQuery { PlayerId = id, Limit = 2 });
            Assert.AreEqual(new[] { "player.created", "wallet.credited", "wallet.credited", "wallet.credited" }, all.Select(e => e.Type).ToArray());
            Assert.AreEqual(all.Count, all.Select(e => e.Id).Distinct().Count());
            var credits = await Api.Events.ListAllAsync(new EventQuery { PlayerId = id, Types = new[] { "wallet.credited" } });
            Assert.AreEqual(new long[] { 1, 2, 3 }, credits.Select(e => e.Data.GetLong("amount")).ToArray());
        }

        [Test]
        public async Task ProblemAnswersMapToLudexException()
        {
            string id = await NewPlayer("problem");
            await Api.Wallet.CreditAsync(id, "coins", 10);
            var funds = await TestServer.Throws<LudexException>(() => Api.Wallet.DebitAsync(id, "coins", 11));
            Assert.AreEqual(409, funds.Status);
            Assert.AreEqual("insufficient-funds", funds.Slug);
            Assert.IsNotNullOrEmpty(funds.Detail);
            Assert.IsNotNullOrEmpty(funds.RequestId);
            Assert.AreEqual(409, funds.Problem.GetLong("status"));
            Assert.AreEqual("https://ludex.dev/problems/insufficient-funds", funds.Problem.GetString("type"));
            Assert.AreEqual(10, (await Api.Wallet.GetAsync(id)).Balances["coins"], "a refused debit changes nothing");

            var missing = await TestServer.Throws<LudexException>(() => Api.Players.AwardXpAsync(TestServer.NewPlayerId("nobody"), 5));
            Assert.AreEqual(404, missing.Status);
            Assert.AreEqual("player-not-found", missing.Slug);

            var invalid = await TestServer.Throws<LudexException>(() => Api.Wallet.CreditAsync(id, "coins", -5));
            Assert.AreEqual(422, invalid.Status);
            StringAssert.EndsWith("/" + invalid.Slug, invalid.Problem.GetString("type"));

            var unknownCurrency = await TestServer.Throws<LudexException>(() => Api.Wallet.CreditAsync(id, "rubies", 5));
            Assert.AreEqual("unknown-currency", unknownCurrency.Slug);
        }

        [Test]
        public async Task BadApiKeyIsAFinal401()
        {
            using (var stranger = TestServer.Client(o => o.ApiKey = "ldx_nope_nope"))
            {
                int retries = 0;
                stranger.Options.OnRetry = info => retries++;
                var refused = await TestServer.Throws<LudexException>(() => stranger.Players.GetAsync("anyone"));
                Assert.AreEqual(401, refused.Status);
                Assert.AreEqual(0, retries, "4xx other than 429 are never retried");
            }
        }
    }
}
