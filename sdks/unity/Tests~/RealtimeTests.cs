using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>The realtime socket of the real server: delivery, refusal, and resume across a restart.</summary>
    [TestFixture]
    public class RealtimeTests
    {
        private sealed class Collector
        {
            public readonly List<LudexEvent> Events = new List<LudexEvent>();
            public readonly List<LudexException> Errors = new List<LudexException>();

            public List<LudexEvent> Of(string playerId)
            {
                lock (Events) return Events.Where(e => e.PlayerId == playerId).ToList();
            }

            public void Attach(LudexRealtime realtime)
            {
                realtime.EventReceived += e => { lock (Events) Events.Add(e); };
                realtime.Error += e => { lock (Errors) Errors.Add(e); };
            }
        }

        [Test]
        public async Task DeliversTheEventsOfAnAward()
        {
            using (var ludex = TestServer.Client())
            {
                var seen = new Collector();
                var realtime = ludex.Realtime(new[] { "player.*" });
                seen.Attach(realtime);
                await realtime.StartAsync();
                try
                {
                    Assert.AreEqual(RealtimeState.Subscribed, realtime.State);
                    string id = TestServer.NewPlayerId("rt");
                    await ludex.Players.CreateAsync(id, id);
                    await ludex.Players.AwardXpAsync(id, 460);
                    Assert.IsTrue(await TestServer.Eventually(() => seen.Of(id).Any(e => e.Type == "player.level.updated"), TimeSpan.FromSeconds(15)),
                        "the award's events arrive");
                    var types = seen.Of(id).Select(e => e.Type).ToList();
                    CollectionAssert.IsSubsetOf(new[] { "player.created", "player.xp.added", "player.levelup", "player.level.updated" }, types);
                    Assert.AreEqual(460, seen.Of(id).First(e => e.Type == "player.xp.added").Data.GetLong("amount"));
                    Assert.AreEqual(seen.Of(id).Last().Id, realtime.LastEventId);
                }
                finally
                {
                    await realtime.StopAsync();
                }
                Assert.AreEqual(RealtimeState.Closed, realtime.State);
            }
        }

        [Test]
        public async Task RefusedCredentialsAreFinal()
        {
            using (var stranger = TestServer.Client(o => o.ApiKey = "ldx_nope_nope"))
            {
                var seen = new Collector();
                var realtime = stranger.Realtime(new[] { "*" });
                seen.Attach(realtime);
                var refused = await TestServer.Throws<LudexException>(() => realtime.StartAsync());
                Assert.AreEqual(403, refused.Status);
                Assert.AreEqual("invalid-credentials", refused.Slug);
                await Task.Delay(1000);
                Assert.AreEqual(RealtimeState.Closed, realtime.State, "no reconnect after 4403");
                Assert.AreEqual(0, realtime.Subscriptions);
                Assert.AreEqual(1, seen.Errors.Count);
            }
        }

        /// <summary>
        /// Real sockets to the real server, with two faults a test can trigger: drop the current
        /// connection, and make the next subscription ask for more than it should (an older
        /// `since`), as a replica replaying from an earlier position would.
        /// </summary>
        private sealed class FaultySocketTransport : IWebSocketTransport
        {
            private readonly ClientWebSocketTransport _real = new ClientWebSocketTransport();
            public volatile IWebSocketConnection Current;
            public volatile string RewindTo;
            public volatile bool Deaf; // swallow every incoming message: a socket that went silent
            public int PingsSent;
            public int PongsReceived;

            public async Task<IWebSocketConnection> ConnectAsync(Uri uri, IDictionary<string, string> headers, System.Threading.CancellationToken cancellationToken)
            {
                var connection = new Rewinding(await _real.ConnectAsync(uri, headers, cancellationToken), this);
                Deaf = false;
                Current = connection;
                return connection;
            }

            private sealed class Rewinding : IWebSocketConnection
            {
                private readonly IWebSocketConnection _inner;
                private readonly FaultySocketTransport _owner;

                public Rewinding(IWebSocketConnection inner, FaultySocketTransport owner) { _inner = inner; _owner = owner; }

                public int? CloseCode { get { return _inner.CloseCode; } }
                public async Task<string> ReceiveAsync(System.Threading.CancellationToken token)
                {
                    while (true)
                    {
                        string message = await _inner.ReceiveAsync(token);
                        if (message == null || !_owner.Deaf)
                        {
                            if (message != null && message.Contains("\"pong\"")) System.Threading.Interlocked.Increment(ref _owner.PongsReceived);
                            return message;
                        }
                    }
                }
                public Task CloseAsync() { return _inner.CloseAsync(); }
                public void Abort() { _inner.Abort(); }
                public void Dispose() { _inner.Dispose(); }

                public Task SendAsync(string message, System.Threading.CancellationToken token)
                {
                    var parsed = Json.ParseObject(message);
                    if (parsed.GetString("action") == "ping") System.Threading.Interlocked.Increment(ref _owner.PingsSent);
                    string rewind = _owner.RewindTo;
                    if (rewind != null && parsed.GetString("action") == "subscribe")
                    {
                        parsed["since"] = rewind;
                        _owner.RewindTo = null;
                        message = Json.Serialize(parsed);
                    }
                    return _inner.SendAsync(message, token);
                }
            }
        }

        [Test]
        public async Task ReconnectsAfterADropAndNeverDeliversAnIdTwice()
        {
            var sockets = new FaultySocketTransport();
            using (var ludex = TestServer.Client(o => o.WebSocketTransport = sockets))
            {
                string id = TestServer.NewPlayerId("dedup");
                await ludex.Players.CreateAsync(id, id);
                var seen = new Collector();
                var realtime = ludex.Realtime(new[] { "wallet.*" });
                seen.Attach(realtime);
                await realtime.StartAsync();
                try
                {
                    for (int amount = 1; amount <= 3; amount++) await ludex.Wallet.CreditAsync(id, "coins", amount);
                    Assert.IsTrue(await TestServer.Eventually(() => seen.Of(id).Count == 3, TimeSpan.FromSeconds(15)));
                    sockets.RewindTo = seen.Of(id)[0].Id; // the server will replay credits 2 and 3
                    sockets.Current.Abort();
                    Assert.IsTrue(await TestServer.Eventually(() => realtime.Subscriptions == 2, TimeSpan.FromSeconds(15)), "reconnected by itself");
                    Assert.IsNull(sockets.RewindTo, "the resubscription went out (with the older since)");
                    await ludex.Wallet.CreditAsync(id, "coins", 4);
                    Assert.IsTrue(await TestServer.Eventually(() => seen.Of(id).Count >= 4, TimeSpan.FromSeconds(15)));
                    await Task.Delay(500);
                }
                finally
                {
                    await realtime.StopAsync();
                }
                Assert.AreEqual(new long[] { 1, 2, 3, 4 }, seen.Of(id).Select(e => e.Data.GetLong("amount")).ToArray(), "replayed ids were dropped");
            }
        }

        [Test]
        public async Task PingsKeepTheSocketCheckedAndASilentOneIsReplaced()
        {
            var sockets = new FaultySocketTransport();
            using (var ludex = TestServer.Client(o => o.WebSocketTransport = sockets))
            {
                string id = TestServer.NewPlayerId("silent");
                await ludex.Players.CreateAsync(id, id);
                var seen = new Collector();
                var realtime = ludex.Realtime(new[] { "wallet.*" });
                realtime.PingInterval = TimeSpan.FromMilliseconds(400);
                seen.Attach(realtime);
                await realtime.StartAsync();
                try
                {
                    Assert.IsTrue(await TestServer.Eventually(() => Volatile.Read(ref sockets.PongsReceived) >= 2, TimeSpan.FromSeconds(15)), "pings are sent and answered");
                    Assert.GreaterOrEqual(Volatile.Read(ref sockets.PingsSent), 2);
                    int before = realtime.Subscriptions;
                    sockets.Deaf = true; // the socket stays open but nothing arrives any more
                    Assert.IsTrue(await TestServer.Eventually(() => realtime.Subscriptions > before, TimeSpan.FromSeconds(15)), "the silent socket was dropped and replaced");
                    await ludex.Wallet.CreditAsync(id, "coins", 7);
                    Assert.IsTrue(await TestServer.Eventually(() => seen.Of(id).Count == 1, TimeSpan.FromSeconds(15)), "events flow on the new socket");
                }
                finally
                {
                    await realtime.StopAsync();
                }
            }
        }

        [Test]
        public async Task ResumesFromAStoredIdWithExactlyWhatWasMissed()
        {
            using (var ludex = TestServer.Client())
            {
                string id = TestServer.NewPlayerId("since");
                await ludex.Players.CreateAsync(id, id);
                var first = new Collector();
                var session = ludex.Realtime(new[] { "wallet.*" });
                first.Attach(session);
                await session.StartAsync();
                await ludex.Wallet.CreditAsync(id, "coins", 1);
                Assert.IsTrue(await TestServer.Eventually(() => first.Of(id).Count == 1, TimeSpan.FromSeconds(15)));
                await session.StopAsync();
                string stored = session.LastEventId; // what a game would keep across sessions

                await ludex.Wallet.CreditAsync(id, "coins", 2); // nobody listening
                await ludex.Wallet.CreditAsync(id, "coins", 3);

                var second = new Collector();
                var resumed = ludex.Realtime(new[] { "wallet.*" }, since: stored);
                second.Attach(resumed);
                await resumed.StartAsync();
                try
                {
                    Assert.IsTrue(await TestServer.Eventually(() => second.Of(id).Count >= 2, TimeSpan.FromSeconds(15)), "the missed events are replayed");
                    await ludex.Wallet.CreditAsync(id, "coins", 4);
                    Assert.IsTrue(await TestServer.Eventually(() => second.Of(id).Count >= 3, TimeSpan.FromSeconds(15)), "then live ones");
                    await Task.Delay(500);
                }
                finally
                {
                    await resumed.StopAsync();
                }
                Assert.AreEqual(new long[] { 2, 3, 4 }, second.Of(id).Select(e => e.Data.GetLong("amount")).ToArray());
            }
        }

        [Test]
        public async Task ResumesAcrossAServerRestartWithEveryEventOnce()
        {
            using (var ludex = TestServer.Client())
            {
                string id = TestServer.NewPlayerId("resume");
                await ludex.Players.CreateAsync(id, id);
                var seen = new Collector();
                var realtime = ludex.Realtime(new[] { "wallet.*" });
                seen.Attach(realtime);
                await realtime.StartAsync();
                try
                {
                    // before the restart
                    await ludex.Wallet.CreditAsync(id, "coins", 1);
                    await ludex.Wallet.CreditAsync(id, "coins", 2);
                    Assert.IsTrue(await TestServer.Eventually(() => seen.Of(id).Count == 2, TimeSpan.FromSeconds(15)), "events before the restart");

                    var restartClock = System.Diagnostics.Stopwatch.StartNew();
                    await Task.Run(() => TestServer.Restart());
                    Console.WriteLine("server restart took {0:F1} s", restartClock.Elapsed.TotalSeconds);

                    // while the subscription is still down (it is backing off, up to 5 s): only `since` brings these
                    await ludex.Wallet.CreditAsync(id, "coins", 3);
                    await ludex.Wallet.CreditAsync(id, "coins", 4);
                    Assert.IsTrue(await TestServer.Eventually(() => realtime.Subscriptions >= 2, TimeSpan.FromSeconds(30)), "the subscription came back by itself");

                    // after it is back
                    await ludex.Wallet.CreditAsync(id, "coins", 5);
                    await ludex.Wallet.CreditAsync(id, "coins", 6);
                    Assert.IsTrue(await TestServer.Eventually(() => seen.Of(id).Count >= 6, TimeSpan.FromSeconds(30)), "events during and after the restart");
                    await Task.Delay(1000); // room for a duplicate to show up
                }
                finally
                {
                    await realtime.StopAsync();
                }
                var delivered = seen.Of(id);
                Assert.AreEqual(new long[] { 1, 2, 3, 4, 5, 6 }, delivered.Select(e => e.Data.GetLong("amount")).ToArray(), "each once, in order");
                var stored = await ludex.Events.ListAllAsync(new EventQuery { PlayerId = id, Types = new[] { "wallet.credited" } });
                Assert.AreEqual(stored.Select(e => e.Id).ToArray(), delivered.Select(e => e.Id).ToArray(), "the same ids as the event store");
                lock (seen.Events) Assert.AreEqual(seen.Events.Count, seen.Events.Select(e => e.Id).Distinct().Count(), "no id delivered twice");
            }
        }
    }

    /// <summary>The console examples, run as users run them.</summary>
    [TestFixture]
    public class ExampleTests
    {
        private static string Example(string name)
        {
            TestServer.Require();
            string build = Path.GetDirectoryName(typeof(ExampleTests).Assembly.Location);
            string exe = Path.Combine(build, name);
            Assert.IsTrue(File.Exists(exe), exe + " is built by `make -C sdks/unity test`");
            var result = TestServer.Run("mono", "\"" + exe + "\"");
            Assert.AreEqual(0, result.Item1, result.Item2);
            return result.Item2;
        }

        [Test]
        public void QuickstartPrintsLevel4Xp460()
        {
            Assert.AreEqual("level=4 xp=460", Example("Quickstart.exe").Trim());
        }

        [Test]
        public void RealtimeExamplePrintsTheEventsOfOneAward()
        {
            var lines = Example("Realtime.exe").Trim().Split('\n').Select(l => l.Split(' ')[0]).ToList();
            CollectionAssert.Contains(lines, "player.xp.added");
            CollectionAssert.Contains(lines, "player.levelup");
            CollectionAssert.DoesNotContain(lines, "player.created");
        }

        [Test]
        public void SessionExampleSignsInReadsMeAndIsRefusedAnAward()
        {
            var lines = Example("Session.exe").Trim().Split('\n');
            StringAssert.StartsWith("signed in as ", lines[0]);
            StringAssert.EndsWith(" (new player)", lines[0]);
            Assert.AreEqual(new[] { "level=1 xp=0", "xp award refused: 403 not-client-callable" }, lines.Skip(1).ToArray());
        }
    }
}
