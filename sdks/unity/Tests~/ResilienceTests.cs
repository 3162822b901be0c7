using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>
    /// Retries through a real misbehaving network hop (<see cref="FaultProxy"/>) in front of the
    /// real server, and rate limits from the server itself.
    /// </summary>
    [TestFixture]
    public class ResilienceTests : ServerFixture
    {
        [Test]
        public async Task AwardRetriedAfterTheConnectionDiesLandsExactlyOnce()
        {
            string id = await NewPlayer("drop");
            var retries = new List<RetryInfo>();
            using (var proxy = new FaultProxy(TestServer.Options().BaseUrl, FaultProxy.DropAfterForward()))
            using (var viaProxy = TestServer.Client(o => { o.BaseUrl = proxy.BaseUrl; o.OnRetry = retries.Add; }))
            {
                var award = await viaProxy.Players.AwardXpAsync(id, 460, "flaky network");
                Assert.AreEqual(460, award.Xp);
                Assert.AreEqual(4, award.Level);
                var awards = proxy.Requests.Where(r => r.Path.EndsWith("/xp")).ToList();
                Assert.AreEqual(2, awards.Count, "the dropped attempt and one retry");
                Assert.IsNotNullOrEmpty(awards[0].Header("Idempotency-Key"));
                Assert.AreEqual(awards[0].Header("Idempotency-Key"), awards[1].Header("Idempotency-Key"), "a retry reuses the key");
                Assert.AreEqual(1, retries.Count);
                Assert.AreEqual(0, retries[0].Status, "a network error, not an HTTP status");
            }
            Assert.AreEqual(460, (await Api.Players.GetProgressionAsync(id)).Xp, "awarded once, not twice");
            var xpEvents = await Api.Events.ListAllAsync(new EventQuery { PlayerId = id, Types = new[] { "player.xp.added" } });
            Assert.AreEqual(1, xpEvents.Count, "one award in the event store");
        }

        [Test]
        public async Task Status503IsRetriedWithTheSameKeyAfterRetryAfter()
        {
            string id = await NewPlayer("unavailable");
            var retries = new List<RetryInfo>();
            using (var proxy = new FaultProxy(TestServer.Options().BaseUrl, FaultProxy.Respond(503, "1")))
            using (var viaProxy = TestServer.Client(o => { o.BaseUrl = proxy.BaseUrl; o.OnRetry = retries.Add; }))
            {
                var clock = Stopwatch.StartNew();
                var credit = await viaProxy.Wallet.CreditAsync(id, "coins", 25);
                Assert.AreEqual(25, credit.Balance);
                Assert.GreaterOrEqual(clock.Elapsed.TotalSeconds, 0.95, "Retry-After: 1 is a minimum wait");
                var keys = proxy.Requests.Select(r => r.Header("Idempotency-Key")).ToList();
                Assert.AreEqual(2, keys.Count);
                Assert.AreEqual(keys[0], keys[1]);
                Assert.AreEqual(TimeSpan.FromSeconds(1), retries.Single().RetryAfter);
            }
            Assert.AreEqual(25, (await Api.Wallet.GetAsync(id)).Balances["coins"]);
        }

        [Test]
        public async Task Status500IsNotRetried()
        {
            string id = await NewPlayer("broken");
            using (var proxy = new FaultProxy(TestServer.Options().BaseUrl, FaultProxy.Respond(500)))
            using (var viaProxy = TestServer.Client(o => o.BaseUrl = proxy.BaseUrl))
            {
                var error = await TestServer.Throws<LudexException>(() => viaProxy.Wallet.CreditAsync(id, "coins", 25));
                Assert.AreEqual(500, error.Status);
                Assert.AreEqual("injected-by-proxy", error.Slug);
                Assert.AreEqual(1, proxy.Requests.Count, "one attempt only");
            }
        }

        [Test]
        public async Task UnreachableServerFailsAsNetworkErrorWithinTheBudget()
        {
            var retries = new List<RetryInfo>();
            string deadUrl;
            using (var proxy = new FaultProxy(TestServer.Options().BaseUrl)) deadUrl = proxy.BaseUrl; // a port nobody listens on now
            using (var nowhere = TestServer.Client(o =>
            {
                o.BaseUrl = deadUrl;
                o.Retry = new RetryPolicy { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(50) };
                o.OnRetry = retries.Add;
            }))
            {
                var error = await TestServer.Throws<LudexException>(() => nowhere.Players.GetAsync("anyone"));
                Assert.AreEqual(0, error.Status);
                Assert.AreEqual("network-error", error.Slug);
                Assert.AreEqual(2, retries.Count, "3 attempts = 2 retries");
            }
        }

        [Test]
        public async Task RateLimitedCallsWaitForRetryAfterThenSucceed()
        {
            string id = await NewPlayer("limited");
            string limitedKey = await Backoffice.CreateApiKey("sdk-unity-429", 1);
            var retries = new List<RetryInfo>();
            using (var limited = TestServer.Client(o => { o.ApiKey = limitedKey; o.OnRetry = retries.Add; }))
            {
                for (int i = 0; i < 5; i++) await limited.Wallet.CreditAsync(id, "coins", 1);
            }
            Assert.Greater(retries.Count, 0, "1 request/s (burst 2): five calls must meet a 429");
            foreach (var retry in retries)
            {
                Assert.AreEqual(429, retry.Status);
                Assert.IsTrue(retry.RetryAfter.HasValue, "the server sends Retry-After");
                Assert.GreaterOrEqual(retry.Delay, retry.RetryAfter.Value, "Retry-After is the minimum wait");
            }
            Assert.AreEqual(5, (await Api.Wallet.GetAsync(id)).Balances["coins"], "each call landed once");
        }

        [Test]
        public async Task RateLimitedWithoutRetriesRaisesRateLimited()
        {
            string id = await NewPlayer("norety");
            string limitedKey = await Backoffice.CreateApiKey("sdk-unity-429-noretry", 1);
            using (var limited = TestServer.Client(o => { o.ApiKey = limitedKey; o.Retry = RetryPolicy.None; }))
            {
                LudexException refused = null;
                for (int i = 0; i < 6 && refused == null; i++)
                {
                    try
                    {
                        await limited.Players.GetAsync(id);
                    }
                    catch (LudexException error)
                    {
                        refused = error;
                    }
                }
                Assert.IsNotNull(refused, "six quick calls at 1/s must be refused once");
                Assert.AreEqual(429, refused.Status);
                Assert.AreEqual("rate-limited", refused.Slug);
            }
        }
    }
}
