using System;
using System.Collections.Generic;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    /// <summary>One open WebSocket carrying text messages.</summary>
    public interface IWebSocketConnection : IDisposable
    {
        /// <summary>The next text message, or null once the peer closed (see <see cref="CloseCode"/>).</summary>
        Task<string> ReceiveAsync(CancellationToken cancellationToken);

        Task SendAsync(string message, CancellationToken cancellationToken);

        /// <summary>The close code the peer sent (e.g. 4401), null while open or after an abrupt drop.</summary>
        int? CloseCode { get; }

        Task CloseAsync();

        /// <summary>Drops the connection at once (a stalled socket); pending receives fail.</summary>
        void Abort();
    }

    /// <summary>Opens WebSockets; the seam for hosts whose sockets differ (a WebGL jslib bridge).</summary>
    public interface IWebSocketTransport
    {
        Task<IWebSocketConnection> ConnectAsync(Uri uri, IDictionary<string, string> headers, CancellationToken cancellationToken);
    }

    /// <summary>The default: System.Net.WebSockets.ClientWebSocket (Mono, .NET, Unity outside WebGL).</summary>
    public sealed class ClientWebSocketTransport : IWebSocketTransport
    {
        public async Task<IWebSocketConnection> ConnectAsync(Uri uri, IDictionary<string, string> headers, CancellationToken cancellationToken)
        {
            var socket = new ClientWebSocket();
            foreach (var header in headers) socket.Options.SetRequestHeader(header.Key, header.Value);
            try
            {
                await socket.ConnectAsync(uri, cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            return new Connection(socket);
        }

        private sealed class Connection : IWebSocketConnection
        {
            private readonly ClientWebSocket _socket;
            private readonly SemaphoreSlim _sending = new SemaphoreSlim(1, 1);
            private readonly byte[] _buffer = new byte[16 * 1024];

            public Connection(ClientWebSocket socket) { _socket = socket; }

            public int? CloseCode
            {
                get { return _socket.CloseStatus.HasValue ? (int?)(int)_socket.CloseStatus.Value : null; }
            }

            public async Task<string> ReceiveAsync(CancellationToken cancellationToken)
            {
                using (var message = new MemoryStream())
                {
                    while (true)
                    {
                        WebSocketReceiveResult result = await _socket.ReceiveAsync(new ArraySegment<byte>(_buffer), cancellationToken);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            try
                            {
                                if (_socket.State == WebSocketState.CloseReceived)
                                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                            }
                            catch (Exception)
                            {
                                // the peer is gone already; its close code is what matters
                            }
                            return null;
                        }
                        message.Write(_buffer, 0, result.Count);
                        if (result.EndOfMessage) return Encoding.UTF8.GetString(message.ToArray());
                    }
                }
            }

            public async Task SendAsync(string message, CancellationToken cancellationToken)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(message);
                await _sending.WaitAsync(cancellationToken);
                try
                {
                    await _socket.SendAsync(new ArraySegment<byte>(bytes), WebSocketMessageType.Text, true, cancellationToken);
                }
                finally
                {
                    _sending.Release();
                }
            }

            public async Task CloseAsync()
            {
                try
                {
                    if (_socket.State == WebSocketState.Open)
                    {
                        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                    }
                }
                catch (Exception)
                {
                    _socket.Abort();
                }
            }

            public void Abort()
            {
                _socket.Abort();
            }

            public void Dispose()
            {
                _socket.Dispose();
            }
        }
    }
}
