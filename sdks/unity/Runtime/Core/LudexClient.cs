using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    /// <summary>
    /// The game API client. One per project; thread-safe; share it. Every economy-changing POST
    /// carries an Idempotency-Key (the caller's or a fresh UUIDv4) that stays the same across the
    /// retries of that call, so a retried award lands exactly once.
    /// </summary>
    /// <remarks>
    /// Awaits keep the caller's synchronization context on purpose: under Unity the work (and a
    /// UnityWebRequest transport) stays on the main thread.
    /// </remarks>
    public sealed class LudexClient : IDisposable
    {
        private static readonly Random SharedRandom = new Random();

        private readonly LudexOptions _options;
        private readonly IHttpTransport _transport;
        private readonly bool _ownsTransport;
        private readonly string _baseUrl;

        public PlayersApi Players { get; private set; }
        public WalletApi Wallet { get; private set; }
        public InventoryApi Inventory { get; private set; }
        public CountersApi Counters { get; private set; }
        public QuestsApi Quests { get; private set; }
        public AchievementsApi Achievements { get; private set; }
        public StoreApi Store { get; private set; }
        public CommandsApi Commands { get; private set; }
        public EventsApi Events { get; private set; }
        public LeaderboardsApi Leaderboards { get; private set; }
        public FlagsApi Flags { get; private set; }
        /// <summary>A session's own devices: link another install to the signed-in player, or unlink it.</summary>
        public DevicesApi Devices { get; private set; }

        public LudexOptions Options { get { return _options; } }

        /// <summary>A client with a key (a game server) or a player's session (<see cref="LudexOptions.Session"/>: a game client).</summary>
        public LudexClient(LudexOptions options) : this(options, false) { }

        /// <summary>Anonymous: the session's own sign-in and refresh calls, which carry no credential.</summary>
        internal LudexClient(LudexOptions options, bool anonymous)
        {
            if (options == null) throw new ArgumentNullException("options");
            _options = options.Validated(anonymous);
            _baseUrl = _options.BaseUrl.TrimEnd('/');
            if (_options.Transport != null)
            {
                _transport = _options.Transport;
            }
            else
            {
                _transport = new HttpClientTransport();
                _ownsTransport = true;
            }
            Players = new PlayersApi(this);
            Wallet = new WalletApi(this);
            Inventory = new InventoryApi(this);
            Counters = new CountersApi(this);
            Quests = new QuestsApi(this);
            Achievements = new AchievementsApi(this);
            Store = new StoreApi(this);
            Commands = new CommandsApi(this);
            Events = new EventsApi(this);
            Leaderboards = new LeaderboardsApi(this);
            Flags = new FlagsApi(this);
            Devices = new DevicesApi(this);
        }

        /// <summary>A realtime subscription (not yet started): call StartAsync on it.</summary>
        public LudexRealtime Realtime(IEnumerable<string> eventTypes, string since = null)
        {
            return new LudexRealtime(_options, eventTypes, since);
        }

        /// <summary>A fresh UUIDv4 string, the default Idempotency-Key.</summary>
        public static string NewIdempotencyKey()
        {
            return Guid.NewGuid().ToString("D");
        }

        internal string ProjectPath(string rest)
        {
            return "/v1/projects/" + Escape(_options.ProjectId) + rest;
        }

        internal static string Escape(string segment)
        {
            if (string.IsNullOrEmpty(segment)) throw new ArgumentException("a path segment is empty");
            return Uri.EscapeDataString(segment);
        }

        /// <summary>GET/DELETE (no body, no idempotency key).</summary>
        internal Task<JsonObject> ReadAsync(string method, string path, IList<KeyValuePair<string, string>> query, CancellationToken cancellationToken)
        {
            return SendAsync(method, path, query, null, null, cancellationToken);
        }

        /// <summary>An economy-changing POST: the key is fixed here, before the first attempt.</summary>
        internal Task<JsonObject> WriteAsync(string path, object body, string idempotencyKey, CancellationToken cancellationToken)
        {
            return SendAsync("POST", path, null, body ?? new JsonObject(), idempotencyKey ?? NewIdempotencyKey(), cancellationToken);
        }

        internal async Task<JsonObject> SendAsync(
            string method, string path, IList<KeyValuePair<string, string>> query, object body, string idempotencyKey,
            CancellationToken cancellationToken, bool retryNetworkErrors = true)
        {
            var request = new HttpRequestData { Method = method, Url = _baseUrl + path + QueryString(query) };
            request.Headers["x-tenant-id"] = _options.TenantId;
            if (_options.ApiKey != null) request.Headers["x-api-key"] = _options.ApiKey;
            request.Headers["accept"] = "application/json, application/problem+json";
            if (body != null)
            {
                request.Body = Json.Serialize(body);
                request.Headers["content-type"] = "application/json";
            }
            if (idempotencyKey != null) request.Headers["Idempotency-Key"] = idempotencyKey;

            HttpResponseData response;
            LudexSession session = _options.Session;
            if (session == null)
            {
                response = await SendWithRetriesAsync(request, idempotencyKey, retryNetworkErrors, cancellationToken);
            }
            else
            {
                request.Headers["Authorization"] = "Bearer " + await session.GetAccessTokenAsync(cancellationToken);
                try
                {
                    response = await SendWithRetriesAsync(request, idempotencyKey, retryNetworkErrors, cancellationToken);
                }
                catch (LudexException error) when (error.Status == 401)
                {
                    // An access token that expired or was revoked: one refresh, one more try; a
                    // refused refresh throws the server's problem from here.
                    await session.RefreshAsync(cancellationToken);
                    request.Headers["Authorization"] = "Bearer " + await session.GetAccessTokenAsync(cancellationToken);
                    response = await SendWithRetriesAsync(request, idempotencyKey, retryNetworkErrors, cancellationToken);
                }
            }
            if (string.IsNullOrEmpty(response.Body)) return new JsonObject();
            object parsed;
            try
            {
                parsed = Json.Parse(response.Body);
            }
            catch (JsonParseException error)
            {
                throw new LudexException(response.Status, "invalid-response", error.Message, response.Header("x-request-id"), null, error);
            }
            var result = parsed as JsonObject;
            if (result == null) throw new LudexException(response.Status, "invalid-response", "expected a JSON object", response.Header("x-request-id"), null);
            return result;
        }

        private async Task<HttpResponseData> SendWithRetriesAsync(HttpRequestData request, string idempotencyKey, bool retryNetworkErrors, CancellationToken cancellationToken)
        {
            RetryPolicy policy = _options.Retry;
            var clock = Stopwatch.StartNew();
            for (int attempt = 1; ; attempt++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                HttpResponseData response = null;
                LudexException failure;
                TimeSpan? retryAfter = null;
                using (var attemptToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    attemptToken.CancelAfter(_options.Timeout);
                    try
                    {
                        response = await _transport.SendAsync(request, attemptToken.Token);
                        failure = null;
                    }
                    catch (OperationCanceledException error)
                    {
                        if (cancellationToken.IsCancellationRequested) throw;
                        failure = new LudexException(0, "timeout", "no answer within " + _options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s", null, null, error);
                    }
                    catch (TransportException error)
                    {
                        failure = new LudexException(0, "network-error", error.Message, null, null, error);
                    }
                }
                if (response != null)
                {
                    if (response.Status < 400) return response;
                    failure = LudexException.FromResponse(response);
                    if (!IsRetryableStatus(response.Status)) throw failure;
                    retryAfter = ParseRetryAfter(response.Header("Retry-After"));
                }
                else if (!retryNetworkErrors)
                {
                    throw failure;
                }
                if (attempt >= policy.MaxAttempts) throw failure;
                TimeSpan wait = policy.Backoff(attempt, SharedRandom);
                if (retryAfter.HasValue && retryAfter.Value > wait) wait = retryAfter.Value;
                if (clock.Elapsed + wait > policy.MaxElapsed) throw failure;
                var onRetry = _options.OnRetry;
                if (onRetry != null)
                {
                    onRetry(new RetryInfo
                    {
                        Attempt = attempt, Delay = wait, Status = response != null ? response.Status : 0,
                        RetryAfter = retryAfter, IdempotencyKey = idempotencyKey,
                    });
                }
                await DelayAsync(wait, cancellationToken);
            }
        }

        internal Task DelayAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            var delay = _options.Delay;
            return delay != null ? delay(wait, cancellationToken) : Task.Delay(wait, cancellationToken);
        }

        /// <summary>Only answers that say "try again later" are retried: any other 4xx/5xx is final.</summary>
        public static bool IsRetryableStatus(int status)
        {
            return status == 429 || status == 502 || status == 503 || status == 504;
        }

        /// <summary>Retry-After as seconds or an HTTP date; null when absent or unreadable.</summary>
        public static TimeSpan? ParseRetryAfter(string value)
        {
            if (string.IsNullOrEmpty(value)) return null;
            double seconds;
            if (double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out seconds))
                return seconds < 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds);
            DateTimeOffset when;
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out when))
            {
                TimeSpan left = when - DateTimeOffset.UtcNow;
                return left < TimeSpan.Zero ? TimeSpan.Zero : left;
            }
            return null;
        }

        private static string QueryString(IList<KeyValuePair<string, string>> query)
        {
            if (query == null) return "";
            var builder = new StringBuilder();
            foreach (var pair in query)
            {
                if (pair.Value == null) continue;
                builder.Append(builder.Length == 0 ? '?' : '&');
                builder.Append(Uri.EscapeDataString(pair.Key)).Append('=').Append(Uri.EscapeDataString(pair.Value));
            }
            return builder.ToString();
        }

        public void Dispose()
        {
            if (_ownsTransport)
            {
                var disposable = _transport as IDisposable;
                if (disposable != null) disposable.Dispose();
            }
        }
    }
}
