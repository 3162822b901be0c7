using System;
using System.Collections.Generic;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>The SDK's own JSON reader/writer: everything the API sends must come through intact.</summary>
    [TestFixture]
    public class JsonTests
    {
        [Test]
        public void ParsesEveryKindOfValue()
        {
            var value = Json.ParseObject("{\"s\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\",\"i\":-42,\"big\":9007199254740993,\"d\":1.5e3,"
                + "\"t\":true,\"f\":false,\"n\":null,\"a\":[1,[2],{}],\"o\":{\"k\":\"v\"}}");
            Assert.AreEqual("a\"b\\c\n\u00e9\U0001F600", value.GetString("s"));
            Assert.AreEqual(-42L, value["i"]);
            Assert.AreEqual(9007199254740993L, value["big"], "integers keep 64-bit precision");
            Assert.AreEqual(1500.0, value["d"]);
            Assert.AreEqual(true, value["t"]);
            Assert.AreEqual(false, value["f"]);
            Assert.IsNull(value["n"]);
            Assert.AreEqual(3, value.GetArray("a").Count);
            Assert.AreEqual("v", value.GetObject("o").GetString("k"));
        }

        [Test]
        public void WritesWhatItReads()
        {
            var original = new JsonObject
            {
                { "text", "tab\t quote\" slash\\ control\u0001 snow\u2603" },
                { "long", long.MaxValue },
                { "double", 0.1 },
                { "list", new List<object> { 1L, "two", null, true } },
                { "nested", new JsonObject { { "empty", new JsonObject() } } },
            };
            string text = Json.Serialize(original);
            StringAssert.Contains("\\u0001", text);
            var back = Json.ParseObject(text);
            Assert.AreEqual(original.GetString("text"), back.GetString("text"));
            Assert.AreEqual(long.MaxValue, back["long"]);
            Assert.AreEqual(0.1, back["double"]);
            CollectionAssert.AreEqual((List<object>)original["list"], back.GetArray("list"));
            Assert.AreEqual(0, back.GetObject("nested").GetObject("empty").Count);
            Assert.AreEqual(text, Json.Serialize(back), "a round trip is stable");
        }

        [Test]
        public void WritesDictionariesArraysAndNumbersInvariantly()
        {
            var previous = System.Threading.Thread.CurrentThread.CurrentCulture;
            System.Threading.Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            try
            {
                Assert.AreEqual("{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":false}}",
                    Json.Serialize(new Dictionary<string, object> { { "a", new object[] { 1, 2.5, "x" } }, { "b", new Dictionary<string, bool> { { "c", false } } } }));
            }
            finally
            {
                System.Threading.Thread.CurrentThread.CurrentCulture = previous;
            }
        }

        [Test]
        public void RejectsWhatIsNotJson()
        {
            foreach (string bad in new[] { "", "{", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "tru", "01", "1.", "\"\\x\"", "\"a", "{} x", "{'a':1}", "-", "\"\u0001\"" })
            {
                Assert.Throws<JsonParseException>(() => Json.Parse(bad), "should reject: " + bad);
            }
        }

        [Test]
        public void RefusesValuesJsonCannotHold()
        {
            Assert.Throws<ArgumentException>(() => Json.Serialize(double.NaN));
            Assert.Throws<ArgumentException>(() => Json.Serialize(new object()));
        }

        [Test]
        public void TypedGettersTolerateMissingAndMixedNumbers()
        {
            var value = Json.ParseObject("{\"n\":3.0,\"s\":\"7\"}");
            Assert.AreEqual(3L, value.GetLong("n"));
            Assert.AreEqual(7L, value.GetLong("s"));
            Assert.AreEqual(-1L, value.GetLong("missing", -1));
            Assert.IsNull(value.GetString("missing"));
            Assert.IsNull(value.GetObject("n"));
        }
    }

    /// <summary>The retry rules that need no server: what is retried and how long to wait.</summary>
    [TestFixture]
    public class RetryRuleTests
    {
        [Test]
        public void OnlyTryAgainLaterStatusesAreRetried()
        {
            foreach (int status in new[] { 429, 502, 503, 504 }) Assert.IsTrue(LudexClient.IsRetryableStatus(status), status.ToString());
            foreach (int status in new[] { 400, 401, 403, 404, 409, 422, 500, 501 }) Assert.IsFalse(LudexClient.IsRetryableStatus(status), status.ToString());
        }

        [Test]
        public void RetryAfterReadsSecondsAndDates()
        {
            Assert.AreEqual(TimeSpan.FromSeconds(2), LudexClient.ParseRetryAfter("2"));
            Assert.IsNull(LudexClient.ParseRetryAfter(null));
            Assert.IsNull(LudexClient.ParseRetryAfter("soon"));
            var inTenSeconds = DateTimeOffset.UtcNow.AddSeconds(10).ToString("r");
            var parsed = LudexClient.ParseRetryAfter(inTenSeconds).Value;
            Assert.That(parsed.TotalSeconds, Is.InRange(8.0, 10.0));
        }

        [Test]
        public void BackoffIsFullJitterUnderTheCap()
        {
            var policy = new RetryPolicy();
            var random = new Random(7);
            double largestFirst = 0, largestLate = 0;
            for (int i = 0; i < 500; i++)
            {
                double first = policy.Backoff(1, random).TotalMilliseconds;
                double late = policy.Backoff(10, random).TotalMilliseconds;
                Assert.That(first, Is.InRange(0.0, 200.0));
                Assert.That(late, Is.InRange(0.0, 5000.0));
                largestFirst = Math.Max(largestFirst, first);
                largestLate = Math.Max(largestLate, late);
            }
            Assert.Greater(largestFirst, 150.0, "the first wait spreads over [0, 200 ms]");
            Assert.Greater(largestLate, 4000.0, "late waits reach the 5 s cap");
        }

        [Test]
        public void SlugIsTheLastSegmentOfTheProblemType()
        {
            Assert.AreEqual("insufficient-funds", LudexException.SlugOf("https://ludex.dev/problems/insufficient-funds"));
            Assert.AreEqual("rate-limited", LudexException.SlugOf("rate-limited"));
            Assert.IsNull(LudexException.SlugOf(""));
        }
    }
}
