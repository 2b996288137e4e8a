using System.Text.Json;

namespace TaskResults.Service.Api;

/// <summary>
/// The result files of a finished job's <c>data</c> object, as the API documents them for every task
/// type: <c>image_list</c> (HD colour migration), else <c>result_url</c> (the cartoon generator, and
/// the tasks of the common endpoint). Other fields stay in <c>Data</c>; nothing else is guessed at.
/// </summary>
internal static class ResultUrls
{
    public static IReadOnlyList<string> From(JsonElement data)
    {
        if (data.TryGetProperty("image_list", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            return list.EnumerateArray().Select(Url).OfType<string>().Distinct().ToList();
        }

        return data.TryGetProperty("result_url", out var single) && Url(single) is { } url ? [url] : [];
    }

    // An absolute http(s) URL, as a subscriber can fetch it; anything else is not a result file.
    private static string? Url(JsonElement value) =>
        value.ValueKind == JsonValueKind.String
        && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? value.GetString()
            : null;
}
