using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SharpClip.Tests.Text;

/// <summary>
/// Reads a JSON string value keeping lone surrogate escapes (<c>"\udc80"</c>), which the fixture generator (Python's
/// json) may write and System.Text.Json refuses to return as a string.
/// </summary>
static class JsonStrings
{
    public static string Get(JsonElement e)
    {
        var raw = e.GetRawText();
        if (e.ValueKind != JsonValueKind.String) throw new InvalidDataException($"expected a JSON string, got {raw}");
        var sb = new StringBuilder(raw.Length);
        for (int i = 1; i < raw.Length - 1; i++)
        {
            char c = raw[i];
            if (c != '\\') { sb.Append(c); continue; }
            char esc = raw[++i];
            switch (esc)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'u': sb.Append((char)int.Parse(raw.AsSpan(i + 1, 4), NumberStyles.HexNumber)); i += 4; break;
                default: sb.Append(esc); break; // \" \\ \/
            }
        }
        return sb.ToString();
    }

    public static int[]? Ints(JsonElement e) =>
        e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
