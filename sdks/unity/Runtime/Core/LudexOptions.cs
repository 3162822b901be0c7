using System;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    /// <summary>
    /// How a client retries: full-jitter exponential backoff, <c>Retry-After</c> as a floor, and two
    /// budgets (attempts and total time) so a game never waits on a dead server for ever.
    /// </summary>
    public sealed class RetryPolicy
    {
        public int MaxAttempts = 5;
        public TimeSpan BaseDelay = TimeSpan.FromMilliseconds(200);
        public TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
        public TimeSpan MaxElapsed = TimeSpan.FromSeconds(30);

        /// <summary>One attempt only: every failure surfaces at once (e.g. 429 as <c>rate-limited</c>).</summary>
        public static RetryPolicy None { get { return new RetryPolicy { MaxAttempts = 1 }; } }

        /// <summary>The full-jitter wait before retry number <paramref name="retry"/> (1-based).</summary>
        public TimeSpan Backoff(int retry, Random random)
        {
            double ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, retry - 1)));
            double sample;
            lock (random) sample = random.NextDouble();
            return TimeSpan.FromMilliseconds(ceiling * sample);
        }
    }

    /// <summary>What a client needs to reach one project of one tenant.</summary>
    public sealed class LudexOptions
    {
        public string BaseUrl;
        public string TenantId;
        public string ProjectId;
        /// <summary>A game server's credential; acts on every player of the project. Never ship it in a game client.</summary>
        public string ApiKey;
        /// <summary>
        /// A game client's credential instead of <see cref="ApiKey"/>: a signed-in player's session.
        /// Its player is <c>"me"</c> in any call; the server refuses other players (403
        /// <c>not-your-player</c>) and ops the economy's client policy does not allow (403
        /// <c>not-client-callable</c>). BaseUrl, TenantId and ProjectId default to the session's.
        /// </summary>
        public LudexSession Session;

        /// <summary>Per attempt; a timed-out attempt counts as a network error and is retried.</summary>
        public TimeSpan Timeout = TimeSpan.FromSeconds(10);

        public RetryPolicy Retry = new RetryPolicy();

        /// <summary>HTTP transport; null means <see cref="HttpClientTransport"/> (Unity: UnityWebRequestTransport).</summary>
        public IHttpTransport Transport;

        /// <summary>WebSocket transport for realtime; null means <see cref="ClientWebSocketTransport"/>.</summary>
        public IWebSocketTransport WebSocketTransport;

        /// <summary>
        /// How waits happen. Task.Delay by default; hosts without threads (Unity WebGL) plug in a
        /// frame-driven delay.
        /// </summary>
        public Func<TimeSpan, CancellationToken, Task> Delay;

        /// <summary>Called before each retry with the attempt that failed, the wait, and why: for logs and tests.</summary>
        public Action<RetryInfo> OnRetry;

        /// <summary>Reads the four LUDEX_* variables the examples and tests use.</summary>
        public static LudexOptions FromEnvironment()
        {
            return new LudexOptions
            {
                BaseUrl = Required("LUDEX_BASE_URL"),
                TenantId = Required("LUDEX_TENANT_ID"),
                ProjectId = Required("LUDEX_PROJECT_ID"),
                ApiKey = Required("LUDEX_API_KEY"),
            };
        }

        private static string Required(string name)
        {
            string value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value)) throw new InvalidOperationException(name + " is not set");
            return value;
        }

        /// <summary>The options of a player session's client: the three LUDEX_* ids, no key.</summary>
        public static LudexOptions ForSessionFromEnvironment()
        {
            return new LudexOptions
            {
                BaseUrl = Required("LUDEX_BASE_URL"),
                TenantId = Required("LUDEX_TENANT_ID"),
                ProjectId = Required("LUDEX_PROJECT_ID"),
            };
        }

        internal LudexOptions Validated(bool anonymous = false)
        {
            if (Session != null)
            {
                if (!string.IsNullOrEmpty(ApiKey)) throw new ArgumentException("LudexOptions: a key or a session, not both");
                if (string.IsNullOrEmpty(BaseUrl)) BaseUrl = Session.Options.BaseUrl;
                if (string.IsNullOrEmpty(TenantId)) TenantId = Session.Options.TenantId;
                if (string.IsNullOrEmpty(ProjectId)) ProjectId = Session.Options.ProjectId;
            }
            if (string.IsNullOrEmpty(BaseUrl)) throw new ArgumentException("LudexOptions.BaseUrl is required");
            if (string.IsNullOrEmpty(TenantId)) throw new ArgumentException("LudexOptions.TenantId is required");
            if (string.IsNullOrEmpty(ProjectId)) throw new ArgumentException("LudexOptions.ProjectId is required");
            if (string.IsNullOrEmpty(ApiKey) && Session == null && !anonymous)
                throw new ArgumentException("LudexOptions.ApiKey (a game server) or LudexOptions.Session (a game client) is required");
            if (Retry == null) Retry = RetryPolicy.None;
            if (Retry.MaxAttempts < 1) throw new ArgumentException("RetryPolicy.MaxAttempts must be at least 1");
            return this;
        }
    }

    /// <summary>One retry about to happen.</summary>
    public sealed class RetryInfo
    {
        public int Attempt;          // the attempt that failed, 1-based
        public TimeSpan Delay;       // the wait before the next attempt
        public int Status;           // 0 for a network error or timeout
        public TimeSpan? RetryAfter; // the server's Retry-After, when it sent one
        public string IdempotencyKey;
    }
}
