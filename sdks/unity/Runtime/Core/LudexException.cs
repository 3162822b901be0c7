using System;

namespace Ludex
{
    /// <summary>
    /// The one error type of the SDK. A problem+json answer maps to Status/Slug/Detail/RequestId
    /// with the whole body in Problem; a network failure or timeout after the last retry has
    /// Status 0 and slug <c>network-error</c> or <c>timeout</c>.
    /// </summary>
    public class LudexException : Exception
    {
        public const string ProblemTypePrefix = "https://ludex.dev/problems/";

        public int Status { get; private set; }
        public string Slug { get; private set; }
        public string Detail { get; private set; }
        public string RequestId { get; private set; }
        public JsonObject Problem { get; private set; }

        public LudexException(int status, string slug, string detail, string requestId, JsonObject problem, Exception inner = null)
            : base(Describe(status, slug, detail), inner)
        {
            Status = status;
            Slug = slug;
            Detail = detail;
            RequestId = requestId;
            Problem = problem ?? new JsonObject();
        }

        private static string Describe(int status, string slug, string detail)
        {
            return "Ludex " + (status == 0 ? "" : status + " ") + slug + (string.IsNullOrEmpty(detail) ? "" : ": " + detail);
        }

        /// <summary>The exception for an error answer, problem+json or not.</summary>
        public static LudexException FromResponse(HttpResponseData response)
        {
            JsonObject problem = null;
            try
            {
                if (!string.IsNullOrEmpty(response.Body)) problem = Json.Parse(response.Body) as JsonObject;
            }
            catch (JsonParseException)
            {
                problem = null;
            }
            string headerRequestId = response.Header("x-request-id");
            if (problem == null)
            {
                return new LudexException(response.Status, "http-" + response.Status, Truncate(response.Body), headerRequestId, null);
            }
            string type = problem.GetString("type") ?? "";
            string slug = SlugOf(type);
            if (string.IsNullOrEmpty(slug)) slug = "http-" + response.Status;
            string requestId = problem.GetString("requestId") ?? headerRequestId;
            string detail = problem.GetString("detail") ?? problem.GetString("title");
            return new LudexException(response.Status, slug, detail, requestId, problem);
        }

        /// <summary>The last path segment of a problem type URI.</summary>
        public static string SlugOf(string type)
        {
            if (string.IsNullOrEmpty(type)) return null;
            string trimmed = type.TrimEnd('/');
            int slash = trimmed.LastIndexOf('/');
            return slash >= 0 ? trimmed.Substring(slash + 1) : trimmed;
        }

        private static string Truncate(string body)
        {
            if (body == null) return null;
            return body.Length <= 200 ? body : body.Substring(0, 200);
        }
    }
}
