namespace TaskResults.Service;

/// <summary>
/// Text the service did not write (a sender's job id, a header, the API's messages) on its way into
/// an event, a log line or a span: at most a bounded excerpt, on one line, and never the API key.
/// </summary>
public static class ForeignText
{
    /// <summary>The most of a sender's text (a job id, a task type) an event repeats.</summary>
    public const int SenderExcerpt = 256;

    /// <summary>The most of the API's text (an error message) an event or log line repeats.</summary>
    public const int ApiExcerpt = 1000;

    private const string Ellipsis = "…";

    /// <summary>
    /// <paramref name="text"/> without control characters, cut to <paramref name="max"/> characters
    /// (an ellipsis says it was cut), and with <paramref name="secret"/> replaced by <c>***</c>.
    /// </summary>
    public static string? Excerpt(string? text, int max, string? secret = null)
    {
        if (text is null) return null;
        var redacted = Redact(text, secret);
        // Never half a surrogate pair at the cut.
        var keep = redacted.Length > max && char.IsHighSurrogate(redacted[max - 1]) ? max - 1 : max;
        var cut = redacted.Length > max ? redacted[..keep] + Ellipsis : redacted;
        return cut.Any(char.IsControl) ? new string(cut.Select(c => char.IsControl(c) ? ' ' : c).ToArray()) : cut;
    }

    /// <summary>
    /// <paramref name="text"/> with every occurrence of <paramref name="secret"/> replaced by <c>***</c>:
    /// as is, URL-encoded, or escaped the ways JSON writers escape it (<c>\u002B</c>, <c>\/</c>).
    /// </summary>
    public static string Redact(string text, string? secret)
    {
        if (string.IsNullOrEmpty(secret)) return text;
        foreach (var form in FormsOf(secret)) text = text.Replace(form, "***", StringComparison.OrdinalIgnoreCase);
        return text;
    }

    // The service has one key: its forms are worked out once, not for every answer the API gives. A class, so that
    // a reader on another thread sees a key with its own forms, never half of another's.
    private static KeyForms? _lastForms;

    private static string[] FormsOf(string secret)
    {
        if (_lastForms is { } last && ReferenceEquals(last.Secret, secret)) return last.Forms;
        string[] forms = [.. new[] { secret, Uri.EscapeDataString(secret), System.Text.Json.JsonEncodedText.Encode(secret).ToString(), secret.Replace("/", "\\/", StringComparison.Ordinal) }.Distinct()];
        _lastForms = new KeyForms(secret, forms);
        return forms;
    }

    private sealed class KeyForms(string secret, string[] forms)
    {
        public string Secret { get; } = secret;

        public string[] Forms { get; } = forms;
    }
}
