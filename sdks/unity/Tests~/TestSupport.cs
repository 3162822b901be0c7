using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>
    /// The server the harness (sdks/test_server.py) started. Without it the tests cannot mean
    /// anything: they fail under CI=true and are ignored otherwise.
    /// </summary>
    public static class TestServer
    {
        public static LudexOptions Options()
        {
            Require();
            return LudexOptions.FromEnvironment();
        }

        public static void Require()
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LUDEX_BASE_URL"))) return;
            const string why = "no Ludex server: run these tests through `make -C sdks/unity test` (sdks/test_server.py run -- ...)";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
            Assert.Ignore(why);
        }

        public static LudexClient Client(Action<LudexOptions> adjust = null)
        {
            var options = Options();
            if (adjust != null) adjust(options);
            return new LudexClient(options);
        }

        public static string NewPlayerId(string prefix)
        {
            return prefix + "-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        }

        /// <summary>The repository root: sdks/unity/build/ is where the tests run from.</summary>
        public static string RepoRoot()
        {
            string given = Environment.GetEnvironmentVariable("LUDEX_REPO_ROOT");
            if (!string.IsNullOrEmpty(given)) return Path.GetFullPath(given);
            string build = Path.GetDirectoryName(typeof(TestServer).Assembly.Location);
            return Path.GetFullPath(Path.Combine(build, "..", "..", ".."));
        }

        /// <summary>Stops and starts the server on the same port and data (blocks until it is ready).</summary>
        public static void Restart()
        {
            string state = Environment.GetEnvironmentVariable("LUDEX_TEST_SERVER_STATE");
            Assert.IsNotNullOrEmpty(state, "LUDEX_TEST_SERVER_STATE is not set");
            string root = RepoRoot();
            var code = Run(Path.Combine(root, ".venv", "bin", "python"), "\"" + Path.Combine(root, "sdks", "test_server.py") + "\" restart \"" + state + "\"");
            Assert.AreEqual(0, code.Item1, "test_server.py restart failed: " + code.Item2);
        }

        /// <summary>Runs a program to its end: (exit code, stdout + stderr).</summary>
        public static Tuple<int, string> Run(string program, string arguments)
        {
            var info = new ProcessStartInfo(program, arguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using (var process = Process.Start(info))
            {
                Task<string> stdout = process.StandardOutput.ReadToEndAsync();
                Task<string> stderr = process.StandardError.ReadToEndAsync();
                process.WaitForExit();
                return Tuple.Create(process.ExitCode, stdout.Result + stderr.Result);
            }
        }

        /// <summary>Waits for a condition polled every 50 ms; false when the time runs out.</summary>
        public static async Task<bool> Eventually(Func<bool> condition, TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < within)
            {
                if (condition()) return true;
                await Task.Delay(50);
            }
            return condition();
        }

        public static async Task<T> Throws<T>(Func<Task> action) where T : Exception
        {
            try
            {
                await action();
            }
            catch (T expected)
            {
                return expected;
            }
            Assert.Fail("expected " + typeof(T).Name);
            return null;
        }
    }

    /// <summary>A fixture with one client on the test server, and fresh players for each test.</summary>
    public abstract class ServerFixture
    {
        protected LudexClient Api;

        [TestFixtureSetUp]
        public void Connect() { Api = TestServer.Client(); }

        [TestFixtureTearDown]
        public void Disconnect() { if (Api != null) Api.Dispose(); }

        protected async Task<string> NewPlayer(string prefix)
        {
            string id = TestServer.NewPlayerId(prefix);
            var player = await Api.Players.CreateAsync(id, id, new Dictionary<string, object> { { "team", "red" } });
            Assert.AreEqual(id, player.PlayerId);
            return id;
        }
    }

    /// <summary>The backoffice calls the tests need (a rate-limited API key), over plain HttpClient.</summary>
    public static class Backoffice
    {
        public static async Task<string> CreateApiKey(string name, int rateLimitPerSecond)
        {
            var options = TestServer.Options();
            using (var http = new HttpClient())
            {
                string baseUrl = options.BaseUrl.TrimEnd('/');
                var login = Json.Serialize(new JsonObject
                {
                    { "email", Environment.GetEnvironmentVariable("LUDEX_ADMIN_EMAIL") },
                    { "password", Environment.GetEnvironmentVariable("LUDEX_ADMIN_PASSWORD") },
                });
                var loginAnswer = await http.PostAsync(baseUrl + "/v1/auth/login", new StringContent(login, Encoding.UTF8, "application/json"));
                string loginText = await loginAnswer.Content.ReadAsStringAsync();
                Assert.AreEqual(200, (int)loginAnswer.StatusCode, "login: " + loginText);
                string token = Json.ParseObject(loginText).GetString("accessToken");

                var create = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/v1/client/projects/" + options.ProjectId + "/api-keys");
                create.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                create.Headers.TryAddWithoutValidation("x-tenant-id", options.TenantId);
                create.Content = new StringContent(Json.Serialize(new JsonObject
                {
                    { "name", name },
                    { "scopes", new[] { "players:read", "players:write", "economy:write" } },
                    { "rateLimitPerSecond", rateLimitPerSecond },
                }), Encoding.UTF8, "application/json");
                var keyAnswer = await http.SendAsync(create);
                string keyText = await keyAnswer.Content.ReadAsStringAsync();
                Assert.AreEqual(201, (int)keyAnswer.StatusCode, "create key: " + keyText);
                return Json.ParseObject(keyText).GetString("apiKey");
            }
        }
    }

    /// <summary>
    /// A tiny HTTP/1.1 proxy in front of the real server that can misbehave on chosen requests:
    /// forward the request and then drop the client before relaying the answer (the connection
    /// dies mid-request after the server acted), or answer by itself (e.g. 503 + Retry-After).
    /// Every request it sees is recorded, so tests can check retries and their idempotency keys.
    /// </summary>
    public sealed class FaultProxy : IDisposable
    {
        public enum Fault { None, DropAfterForward, Respond }

        public sealed class Plan
        {
            public Fault Fault;
            public int Status;
            public string RetryAfter;
            public string Body;
        }

        public sealed class Seen
        {
            public string Method;
            public string Path;
            public Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

            public string Header(string name)
            {
                string value;
                return Headers.TryGetValue(name, out value) ? value : null;
            }
        }

        private readonly TcpListener _listener;
        private readonly Uri _upstream;
        private readonly Queue<Plan> _plans = new Queue<Plan>();
        private readonly List<Seen> _seen = new List<Seen>();
        private volatile bool _stopped;

        public FaultProxy(string upstreamBaseUrl, params Plan[] firstRequests)
        {
            _upstream = new Uri(upstreamBaseUrl);
            foreach (var plan in firstRequests) _plans.Enqueue(plan);
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Task.Run(AcceptLoop);
        }

        public string BaseUrl { get { return "http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port; } }

        public List<Seen> Requests { get { lock (_seen) return new List<Seen>(_seen); } }

        public static Plan DropAfterForward() { return new Plan { Fault = Fault.DropAfterForward }; }

        public static Plan Respond(int status, string retryAfter = null)
        {
            string body = "{\"type\":\"https://ludex.dev/problems/injected-by-proxy\",\"title\":\"injected\",\"status\":" + status + ",\"detail\":\"answered by the test proxy\"}";
            return new Plan { Fault = Fault.Respond, Status = status, RetryAfter = retryAfter, Body = body };
        }

        private async Task AcceptLoop()
        {
            while (!_stopped)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception)
                {
                    return;
                }
                _ = Task.Run(() => Handle(client)); // one task per connection; failures end that connection only
            }
        }

        private async Task Handle(TcpClient client)
        {
            using (client)
            {
                NetworkStream stream = client.GetStream();
                byte[] head;
                byte[] body;
                var request = ReadRequest(stream, out head, out body);
                if (request == null) return;
                Plan plan;
                lock (_seen)
                {
                    _seen.Add(request);
                    plan = _plans.Count > 0 ? _plans.Dequeue() : new Plan { Fault = Fault.None };
                }
                if (plan.Fault == Fault.Respond)
                {
                    byte[] payload = Encoding.UTF8.GetBytes(plan.Body);
                    var answer = new StringBuilder();
                    answer.Append("HTTP/1.1 " + plan.Status + " Injected\r\n");
                    answer.Append("Content-Type: application/problem+json\r\n");
                    if (plan.RetryAfter != null) answer.Append("Retry-After: " + plan.RetryAfter + "\r\n");
                    answer.Append("Content-Length: " + payload.Length + "\r\nConnection: close\r\n\r\n");
                    byte[] headBytes = Encoding.ASCII.GetBytes(answer.ToString());
                    await stream.WriteAsync(headBytes, 0, headBytes.Length);
                    await stream.WriteAsync(payload, 0, payload.Length);
                    return;
                }
                byte[] response;
                using (var upstream = new TcpClient())
                {
                    await upstream.ConnectAsync(_upstream.Host, _upstream.Port);
                    NetworkStream up = upstream.GetStream();
                    await up.WriteAsync(head, 0, head.Length);
                    await up.WriteAsync(body, 0, body.Length);
                    var buffer = new MemoryStream();
                    await up.CopyToAsync(buffer); // the server closes after one answer (Connection: close)
                    response = buffer.ToArray();
                }
                if (plan.Fault == Fault.DropAfterForward)
                {
                    client.LingerState = new LingerOption(true, 0); // a reset, not a clean close
                    return;
                }
                await stream.WriteAsync(response, 0, response.Length);
            }
        }

        /// <summary>Reads one request; rewrites it to Connection: close so each answer ends with EOF.</summary>
        private static Seen ReadRequest(NetworkStream stream, out byte[] head, out byte[] body)
        {
            head = null;
            body = null;
            var raw = new MemoryStream();
            int end = -1;
            var one = new byte[1];
            while (end < 0)
            {
                int read = stream.Read(one, 0, 1);
                if (read == 0) return null;
                raw.WriteByte(one[0]);
                long n = raw.Length;
                if (n >= 4)
                {
                    byte[] b = raw.GetBuffer();
                    if (b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') end = (int)n;
                }
            }
            string text = Encoding.ASCII.GetString(raw.GetBuffer(), 0, end);
            string[] lines = text.Split(new[] { "\r\n" }, StringSplitOptions.None);
            string[] first = lines[0].Split(' ');
            var seen = new Seen { Method = first[0], Path = first.Length > 1 ? first[1] : "" };
            var rewritten = new StringBuilder(lines[0] + "\r\n");
            for (int i = 1; i < lines.Length; i++)
            {
                if (lines[i].Length == 0) continue;
                int colon = lines[i].IndexOf(':');
                string name = colon > 0 ? lines[i].Substring(0, colon).Trim() : lines[i];
                string value = colon > 0 ? lines[i].Substring(colon + 1).Trim() : "";
                seen.Headers[name] = value;
                if (name.Equals("connection", StringComparison.OrdinalIgnoreCase) || name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)) continue;
                rewritten.Append(lines[i]).Append("\r\n");
            }
            rewritten.Append("Connection: close\r\n\r\n");
            head = Encoding.ASCII.GetBytes(rewritten.ToString());
            int length = 0;
            string declared = seen.Header("content-length");
            if (declared != null) int.TryParse(declared, out length);
            body = new byte[length];
            int got = 0;
            while (got < length)
            {
                int read = stream.Read(body, got, length - got);
                if (read == 0) return null;
                got += read;
            }
            return seen;
        }

        public void Dispose()
        {
            _stopped = true;
            _listener.Stop();
        }
    }
}
