using System.Text.Json;
using System.Text.Json.Nodes;

namespace TaskResults.Tests.Support;

public static class JsonAssert
{
    /// <summary>Same JSON value, whatever the property order and spacing.</summary>
    public static void Equivalent(string expected, JsonElement? actual)
    {
        Assert.True(actual.HasValue, $"Expected {expected}, got nothing.");
        Equivalent(expected, JsonNode.Parse(actual.Value.GetRawText()));
    }

    public static void Equivalent(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"Expected {expected}, got {actual?.ToJsonString() ?? "nothing"}.");
}
