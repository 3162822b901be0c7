using System;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    /// <summary>
    /// Where the game keeps the player's refresh token between runs (PlayerPrefs, the keychain, a
    /// save file). The SDK calls <c>Save</c> after every sign-in and refresh (each refresh rotates
    /// the token and spends the old one), <c>Clear</c> on logout or when the server refuses the
    /// token, and <c>Load</c> in <see cref="LudexSession.RestoreAsync"/>.
    /// </summary>
    public interface ISessionStorage
    {
        string Load();
        void Save(string refreshToken);
        void Clear();
    }

    /// <summary>The default storage: in memory only, so a new run signs in again.</summary>
    public sealed class MemorySessionStorage : ISessionStorage
    {
        private volatile string _refreshToken;

        public string Load() { return _refreshToken; }
        public void Save(string refreshToken) { _refreshToken = refreshToken; }
        public void Clear() { _refreshToken = null; }
    }

    /// <summary>
    /// A player's session, for a shipped game client that must hold no API key: sign in by device id
    /// or by a token the studio's own server signed, then pass it as <see cref="LudexOptions.Session"/>.
    /// The access token is refreshed before it expires and once after a 401, one refresh at a time:
    /// refresh tokens rotate, and the same one sent twice looks like theft and ends every session.
    /// </summary>
    public sealed class LudexSession : IDisposable
    {
        private readonly LudexClient _auth;
        private readonly ISessionStorage _storage;
        private readonly object _gate = new object();
        private Tokens _tokens;
        private Task _refreshing;

        private sealed class Tokens
        {
            public string PlayerId;
            public string AccessToken;
            public string RefreshToken;
            public DateTimeOffset ExpiresAt;
        }

        /// <summary>Refresh this long before the access token expires; default 30 s.</summary>
        public TimeSpan RefreshBefore = TimeSpan.FromSeconds(30);

        /// <param name="options">BaseUrl, TenantId and ProjectId (no key); its transport, timeout and retry policy are used too.</param>
        /// <param name="storage">Where the refresh token lives between runs; null keeps it in memory.</param>
        public LudexSession(LudexOptions options, ISessionStorage storage = null)
        {
            if (options == null) throw new ArgumentNullException("options");
            Options = new LudexOptions
            {
                BaseUrl = options.BaseUrl, TenantId = options.TenantId, ProjectId = options.ProjectId,
                Timeout = options.Timeout, Retry = options.Retry, Transport = options.Transport,
                WebSocketTransport = options.WebSocketTransport, Delay = options.Delay, OnRetry = options.OnRetry,
            };
            _auth = new LudexClient(Options, anonymous: true);
            _storage = storage ?? new MemorySessionStorage();
        }

        /// <summary>The options this session was made with (no key, no session).</summary>
        public LudexOptions Options { get; private set; }

        /// <summary>The signed-in player's id; null before sign-in and after logout.</summary>
        public string PlayerId { get { var tokens = _tokens; return tokens != null ? tokens.PlayerId : null; } }

        public bool IsSignedIn { get { return _tokens != null; } }

        /// <summary>When the current access token expires; null when signed out.</summary>
        public DateTimeOffset? ExpiresAt { get { var tokens = _tokens; return tokens != null ? tokens.ExpiresAt : (DateTimeOffset?)null; } }

        /// <summary>Signs in the player linked to this install's id (16 to 128 chars), created on first use. True when it was created.</summary>
        public Task<bool> SignInWithDeviceAsync(string deviceId, string username = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = new JsonObject { { "deviceId", deviceId } };
            if (username != null) body["username"] = username;
            return SignInAsync("device", body, cancellationToken);
        }

        /// <summary>Signs in the player a JWT from the studio's own server names (<c>sub</c>).</summary>
        public Task<bool> SignInWithCustomTokenAsync(string token, CancellationToken cancellationToken = default(CancellationToken))
        {
            return SignInAsync("custom", new JsonObject { { "token", token } }, cancellationToken);
        }

        /// <summary>
        /// Signs in again with the refresh token the storage kept from an earlier run. False when it
        /// holds none or the server refused it (the storage is cleared then); a network failure throws.
        /// </summary>
        public async Task<bool> RestoreAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            string refreshToken = _storage.Load();
            if (string.IsNullOrEmpty(refreshToken)) return false;
            try
            {
                await RotateAsync(refreshToken, cancellationToken);
                return true;
            }
            catch (LudexException error) when (error.Status == 401)
            {
                return false;
            }
        }

        /// <summary>A new access token now, and a new refresh token (the old one is spent).</summary>
        public Task RefreshAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            lock (_gate)
            {
                var tokens = _tokens;
                if (tokens == null) throw NotSignedIn();
                if (_refreshing == null || _refreshing.IsCompleted) _refreshing = RotateAsync(tokens.RefreshToken, cancellationToken);
                return _refreshing;
            }
        }

        /// <summary>The access token to send, refreshed first when it expires within <see cref="RefreshBefore"/>.</summary>
        public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            Task refreshing;
            lock (_gate) refreshing = _refreshing;
            if (refreshing != null && !refreshing.IsCompleted) await refreshing;
            var tokens = _tokens;
            if (tokens == null) throw NotSignedIn();
            if (DateTimeOffset.UtcNow >= tokens.ExpiresAt - RefreshBefore)
            {
                await RefreshAsync(cancellationToken);
                tokens = _tokens;
                if (tokens == null) throw NotSignedIn();
            }
            return tokens.AccessToken;
        }

        /// <summary>Ends this session on the server and forgets it here (the storage is cleared too).</summary>
        public async Task LogoutAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            var tokens = _tokens;
            string refreshToken = tokens != null ? tokens.RefreshToken : _storage.Load();
            _tokens = null;
            _storage.Clear();
            if (string.IsNullOrEmpty(refreshToken)) return;
            await _auth.SendAsync("POST", AuthPath("logout"), null, new JsonObject { { "refreshToken", refreshToken } }, null, cancellationToken);
        }

        private async Task<bool> SignInAsync(string kind, JsonObject body, CancellationToken cancellationToken)
        {
            JsonObject answer = await _auth.SendAsync("POST", AuthPath(kind), null, body, null, cancellationToken);
            Keep(answer, null);
            return answer.GetBool("created");
        }

        private async Task RotateAsync(string refreshToken, CancellationToken cancellationToken)
        {
            JsonObject answer;
            try
            {
                // Never retried after a network error: the server may have spent the token already,
                // and the same token again would count as reuse and end every session of the player.
                answer = await _auth.SendAsync("POST", AuthPath("refresh"), null, new JsonObject { { "refreshToken", refreshToken } }, null,
                    cancellationToken, retryNetworkErrors: false);
            }
            catch (LudexException error) when (error.Status == 401)
            {
                _tokens = null;
                _storage.Clear();
                throw;
            }
            var tokens = _tokens;
            Keep(answer, tokens != null ? tokens.PlayerId : null);
        }

        private void Keep(JsonObject answer, string knownPlayerId)
        {
            var tokens = new Tokens
            {
                PlayerId = answer.GetString("playerId") ?? knownPlayerId,
                AccessToken = answer.GetString("accessToken"),
                RefreshToken = answer.GetString("refreshToken"),
                ExpiresAt = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(answer.GetDouble("expiresIn")),
            };
            if (string.IsNullOrEmpty(tokens.AccessToken) || string.IsNullOrEmpty(tokens.RefreshToken))
                throw new LudexException(200, "invalid-response", "the sign-in answer has no tokens", null, answer);
            _tokens = tokens;
            _storage.Save(tokens.RefreshToken);
        }

        private string AuthPath(string action)
        {
            return "/v1/projects/" + LudexClient.Escape(Options.ProjectId) + "/auth/" + action;
        }

        internal static LudexException NotSignedIn()
        {
            return new LudexException(401, "not-signed-in", "the session has no tokens: sign in (or restore) first", null, null);
        }

        public void Dispose()
        {
            _auth.Dispose();
        }
    }
}
