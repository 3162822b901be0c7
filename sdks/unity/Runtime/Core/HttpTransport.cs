using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Ludex
{
    /// <summary>One HTTP request as the client hands it to a transport.</summary>
    public sealed class HttpRequestData
    {
        public string Method;
        public string Url;
        public Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        public string Body; // JSON text or null
    }

    /// <summary>One HTTP answer; header names compare case-insensitively.</summary>
    public sealed class HttpResponseData
    {
        public int Status;
        public Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        public string Body;

        public string Header(string name)
        {
            string value;
            return Headers.TryGetValue(name, out value) ? value : null;
        }
    }

    /// <summary>
    /// Raised by a transport when no HTTP answer arrived (refused, reset, DNS, TLS): the client
    /// retries these. Any HTTP answer, error status included, is returned, not thrown.
    /// </summary>
    public sealed class TransportException : Exception
    {
        public TransportException(string message, Exception inner = null) : base(message, inner) { }
    }

    /// <summary>
    /// The seam between the client and the network, so Unity can use UnityWebRequest (WebGL)
    /// while consoles and tests use HttpClient. Implementations honour the token (timeouts and
    /// cancellation both arrive through it) and throw <see cref="TransportException"/> for
    /// network failures.
    /// </summary>
    public interface IHttpTransport
    {
        Task<HttpResponseData> SendAsync(HttpRequestData request, CancellationToken cancellationToken);
    }

    /// <summary>The default transport, on System.Net.Http.HttpClient (in Mono, .NET and Unity outside WebGL).</summary>
    public sealed class HttpClientTransport : IHttpTransport, IDisposable
    {
        private readonly HttpClient _http;

        public HttpClientTransport() : this(new HttpClient()) { }

        public HttpClientTransport(HttpClient http)
        {
            _http = http;
            _http.Timeout = System.Threading.Timeout.InfiniteTimeSpan; // the client's token bounds each attempt
        }

        public async Task<HttpResponseData> SendAsync(HttpRequestData request, CancellationToken cancellationToken)
        {
            using (var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url))
            {
                message.Headers.ExpectContinue = false; // no 100-continue round trip before each POST body
                if (request.Body != null) message.Content = new StringContent(request.Body, Encoding.UTF8, "application/json");
                foreach (var header in request.Headers)
                {
                    if (string.Equals(header.Key, "content-type", StringComparison.OrdinalIgnoreCase)) continue;
                    message.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
                HttpResponseMessage answer;
                try
                {
                    answer = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    throw;
                }
                catch (Exception error)
                {
                    throw new TransportException(error.Message, error);
                }
                using (answer)
                {
                    var response = new HttpResponseData { Status = (int)answer.StatusCode };
                    foreach (var header in answer.Headers) response.Headers[header.Key] = string.Join(", ", header.Value);
                    if (answer.Content != null)
                    {
                        foreach (var header in answer.Content.Headers) response.Headers[header.Key] = string.Join(", ", header.Value);
                        try
                        {
                            response.Body = await answer.Content.ReadAsStringAsync();
                        }
                        catch (Exception error)
                        {
                            throw new TransportException("the answer was cut off: " + error.Message, error);
                        }
                    }
                    return response;
                }
            }
        }

        public void Dispose()
        {
            _http.Dispose();
        }
    }
}
