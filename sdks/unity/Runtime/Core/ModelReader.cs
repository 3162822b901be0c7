using System;
using System.Collections.Generic;

namespace Ludex
{
    /// <summary>The collection readers the generated models use; a missing field reads as null.</summary>
    internal static class ModelReader
    {
        public static List<T> List<T>(List<object> items, Func<JsonObject, T> read)
        {
            if (items == null) return null;
            var result = new List<T>(items.Count);
            foreach (object item in items) result.Add(read(item as JsonObject));
            return result;
        }

        public static List<string> Strings(List<object> items)
        {
            if (items == null) return null;
            var result = new List<string>(items.Count);
            foreach (object item in items) result.Add(item as string);
            return result;
        }

        public static Dictionary<string, long> Longs(JsonObject values)
        {
            if (values == null) return null;
            var result = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string key in values.Keys) result[key] = values.GetLong(key);
            return result;
        }
    }
}
