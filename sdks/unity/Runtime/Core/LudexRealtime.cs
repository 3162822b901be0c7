using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    public enum RealtimeState
    {
        Idle,
        Connecting,
        Subscribed,
        Reconnecting,
        Closed,
    }

    /// <summary>
    /// A realtime subscription that survives dropped sockets and server restarts: it reconnects by
    /// itself (full-jitter backoff, cap 5 s), resubscribes with <c>since</c> = the last event id it
    /// delivered, and drops any event id it already delivered, so the handler sees every event
    /// exactly once. Close codes 4401/4403 (credentials) are final: <see cref="Error"/> fires and
    /// the subscription stops.
    /// </summary>
    /// <remarks>
    /// Handlers run through <see cref="Dispatcher"/>: inline on the socket's thread by default;
    /// the Unity adapter posts them to the main thread.
    /// </remarks>
    public sealed class LudexRealtime : IDisposable
    {
        private const int RememberedIds = 10000;
        private static readonly Random SharedRandom = new Random();

        private readonly LudexOptions _options;
        private readonly List<string> _eventTypes;
        private readonly IWebSocketTransport _transport;
        private readonly HashSet<string> _delivered = new HashSet<string>(StringComparer.Ordinal);
        private readonly Queue<string> _deliveredOrder = new Queue<string>();
        private readonly object _gate = new object();
        private readonly TaskCompletionSource<bool> _firstSubscribed = new TaskCompletionSource<bool>();
        private CancellationTokenSource _stop;
        private Task _loop;
        private volatile IWebSocketConnection _connection;
        private int _subscriptions;
        private string _lastEventId;
        private long _lastReceivedTicks;
        private volatile RealtimeState _state = RealtimeState.Idle;

        /// <summary>Each new event, once.</summary>
        public event Action<LudexEvent> EventReceived;

        /// <summary>Final failures (credentials refused) and server error messages (e.g. unknown-event).</summary>
        public event Action<LudexException> Error;

        public event Action<RealtimeState> StateChanged;

        /// <summary>Runs each handler call; default inline. Set before StartAsync.</summary>
        public Action<Action> Dispatcher = action => action();

        public TimeSpan PingInterval = TimeSpan.FromSeconds(20);
        public TimeSpan ReconnectBaseDelay = TimeSpan.FromMilliseconds(200);
        public TimeSpan ReconnectMaxDelay = TimeSpan.FromSeconds(5);

        /// <summary>The id of the last event handed to the handler: the <c>since</c> of the next (re)subscription.</summary>
        public string LastEventId { get { lock (_gate) return _lastEventId; } }

        /// <summary>How many times a subscription was confirmed (1 + reconnects).</summary>
        public int Subscriptions { get { return Volatile.Read(ref _subscriptions); } }

        public RealtimeState State { get { return _state; } }

        internal LudexRealtime(LudexOptions options, IEnumerable<string> eventTypes, string since)
        {
            _options = options;
            _eventTypes = new List<string>(eventTypes ?? new[] { "*" });
            if (_eventTypes.Count == 0) _eventTypes.Add("*");
            _transport = options.WebSocketTransport ?? new ClientWebSocketTransport();
            _lastEventId = since;
        }

        /// <summary>Starts the connection loop and completes once the first subscription is confirmed.</summary>
        public async Task StartAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (_loop != null) throw new InvalidOperationException("this subscription was started already");
            _stop = new CancellationTokenSource();
            _loop = Task.Run(() => RunAsync(_stop.Token));
            using (cancellationToken.Register(() => _firstSubscribed.TrySetCanceled()))
                await _firstSubscribed.Task;
        }

        /// <summary>Closes the socket and ends the loop; no handler runs after this completes.</summary>
        public async Task StopAsync()
        {
            if (_stop == null) return;
            _stop.Cancel();
            var connection = _connection;
            if (connection != null) await connection.CloseAsync();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
            SetState(RealtimeState.Closed);
        }

        private Uri RealtimeUri()
        {
            var builder = new UriBuilder(_options.BaseUrl.TrimEnd('/') + "/v1/realtime");
            builder.Scheme = builder.Scheme == "https" ? "wss" : "ws";
            return builder.Uri;
        }

        private async Task RunAsync(CancellationToken stop)
        {
            int failures = 0;
            bool refreshedForClose = false;
            while (!stop.IsCancellationRequested)
            {
                SetState(Subscriptions == 0 && failures == 0 ? RealtimeState.Connecting : RealtimeState.Reconnecting);
                bool subscribed = false;
                try
                {
                    var headers = await CredentialsAsync(stop);
                    using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
                    {
                        connectTimeout.CancelAfter(_options.Timeout);
                        _connection = await _transport.ConnectAsync(RealtimeUri(), headers, connectTimeout.Token);
                    }
                    subscribed = await ServeAsync(_connection, stop);
                    if (subscribed) refreshedForClose = false;
                }
                catch (FinalRealtimeError final) when (final.Error.Status == 401 && _options.Session != null && !refreshedForClose)
                {
                    // The session's access token expired while open: one refresh, then connect again.
                    refreshedForClose = true;
                    try
                    {
                        await _options.Session.RefreshAsync(stop);
                        failures = 0;
                        continue;
                    }
                    catch (LudexException refused) when (refused.Status == 401)
                    {
                        Report(refused);
                        _firstSubscribed.TrySetException(refused);
                        break;
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        // the network: reconnect below
                    }
                }
                catch (LudexException refused) when (refused.Status == 401)
                {
                    // the session's refresh was refused (spent, revoked, the player banned)
                    Report(refused);
                    _firstSubscribed.TrySetException(refused);
                    break;
                }
                catch (FinalRealtimeError final)
                {
                    Report(final.Error);
                    _firstSubscribed.TrySetException(final.Error);
                    break;
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    // a refused connect, a reset or a stalled socket: reconnect below
                }
                catch (Exception)
                {
                    break;
                }
                finally
                {
                    var connection = _connection;
                    _connection = null;
                    if (connection != null) connection.Dispose();
                }
                if (stop.IsCancellationRequested) break;
                failures = subscribed ? 1 : failures + 1;
                double ceiling = Math.Min(ReconnectMaxDelay.TotalMilliseconds, ReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, failures - 1));
                double sample;
                lock (SharedRandom) sample = SharedRandom.NextDouble();
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(ceiling * sample), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            _firstSubscribed.TrySetCanceled(); // stopped before the first subscription: StartAsync must not wait for ever
            SetState(RealtimeState.Closed);
        }

        /// <summary>The key of a game server, or the current access token of a player's session.</summary>
        private async Task<Dictionary<string, string>> CredentialsAsync(CancellationToken stop)
        {
            var headers = new Dictionary<string, string>
            {
                { "x-tenant-id", _options.TenantId },
                { "x-project-id", _options.ProjectId },
            };
            if (_options.Session != null) headers["Authorization"] = "Bearer " + await _options.Session.GetAccessTokenAsync(stop);
            else headers["x-api-key"] = _options.ApiKey;
            return headers;
        }

        /// <summary>Reads one connection until it ends; true when it got as far as a confirmed subscription.</summary>
        private async Task<bool> ServeAsync(IWebSocketConnection connection, CancellationToken stop)
        {
            bool subscribed = false;
            Touch();
            using (var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                Task heartbeat = HeartbeatAsync(connection, heartbeatStop.Token);
                try
                {
                    while (true)
                    {
                        string text = await connection.ReceiveAsync(stop);
                        if (text == null)
                        {
                            int? code = connection.CloseCode;
                            if (code == 4401 || code == 4403) throw new FinalRealtimeError(Refused(code.Value, null));
                            return subscribed;
                        }
                        Touch();
                        JsonObject message;
                        try
                        {
                            message = Json.ParseObject(text);
                        }
                        catch (JsonParseException)
                        {
                            continue;
                        }
                        switch (message.GetString("type"))
                        {
                            case "hello":
                                await SubscribeAsync(connection, LastEventId, stop);
                                break;
                            case "subscribed":
                                subscribed = true;
                                Interlocked.Increment(ref _subscriptions);
                                SetState(RealtimeState.Subscribed);
                                _firstSubscribed.TrySetResult(true);
                                break;
                            case "event":
                                var body = message.GetObject("event");
                                if (body != null) Deliver(LudexEvent.From(body));
                                break;
                            case "error":
                                await OnServerErrorAsync(connection, message, stop);
                                break;
                        }
                    }
                }
                finally
                {
                    heartbeatStop.Cancel();
                    try
                    {
                        await heartbeat;
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
        }

        private Task SubscribeAsync(IWebSocketConnection connection, string since, CancellationToken stop)
        {
            var subscribe = new JsonObject { { "action", "subscribe" }, { "eventTypes", _eventTypes } };
            if (since != null) subscribe["since"] = since;
            return connection.SendAsync(Json.Serialize(subscribe), stop);
        }

        private async Task OnServerErrorAsync(IWebSocketConnection connection, JsonObject message, CancellationToken stop)
        {
            string error = message.GetString("error") ?? "error";
            string slug = error.Replace('_', '-');
            if (error == "missing_headers" || error == "invalid_credentials")
            {
                // the close (4401/4403) follows; remember why
                _refusal = message;
                return;
            }
            Report(new LudexException(0, slug, "realtime: " + error, null, message));
            if (error == "unknown_event")
            {
                // the resume point left the store (retention): carry on live rather than not at all
                await SubscribeAsync(connection, null, stop);
            }
        }

        private JsonObject _refusal;

        private LudexException Refused(int code, string detail)
        {
            var problem = _refusal ?? new JsonObject();
            string error = problem.GetString("error") ?? (code == 4401 ? "missing_headers" : "invalid_credentials");
            return new LudexException(code == 4401 ? 401 : 403, error.Replace('_', '-'),
                detail ?? "realtime connection refused (close " + code + ")", null, problem);
        }

        private void Deliver(LudexEvent item)
        {
            if (string.IsNullOrEmpty(item.Id)) return;
            lock (_gate)
            {
                if (!_delivered.Add(item.Id)) return;
                _deliveredOrder.Enqueue(item.Id);
                if (_deliveredOrder.Count > RememberedIds) _delivered.Remove(_deliveredOrder.Dequeue());
                _lastEventId = item.Id;
            }
            var handler = EventReceived;
            if (handler == null) return;
            Dispatcher(() =>
            {
                try
                {
                    handler(item);
                }
                catch (Exception error)
                {
                    Report(new LudexException(0, "handler-failed", error.Message, null, null, error));
                }
            });
        }

        private async Task HeartbeatAsync(IWebSocketConnection connection, CancellationToken stop)
        {
            while (true)
            {
                await Task.Delay(PingInterval, stop);
                long silentTicks = Stopwatch.GetTimestamp() - Interlocked.Read(ref _lastReceivedTicks);
                if (silentTicks > 2.5 * PingInterval.TotalSeconds * Stopwatch.Frequency)
                {
                    connection.Abort(); // no pong: the socket is dead even if the OS has not noticed
                    return;
                }
                try
                {
                    await connection.SendAsync("{\"action\":\"ping\"}", stop);
                }
                catch (OperationCanceledException)
                {
                    throw;
                }
                catch (Exception)
                {
                    return; // the receive loop sees the failure too and reconnects
                }
            }
        }

        private void Touch()
        {
            Interlocked.Exchange(ref _lastReceivedTicks, Stopwatch.GetTimestamp());
        }

        private void Report(LudexException error)
        {
            var handler = Error;
            if (handler != null) Dispatcher(() => handler(error));
        }

        private void SetState(RealtimeState state)
        {
            if (_state == state) return;
            _state = state;
            var handler = StateChanged;
            if (handler != null) Dispatcher(() => handler(state));
        }

        public void Dispose()
        {
            if (_stop != null && !_stop.IsCancellationRequested)
            {
                _stop.Cancel();
                var connection = _connection;
                if (connection != null) connection.Abort();
            }
        }

        private sealed class FinalRealtimeError : Exception
        {
            public readonly LudexException Error;

            public FinalRealtimeError(LudexException error) : base(error.Message) { Error = error; }
        }
    }
}
