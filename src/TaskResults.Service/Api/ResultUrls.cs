using System.Text.Json;

namespace TaskResults.Service.Api;

/// <summary>Finds the result files in a finished job's <c>data</c> object, whichever API produced it.</summary>
internal static class ResultUrls
{
    private static readonly string[] KnownFields = ["result_url", "image_url", "image_list"];

    /// <summary>
    /// <c>result_url</c>, <c>image_url</c> and <c>image_list</c> first, in that order, then any other
    /// top-level string that is an http(s) URL; each URL once.
    /// </summary>
    public static IReadOnlyList<string> From(JsonElement data)
    {
        var urls = new List<string>();
        foreach (var name in KnownFields)
        {
            if (data.TryGetProperty(name, out var value)) AddUrls(value, urls);
        }

        foreach (var property in data.EnumerateObject())
        {
            if (!KnownFields.Contains(property.Name) && property.Value.ValueKind == JsonValueKind.String)
                AddUrls(property.Value, urls);
        }

        return urls;
    }

    private static void AddUrls(JsonElement value, List<string> urls)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray()) AddUrls(item, urls);
        }
        else if (value.ValueKind == JsonValueKind.String && IsHttpUrl(value.GetString()) is { } url && !urls.Contains(url))
        {
            urls.Add(url);
        }
    }

    private static string? IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? text
            : null;
}
