using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine.Networking;

namespace Ludex.Unity
{
    /// <summary>
    /// The HTTP transport on UnityWebRequest: works on every Unity platform, WebGL included (where
    /// HttpClient does not). Call it from the main thread, as the client does when it is used from
    /// MonoBehaviours (its awaits keep Unity's synchronization context).
    /// </summary>
    public sealed class UnityWebRequestTransport : IHttpTransport
    {
        public Task<HttpResponseData> SendAsync(HttpRequestData request, CancellationToken cancellationToken)
        {
            var answer = new TaskCompletionSource<HttpResponseData>();
            var web = new UnityWebRequest(request.Url, request.Method) { downloadHandler = new DownloadHandlerBuffer() };
            if (request.Body != null)
            {
                web.uploadHandler = new UploadHandlerRaw(Encoding.UTF8.GetBytes(request.Body)) { contentType = "application/json" };
            }
            foreach (var header in request.Headers)
            {
                if (header.Key.ToLowerInvariant() == "content-type") continue; // the upload handler sets it
                web.SetRequestHeader(header.Key, header.Value);
            }
            bool finished = false;
            // Timeouts and cancellation fire on a timer thread; UnityWebRequest may only be aborted on the main thread.
            var registration = cancellationToken.Register(() => LudexMainThread.Post(() => { if (!finished) web.Abort(); }));
            var operation = web.SendWebRequest();
            operation.completed += _ =>
            {
                finished = true;
                registration.Dispose();
                try
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        answer.TrySetCanceled();
                    }
                    else if (web.result == UnityWebRequest.Result.ConnectionError || web.responseCode == 0)
                    {
                        answer.TrySetException(new TransportException(web.error ?? "no answer"));
                    }
                    else
                    {
                        var response = new HttpResponseData { Status = (int)web.responseCode, Body = web.downloadHandler.text };
                        Dictionary<string, string> headers = web.GetResponseHeaders();
                        if (headers != null) foreach (var header in headers) response.Headers[header.Key] = header.Value;
                        answer.TrySetResult(response);
                    }
                }
                finally
                {
                    web.Dispose();
                }
            };
            return answer.Task;
        }
    }
}
