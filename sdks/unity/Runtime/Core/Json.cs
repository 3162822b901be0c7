using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Ludex
{
    /// <summary>
    /// A JSON object as the parser returns it: string keys in document order of insertion, values
    /// that are <see cref="JsonObject"/>, <see cref="List{T}"/> of object, string, long, double, bool or null.
    /// Typed getters spare callers the casts, and tolerate the int/long/double mix JSON allows.
    /// </summary>
    public sealed class JsonObject : Dictionary<string, object>
    {
        public JsonObject() : base(StringComparer.Ordinal) { }

        public string GetString(string key)
        {
            object value;
            return TryGetValue(key, out value) && value != null ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;
        }

        public long GetLong(string key, long fallback = 0)
        {
            object value;
            if (!TryGetValue(key, out value) || value == null) return fallback;
            if (value is long) return (long)value;
            if (value is double) return (long)(double)value;
            long parsed;
            return long.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out parsed) ? parsed : fallback;
        }

        /// <summary>Null when the key is missing or null (e.g. nextLevelXp at the top level).</summary>
        public long? GetNullableLong(string key)
        {
            object value;
            return TryGetValue(key, out value) && value != null ? GetLong(key) : (long?)null;
        }

        public double GetDouble(string key, double fallback = 0)
        {
            object value;
            if (!TryGetValue(key, out value) || value == null) return fallback;
            if (value is double) return (double)value;
            if (value is long) return (long)value;
            return fallback;
        }

        public bool GetBool(string key, bool fallback = false)
        {
            object value;
            return TryGetValue(key, out value) && value is bool ? (bool)value : fallback;
        }

        public JsonObject GetObject(string key)
        {
            object value;
            return TryGetValue(key, out value) ? value as JsonObject : null;
        }

        public List<object> GetArray(string key)
        {
            object value;
            return TryGetValue(key, out value) ? value as List<object> : null;
        }

        public override string ToString()
        {
            return Json.Serialize(this);
        }
    }

    /// <summary>The JSON error of a document that is not JSON: the position says where to look.</summary>
    public sealed class JsonParseException : FormatException
    {
        public int Position { get; private set; }

        public JsonParseException(string message, int position)
            : base(message + " at position " + position)
        {
            Position = position;
        }
    }

    /// <summary>
    /// A small strict JSON reader and writer (RFC 8259), so the SDK needs no package that Unity
    /// users would have to add, and no reflection that IL2CPP could strip.
    /// </summary>
    public static class Json
    {
        private const int MaxDepth = 256;

        public static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            var reader = new Reader(text);
            reader.SkipWhitespace();
            object value = reader.ReadValue(0);
            reader.SkipWhitespace();
            if (!reader.AtEnd) throw new JsonParseException("unexpected text after the JSON value", reader.Position);
            return value;
        }

        public static JsonObject ParseObject(string text)
        {
            var value = Parse(text) as JsonObject;
            if (value == null) throw new JsonParseException("expected a JSON object", 0);
            return value;
        }

        public static string Serialize(object value)
        {
            var builder = new StringBuilder();
            Write(builder, value, 0);
            return builder.ToString();
        }

        private static void Write(StringBuilder builder, object value, int depth)
        {
            if (depth > MaxDepth) throw new ArgumentException("the value nests deeper than " + MaxDepth + " levels");
            if (value == null) { builder.Append("null"); return; }
            var text = value as string;
            if (text != null) { WriteString(builder, text); return; }
            if (value is bool) { builder.Append((bool)value ? "true" : "false"); return; }
            if (value is char) { WriteString(builder, value.ToString()); return; }
            if (value is int || value is long || value is short || value is sbyte || value is byte
                || value is uint || value is ulong || value is ushort)
            {
                builder.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            }
            if (value is double || value is float)
            {
                double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(number) || double.IsInfinity(number)) throw new ArgumentException("JSON has no NaN or infinity");
                builder.Append(number.ToString("R", CultureInfo.InvariantCulture));
                return;
            }
            if (value is decimal) { builder.Append(((decimal)value).ToString(CultureInfo.InvariantCulture)); return; }
            if (value is DateTime) { WriteString(builder, ((DateTime)value).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)); return; }
            var dictionary = value as IDictionary;
            if (dictionary != null)
            {
                builder.Append('{');
                bool first = true;
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (!first) builder.Append(',');
                    first = false;
                    WriteString(builder, Convert.ToString(entry.Key, CultureInfo.InvariantCulture));
                    builder.Append(':');
                    Write(builder, entry.Value, depth + 1);
                }
                builder.Append('}');
                return;
            }
            var sequence = value as IEnumerable;
            if (sequence != null)
            {
                builder.Append('[');
                bool first = true;
                foreach (object item in sequence)
                {
                    if (!first) builder.Append(',');
                    first = false;
                    Write(builder, item, depth + 1);
                }
                builder.Append(']');
                return;
            }
            throw new ArgumentException("cannot write a " + value.GetType().Name + " as JSON");
        }

        private static void WriteString(StringBuilder builder, string text)
        {
            builder.Append('"');
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': builder.Append("\\\""); break;
                    case '\\': builder.Append("\\\\"); break;
                    case '\n': builder.Append("\\n"); break;
                    case '\r': builder.Append("\\r"); break;
                    case '\t': builder.Append("\\t"); break;
                    case '\b': builder.Append("\\b"); break;
                    case '\f': builder.Append("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                            builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            builder.Append(c);
                        break;
                }
            }
            builder.Append('"');
        }

        private sealed class Reader
        {
            private readonly string _text;
            private int _pos;

            public Reader(string text) { _text = text; }

            private static bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

            public int Position { get { return _pos; } }
            public bool AtEnd { get { return _pos >= _text.Length; } }

            public void SkipWhitespace()
            {
                while (_pos < _text.Length)
                {
                    char c = _text[_pos];
                    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') _pos++;
                    else break;
                }
            }

            public object ReadValue(int depth)
            {
                if (depth > MaxDepth) throw new JsonParseException("nesting deeper than " + MaxDepth, _pos);
                if (AtEnd) throw new JsonParseException("unexpected end of JSON", _pos);
                char c = _text[_pos];
                switch (c)
                {
                    case '{': return ReadObject(depth);
                    case '[': return ReadArray(depth);
                    case '"': return ReadString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                        throw new JsonParseException("unexpected character '" + c + "'", _pos);
                }
            }

            private void Expect(string word)
            {
                if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0)
                    throw new JsonParseException("expected '" + word + "'", _pos);
                _pos += word.Length;
            }

            private JsonObject ReadObject(int depth)
            {
                var result = new JsonObject();
                _pos++;
                SkipWhitespace();
                if (!AtEnd && _text[_pos] == '}') { _pos++; return result; }
                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || _text[_pos] != '"') throw new JsonParseException("expected a property name", _pos);
                    string key = ReadString();
                    SkipWhitespace();
                    if (AtEnd || _text[_pos] != ':') throw new JsonParseException("expected ':'", _pos);
                    _pos++;
                    SkipWhitespace();
                    result[key] = ReadValue(depth + 1);
                    SkipWhitespace();
                    if (AtEnd) throw new JsonParseException("unterminated object", _pos);
                    char c = _text[_pos++];
                    if (c == '}') return result;
                    if (c != ',') throw new JsonParseException("expected ',' or '}'", _pos - 1);
                }
            }

            private List<object> ReadArray(int depth)
            {
                var result = new List<object>();
                _pos++;
                SkipWhitespace();
                if (!AtEnd && _text[_pos] == ']') { _pos++; return result; }
                while (true)
                {
                    SkipWhitespace();
                    result.Add(ReadValue(depth + 1));
                    SkipWhitespace();
                    if (AtEnd) throw new JsonParseException("unterminated array", _pos);
                    char c = _text[_pos++];
                    if (c == ']') return result;
                    if (c != ',') throw new JsonParseException("expected ',' or ']'", _pos - 1);
                }
            }

            private string ReadString()
            {
                _pos++; // opening quote
                var builder = new StringBuilder();
                while (true)
                {
                    if (AtEnd) throw new JsonParseException("unterminated string", _pos);
                    char c = _text[_pos++];
                    if (c == '"') return builder.ToString();
                    if (c < 0x20) throw new JsonParseException("control character in a string", _pos - 1);
                    if (c != '\\') { builder.Append(c); continue; }
                    if (AtEnd) throw new JsonParseException("unterminated escape", _pos);
                    char e = _text[_pos++];
                    switch (e)
                    {
                        case '"': builder.Append('"'); break;
                        case '\\': builder.Append('\\'); break;
                        case '/': builder.Append('/'); break;
                        case 'b': builder.Append('\b'); break;
                        case 'f': builder.Append('\f'); break;
                        case 'n': builder.Append('\n'); break;
                        case 'r': builder.Append('\r'); break;
                        case 't': builder.Append('\t'); break;
                        case 'u':
                            if (_pos + 4 > _text.Length) throw new JsonParseException("short \\u escape", _pos);
                            int code;
                            if (!int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                                throw new JsonParseException("bad \\u escape", _pos);
                            builder.Append((char)code);
                            _pos += 4;
                            break;
                        default:
                            throw new JsonParseException("unknown escape '\\" + e + "'", _pos - 1);
                    }
                }
            }

            private object ReadNumber()
            {
                int start = _pos;
                if (_text[_pos] == '-') _pos++;
                if (AtEnd) throw new JsonParseException("bad number", start);
                if (_text[_pos] == '0') _pos++;
                else if (_text[_pos] >= '1' && _text[_pos] <= '9') { while (!AtEnd && IsAsciiDigit(_text[_pos])) _pos++; }
                else throw new JsonParseException("bad number", start);
                bool integral = true;
                if (!AtEnd && _text[_pos] == '.')
                {
                    integral = false;
                    _pos++;
                    if (AtEnd || !IsAsciiDigit(_text[_pos])) throw new JsonParseException("bad fraction", _pos);
                    while (!AtEnd && IsAsciiDigit(_text[_pos])) _pos++;
                }
                if (!AtEnd && (_text[_pos] == 'e' || _text[_pos] == 'E'))
                {
                    integral = false;
                    _pos++;
                    if (!AtEnd && (_text[_pos] == '+' || _text[_pos] == '-')) _pos++;
                    if (AtEnd || !IsAsciiDigit(_text[_pos])) throw new JsonParseException("bad exponent", _pos);
                    while (!AtEnd && IsAsciiDigit(_text[_pos])) _pos++;
                }
                string token = _text.Substring(start, _pos - start);
                long whole;
                if (integral && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out whole)) return whole;
                return double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }
    }
}
