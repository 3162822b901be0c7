using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace Ludex.Unity
{
    /// <summary>
    /// Runs queued work on Unity's main thread (realtime events arrive on a socket thread, and most
    /// Unity APIs may only be touched from the main thread), and offers a frame-driven delay for
    /// WebGL, which has no threads for Task.Delay's timer.
    /// </summary>
    [AddComponentMenu("")]
    public sealed class LudexMainThread : MonoBehaviour
    {
        private static readonly ConcurrentQueue<Action> Queue = new ConcurrentQueue<Action>();
        private static readonly List<KeyValuePair<float, TaskCompletionSource<bool>>> Timers = new List<KeyValuePair<float, TaskCompletionSource<bool>>>();
        private static LudexMainThread _instance;

        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.BeforeSceneLoad)]
        private static void Bootstrap()
        {
            if (_instance != null) return;
            var host = new GameObject("Ludex main thread") { hideFlags = HideFlags.HideInHierarchy };
            DontDestroyOnLoad(host);
            _instance = host.AddComponent<LudexMainThread>();
        }

        /// <summary>Runs <paramref name="action"/> on the main thread at the next frame (thread-safe).</summary>
        public static void Post(Action action)
        {
            if (action != null) Queue.Enqueue(action);
        }

        /// <summary>A delay counted in unscaled real time by the player loop: works where timers do not (WebGL).</summary>
        public static Task Delay(TimeSpan wait, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource<bool>();
            if (cancellationToken.IsCancellationRequested) { done.TrySetCanceled(); return done.Task; }
            cancellationToken.Register(() => done.TrySetCanceled());
            Post(() =>
            {
                lock (Timers) Timers.Add(new KeyValuePair<float, TaskCompletionSource<bool>>(Time.realtimeSinceStartup + (float)wait.TotalSeconds, done));
            });
            return done.Task;
        }

        private void Update()
        {
            Action action;
            while (Queue.TryDequeue(out action))
            {
                try
                {
                    action();
                }
                catch (Exception error)
                {
                    Debug.LogException(error);
                }
            }
            lock (Timers)
            {
                float now = Time.realtimeSinceStartup;
                for (int i = Timers.Count - 1; i >= 0; i--)
                {
                    if (Timers[i].Key > now && !Timers[i].Value.Task.IsCompleted) continue;
                    Timers[i].Value.TrySetResult(true);
                    Timers.RemoveAt(i);
                }
            }
        }
    }
}
