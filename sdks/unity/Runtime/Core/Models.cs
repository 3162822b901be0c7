using System;
using System.Collections.Generic;

namespace Ludex
{
    /// <summary>A stored event (from GET .../events or the realtime socket); ids are stable across redeliveries.</summary>
    public sealed class LudexEvent
    {
        public string Id;
        public string Type;
        public string TenantId;
        public string ProjectId;
        public string PlayerId;
        public long Seq;
        public JsonObject Data;
        public string OccurredAt;
        public JsonObject Raw;

        public static LudexEvent From(JsonObject body)
        {
            return new LudexEvent
            {
                Id = body.GetString("id"),
                Type = body.GetString("type"),
                TenantId = body.GetString("tenantId"),
                ProjectId = body.GetString("projectId"),
                PlayerId = body.GetString("playerId"),
                Seq = body.GetLong("seq"),
                Data = body.GetObject("data") ?? new JsonObject(),
                OccurredAt = body.GetString("occurredAt"),
                Raw = body,
            };
        }

        public override string ToString()
        {
            return Type + " " + Id + " " + Json.Serialize(Data);
        }
    }

    /// <summary>One page of a cursor-paginated list; NextCursor is null on the last page.</summary>
    public sealed class Page<T>
    {
        public List<T> Items = new List<T>();
        public string NextCursor;

        internal static Page<T> From(JsonObject body, Func<JsonObject, T> read)
        {
            return new Page<T> { Items = ModelReader.List(body.GetArray("items"), read) ?? new List<T>(), NextCursor = body.GetString("nextCursor") };
        }
    }

    /// <summary>Filters of GET .../events.</summary>
    public sealed class EventQuery
    {
        public IList<string> Types;
        public string PlayerId;
        public string From; // RFC 3339
        public string To;   // RFC 3339, exclusive
        public string Cursor;
        public int? Limit;
    }
}
