namespace TaskResults.Tests.Support;

/// <summary>Configuration for the service under test: the fake API, the test key, short waits.</summary>
public static class TestConfiguration
{
    public static Dictionary<string, string?> For(FakeAILabToolsApi api) => new()
    {
        ["AILabTools:BaseUrl"] = api.BaseUrl,
        ["AILabTools:ApiKey"] = FakeAILabToolsApi.ApiKey,
        // Far above any answer the fake gives, even on a loaded machine: exact call counts must not meet a timeout.
        ["AILabTools:Timeout"] = "00:00:10",
        ["Polling:Interval"] = "00:00:00.100",
        ["Polling:MaxInterval"] = "00:00:01",
        ["Polling:TransientRetryInterval"] = "00:00:00.050",
        ["Polling:DefaultDeadline"] = "00:00:30",
        ["MessageBus:Transport"] = "InMemory",
    };
}
