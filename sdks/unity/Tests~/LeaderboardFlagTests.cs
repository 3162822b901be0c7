using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>Leaderboards and feature flags against the demo economy: `high-score` takes submitted
    /// scores, `xp-all-time` follows XP; `newShop` is a 25 % rollout, `veteranOffer` a targeted flag.</summary>
    [TestFixture]
    public class LeaderboardFlagTests : ServerFixture
    {
        [Test]
        public async Task SubmitPageForEachAndAround()
        {
            var boards = await Api.Leaderboards.ListAsync();
            CollectionAssert.IsSubsetOf(new[] { "high-score", "weekly-wins", "xp-all-time" }, boards.Select(b => b.Id).ToArray());
            // Far above any other score of the run: these four are the board's top four.
            long baseScore = 7000000000000L + new Random().Next(1000000) * 10L;
            var players = new List<string>();
            for (int i = 0; i < 4; i++)
            {
                players.Add(await NewPlayer("board"));
                var result = await Api.Leaderboards.SubmitAsync("high-score", players[i], baseScore + i, new Dictionary<string, object> { { "run", i } });
                Assert.AreEqual(baseScore + i, result.Score);
                Assert.AreEqual(1, result.Rank, "each new best is the top score");
            }
            string key = LudexClient.NewIdempotencyKey();
            var first = await Api.Leaderboards.SubmitAsync("high-score", players[0], baseScore + 10, idempotencyKey: key);
            var again = await Api.Leaderboards.SubmitAsync("high-score", players[0], baseScore + 10, idempotencyKey: key);
            Assert.AreEqual(Json.Serialize(first.Raw), Json.Serialize(again.Raw), "a replay answers the first answer");
            var lower = await Api.Leaderboards.SubmitAsync("high-score", players[3], 1);
            Assert.AreEqual(baseScore + 3, lower.Score, "`best` keeps the better score");

            var expected = new[] { players[0], players[3], players[2], players[1] };
            var page = await Api.Leaderboards.PageAsync("high-score", limit: 2);
            Assert.AreEqual(first.PeriodId, page.Period.Id);
            Assert.AreEqual(expected.Take(2).ToArray(), page.Items.Select(e => e.PlayerId).ToArray());
            Assert.AreEqual(new long[] { 1, 2 }, page.Items.Select(e => e.Rank).ToArray());
            Assert.IsNotNull(page.NextCursor);
            var next = await Api.Leaderboards.PageAsync("high-score", cursor: page.NextCursor, limit: 2);
            Assert.AreEqual(new long[] { 3, 4 }, next.Items.Select(e => e.Rank).ToArray());

            var walked = new List<string>();
            await Api.Leaderboards.ForEachAsync("high-score", entry => { walked.Add(entry.PlayerId); return walked.Count < 4; }, limit: 3);
            Assert.AreEqual(expected, walked.ToArray());

            var standing = await Api.Leaderboards.AroundAsync("high-score", players[2], 1);
            Assert.AreEqual(3, standing.Rank);
            Assert.AreEqual(baseScore + 2, standing.Score);
            Assert.AreEqual(new[] { players[3], players[2], players[1] }, standing.Around.Select(e => e.PlayerId).ToArray());
            var top = await Api.Leaderboards.AroundAsync("high-score", players[0], 2);
            Assert.AreEqual(new long[] { 1, 2, 3 }, top.Around.Select(e => e.Rank).ToArray(), "nothing above the top");
        }

        [Test]
        public async Task EconomyFedBoardsAndRefusals()
        {
            string id = await NewPlayer("xpboard");
            var unranked = await TestServer.Throws<LudexException>(() => Api.Leaderboards.AroundAsync("xp-all-time", id));
            Assert.AreEqual(404, unranked.Status);
            Assert.AreEqual("not-ranked", unranked.Slug);
            await Api.Players.AwardXpAsync(id, 321);
            Assert.AreEqual(321, (await Api.Leaderboards.AroundAsync("xp-all-time", id)).Score, "read-your-writes");
            var refused = await TestServer.Throws<LudexException>(() => Api.Leaderboards.SubmitAsync("xp-all-time", id, 5));
            Assert.AreEqual(409, refused.Status);
            Assert.AreEqual("not-submittable", refused.Slug);
            var missing = await TestServer.Throws<LudexException>(() => Api.Leaderboards.PageAsync("no-such-board"));
            Assert.AreEqual("leaderboard-not-found", missing.Slug);
            var previous = await Api.Leaderboards.PageAsync("weekly-wins", period: "previous");
            Assert.AreEqual(0, previous.Items.Count, "last week's archived board: empty on a new server");
            Assert.IsNotNull(previous.Period.StartsAt);
        }

        /// <summary>The engine's bucket (engine/flags.py): sha256("flag/player")[0:8] big-endian mod 10,000.</summary>
        private static int Bucket(string flagId, string playerId)
        {
            using (var sha = SHA256.Create())
            {
                byte[] digest = sha.ComputeHash(Encoding.UTF8.GetBytes(flagId + "/" + playerId));
                ulong value = 0;
                for (int i = 0; i < 8; i++) value = (value << 8) | digest[i];
                return (int)(value % 10000UL);
            }
        }

        [Test]
        public async Task FlagsAreEvaluatedForThePlayer()
        {
            for (int i = 0; i < 6; i++)
            {
                string id = await NewPlayer("flags");
                var flags = await Api.Flags.GetAsync(id);
                Assert.AreEqual(new[] { "doubleXp", "newShop", "veteranOffer" }, flags.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray());
                Assert.IsFalse(flags.GetBool("doubleXp", true));
                Assert.AreEqual("none", flags.GetString("veteranOffer"));
                Assert.AreEqual(Bucket("newShop", id) < 2500, flags.GetBool("newShop"), "the 25 % rollout, bucketed by id");
            }
            var missing = await TestServer.Throws<LudexException>(() => Api.Flags.GetAsync(TestServer.NewPlayerId("nobody")));
            Assert.AreEqual(404, missing.Status);
            Assert.AreEqual("player-not-found", missing.Slug);
        }
    }
}
