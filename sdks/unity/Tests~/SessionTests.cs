using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>
    /// Player sessions against the real server: device sign-in, `me`, refresh rotation kept by the
    /// storage hook, one refresh after a 401, and the server's refusals as typed problems.
    /// </summary>
    [TestFixture]
    public class SessionTests : ServerFixture
    {
        /// <summary>The in-memory storage, recording what the SDK asked of it.</summary>
        private sealed class RecordingStorage : ISessionStorage
        {
            public readonly List<string> Saved = new List<string>();
            public int Cleared;
            private string _token;
            public string Load() { return _token; }
            public void Save(string refreshToken) { Saved.Add(refreshToken); _token = refreshToken; }
            public void Clear() { Cleared++; _token = null; }
        }

        /// <summary>Sends the first <c>forge</c> bearer calls with a forged token, as an expired one would go.</summary>
        private sealed class ForgingTransport : IHttpTransport
        {
            private readonly HttpClientTransport _inner = new HttpClientTransport();
            public int Forge;
            public int BearerCalls;
            public async Task<HttpResponseData> SendAsync(HttpRequestData request, CancellationToken cancellationToken)
            {
                if (request.Headers.ContainsKey("Authorization"))
                {
                    BearerCalls++;
                    if (Forge > 0)
                    {
                        Forge--;
                        var forged = new HttpRequestData { Method = request.Method, Url = request.Url, Body = request.Body };
                        foreach (var header in request.Headers) forged.Headers[header.Key] = header.Value;
                        forged.Headers["Authorization"] = "Bearer forged.token.value";
                        return await _inner.SendAsync(forged, cancellationToken);
                    }
                }
                return await _inner.SendAsync(request, cancellationToken);
            }
        }

        private static LudexSession NewSession(ISessionStorage storage = null, IHttpTransport transport = null)
        {
            var options = LudexOptions.ForSessionFromEnvironment();
            options.Transport = transport;
            return new LudexSession(options, storage);
        }

        private static string NewDeviceId()
        {
            return "device-" + Guid.NewGuid().ToString("N");
        }

        [Test]
        public async Task DeviceSignInCreatesThePlayerOnceAndReadsMe()
        {
            var storage = new RecordingStorage();
            string device = NewDeviceId();
            using (var session = NewSession(storage))
            using (var again = NewSession())
            using (var game = new LudexClient(new LudexOptions { Session = session }))
            {
                Assert.IsTrue(await session.SignInWithDeviceAsync(device, "ada"), "created on first use");
                Assert.AreEqual(1, storage.Saved.Count, "the refresh token went to the storage");
                Assert.IsFalse(await again.SignInWithDeviceAsync(device, "ada"));
                Assert.AreEqual(session.PlayerId, again.PlayerId);
                Assert.AreEqual(session.PlayerId, (await game.Players.GetAsync("me")).PlayerId);
            }
        }

        [Test]
        public async Task RefreshRotatesAndASpentTokenIsRefusedAsReused()
        {
            var storage = new RecordingStorage();
            using (var session = NewSession(storage))
            {
                await session.SignInWithDeviceAsync(NewDeviceId());
                string spent = storage.Saved[0];
                await session.RefreshAsync();
                Assert.AreEqual(2, storage.Saved.Count);
                Assert.AreNotEqual(spent, storage.Saved[1], "a refresh hands out a new refresh token");

                var stolen = new MemorySessionStorage();
                stolen.Save(spent);
                using (var thief = NewSession(stolen))
                {
                    Assert.IsFalse(await thief.RestoreAsync(), "a spent token restores nothing");
                    Assert.IsNull(stolen.Load(), "the refused token is cleared");
                }
                var reused = await TestServer.Throws<LudexException>(() => session.RefreshAsync());
                Assert.AreEqual(401, reused.Status, "reuse ended every session of the player");
                Assert.IsFalse(session.IsSignedIn);
                Assert.AreEqual(1, storage.Cleared);
            }
        }

        [Test]
        public async Task RestoreSignsInAgainFromTheStoredToken()
        {
            var storage = new MemorySessionStorage();
            string playerId;
            using (var first = NewSession(storage))
            {
                await first.SignInWithDeviceAsync(NewDeviceId());
                playerId = first.PlayerId;
            }
            using (var nextRun = NewSession(storage))
            using (var game = new LudexClient(new LudexOptions { Session = nextRun }))
            {
                Assert.IsTrue(await nextRun.RestoreAsync());
                Assert.AreEqual(playerId, nextRun.PlayerId);
                Assert.AreEqual(playerId, (await game.Players.GetAsync("me")).PlayerId);
            }
        }

        [Test]
        public async Task A401RefreshesOnceAndSendsTheCallAgain()
        {
            var storage = new RecordingStorage();
            var transport = new ForgingTransport { Forge = 1 };
            using (var session = NewSession(storage))
            using (var game = new LudexClient(new LudexOptions { Session = session, Transport = transport }))
            {
                await session.SignInWithDeviceAsync(NewDeviceId());
                Assert.AreEqual(session.PlayerId, (await game.Players.GetAsync("me")).PlayerId);
                Assert.AreEqual(2, transport.BearerCalls, "one refused call, one retried");
                Assert.AreEqual(2, storage.Saved.Count, "the 401 caused one refresh");

                transport.Forge = 2; // the retry is refused too: the server's problem, no loop
                var refused = await TestServer.Throws<LudexException>(() => game.Players.GetAsync("me"));
                Assert.AreEqual(401, refused.Status);
                Assert.AreEqual(4, transport.BearerCalls);
                Assert.AreEqual(3, storage.Saved.Count, "one refresh per call");
            }
        }

        [Test]
        public async Task TheTokenIsRefreshedBeforeItExpires()
        {
            var storage = new RecordingStorage();
            using (var session = NewSession(storage))
            using (var game = new LudexClient(new LudexOptions { Session = session }))
            {
                session.RefreshBefore = TimeSpan.FromDays(10); // longer than any token lives: every call refreshes first
                await session.SignInWithDeviceAsync(NewDeviceId());
                await game.Players.GetAsync("me");
                Assert.AreEqual(2, storage.Saved.Count);
            }
        }

        [Test]
        public async Task ASessionMayPurchaseButNotAwardNorTouchAnotherPlayer()
        {
            using (var session = NewSession())
            using (var game = new LudexClient(new LudexOptions { Session = session }))
            {
                await session.SignInWithDeviceAsync(NewDeviceId());
                await Api.Wallet.CreditAsync(session.PlayerId, "coins", 150); // the game server's job
                var receipt = await game.Store.PurchaseAsync("me", "potion-pack");
                Assert.AreEqual(receipt.PurchaseId, (await game.Store.GetReceiptAsync("me", receipt.PurchaseId)).PurchaseId);

                var award = await TestServer.Throws<LudexException>(() => game.Players.AwardXpAsync("me", 1000000));
                Assert.AreEqual(403, award.Status);
                Assert.AreEqual("not-client-callable", award.Slug);
                string other = await NewPlayer("victim");
                var theft = await TestServer.Throws<LudexException>(() => game.Wallet.GetAsync(other));
                Assert.AreEqual(403, theft.Status);
                Assert.AreEqual("not-your-player", theft.Slug);
                Assert.AreEqual(50, (await Api.Wallet.GetAsync(session.PlayerId)).Balances["coins"], "only the purchase changed the wallet");
            }
        }

        [Test]
        public async Task LogoutEndsTheSession()
        {
            var storage = new RecordingStorage();
            using (var session = NewSession(storage))
            using (var game = new LudexClient(new LudexOptions { Session = session }))
            {
                await session.SignInWithDeviceAsync(NewDeviceId());
                string refreshToken = storage.Saved[0];
                await session.LogoutAsync();
                Assert.IsFalse(session.IsSignedIn);
                Assert.IsNull(storage.Load());
                var replay = new MemorySessionStorage();
                replay.Save(refreshToken);
                using (var again = NewSession(replay)) Assert.IsFalse(await again.RestoreAsync());
                var signedOut = await TestServer.Throws<LudexException>(() => game.Players.GetAsync("me"));
                Assert.AreEqual("not-signed-in", signedOut.Slug);
            }
        }

        [Test]
        public async Task RealtimeWithASessionHearsItsOwnPlayersEventsOnly()
        {
            using (var session = NewSession())
            using (var game = new LudexClient(new LudexOptions { Session = session }))
            {
                await session.SignInWithDeviceAsync(NewDeviceId());
                string other = await NewPlayer("neighbour");
                var heard = new List<LudexEvent>();
                var realtime = game.Realtime(new[] { "wallet.*" });
                realtime.EventReceived += e => { lock (heard) heard.Add(e); };
                await realtime.StartAsync();
                try
                {
                    await Api.Wallet.CreditAsync(other, "coins", 7); // not this player's: never heard
                    await Api.Wallet.CreditAsync(session.PlayerId, "coins", 5);
                    Assert.IsTrue(await TestServer.Eventually(() => { lock (heard) return heard.Count > 0; }, TimeSpan.FromSeconds(15)));
                }
                finally
                {
                    await realtime.StopAsync();
                }
                lock (heard)
                {
                    CollectionAssert.AreEqual(new[] { session.PlayerId }, heard.Select(e => e.PlayerId).Distinct().ToArray());
                    Assert.AreEqual(5, heard[0].Data.GetLong("amount"));
                }
            }
        }

        [Test]
        public async Task ASessionLinksAnotherDeviceAndUnlinksIt()
        {
            using (var session = NewSession())
            using (var tabletSession = NewSession())
            using (var game = new LudexClient(new LudexOptions { Session = session }))
            {
                await session.SignInWithDeviceAsync(NewDeviceId());
                string tablet = NewDeviceId();
                await game.Devices.LinkAsync(tablet);
                Assert.IsFalse(await tabletSession.SignInWithDeviceAsync(tablet));
                Assert.AreEqual(session.PlayerId, tabletSession.PlayerId);
                await game.Devices.UnlinkAsync(tablet);
                Assert.IsTrue(await tabletSession.SignInWithDeviceAsync(tablet), "an unlinked device signs in as a new player");
                Assert.AreNotEqual(session.PlayerId, tabletSession.PlayerId);
                var keyed = await TestServer.Throws<LudexException>(() => Api.Devices.LinkAsync(NewDeviceId()));
                Assert.AreEqual(403, keyed.Status, "linking is the player's own act, never a key's");
            }
        }

        [Test]
        public async Task AForgedCustomTokenIsRefused()
        {
            using (var session = NewSession())
            {
                var forged = await TestServer.Throws<LudexException>(() => session.SignInWithCustomTokenAsync("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ."));
                Assert.AreEqual(401, forged.Status);
                Assert.AreEqual("invalid-token", forged.Slug);
            }
        }
    }
}
