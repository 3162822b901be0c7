using System.Collections.Generic;

namespace Ludex.Unity
{
    /// <summary>Builds clients wired for Unity: UnityWebRequest for HTTP, main-thread realtime handlers, WebGL-safe waits.</summary>
    public static class LudexUnity
    {
        /// <summary>A client whose unset transports and delay are the Unity ones.</summary>
        public static LudexClient CreateClient(LudexOptions options)
        {
            if (options.Transport == null) options.Transport = new UnityWebRequestTransport();
#if UNITY_WEBGL && !UNITY_EDITOR
            if (options.Delay == null) options.Delay = LudexMainThread.Delay;
#endif
            return new LudexClient(options);
        }

        /// <summary>
        /// A player session for a shipped game (no key): UnityWebRequest for its calls, and the
        /// refresh token kept in PlayerPrefs unless <paramref name="storage"/> says otherwise. Then
        /// <c>CreateClient(new LudexOptions { Session = session })</c>.
        /// </summary>
        public static LudexSession CreateSession(LudexOptions options, ISessionStorage storage = null)
        {
            if (options.Transport == null) options.Transport = new UnityWebRequestTransport();
#if UNITY_WEBGL && !UNITY_EDITOR
            if (options.Delay == null) options.Delay = LudexMainThread.Delay;
#endif
            return new LudexSession(options, storage ?? new PlayerPrefsSessionStorage());
        }

        /// <summary>
        /// A realtime subscription whose handlers run on the main thread. Not on WebGL: it has no
        /// ClientWebSocket; plug a jslib-backed <see cref="IWebSocketTransport"/> into
        /// <see cref="LudexOptions.WebSocketTransport"/> there.
        /// </summary>
        public static LudexRealtime Realtime(LudexClient client, IEnumerable<string> eventTypes, string since = null)
        {
            return client.Realtime(eventTypes, since).OnMainThread();
        }

        /// <summary>Runs this subscription's handlers on the main thread.</summary>
        public static LudexRealtime OnMainThread(this LudexRealtime realtime)
        {
            realtime.Dispatcher = LudexMainThread.Post;
            return realtime;
        }
    }
}
