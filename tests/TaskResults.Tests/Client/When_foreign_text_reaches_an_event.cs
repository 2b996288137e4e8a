using TaskResults.Service;
using TaskResults.Service.Api;

namespace TaskResults.Tests.Client;

/// <summary>What the API or a sender wrote reaches events as a bounded excerpt, without the key in any spelling.</summary>
public sealed class When_foreign_text_reaches_an_event
{
    [Theory]
    [InlineData("key+with/slashes")]
    [InlineData("plain-key-0123")]
    public void Should_redact_the_key_as_is_url_encoded_or_JSON_escaped(string key)
    {
        var echoes = $"a {key} b {Uri.EscapeDataString(key)} c {System.Text.Json.JsonEncodedText.Encode(key)} d {key.Replace("/", "\\/")}";

        var redacted = ForeignText.Redact(echoes, key);

        Assert.DoesNotContain(key, redacted);
        Assert.DoesNotContain(Uri.EscapeDataString(key), redacted);
        Assert.DoesNotContain(System.Text.Json.JsonEncodedText.Encode(key).ToString(), redacted);
        Assert.StartsWith("a *** b *** c *** d ***", redacted);
    }

    [Fact]
    public void Should_redact_each_key_in_all_its_spellings_when_keys_alternate()
    {
        // The forms of the last key are kept: a second key (another test host, say) must never get the first one's.
        string[] keys = ["first+key/one", "second+key/two", "first+key/one"];

        foreach (var key in keys)
        {
            var redacted = ForeignText.Redact($"{Uri.EscapeDataString(key)} {key.Replace("/", "\\/")}", key);
            Assert.Equal("*** ***", redacted);
        }
    }

    [Fact]
    public void Should_never_cut_a_surrogate_pair_in_half()
    {
        var excerpt = ForeignText.Excerpt(new string('a', 9) + "😀tail", 10)!;

        Assert.Equal(new string('a', 9) + "…", excerpt);
    }

    [Fact]
    public async Task Should_report_only_an_excerpt_of_a_huge_unknown_status()
    {
        await using var api = await FakeAILabToolsApi.StartAsync();
        api.Script("chatty", FakeResponse.Status(new string('Q', 100_000)));
        await using var services = ClientServices.Build(api);

        var outcome = await services.Client.CheckAsync("chatty", TaskTypes.HdColourMigration, default);

        Assert.InRange(Assert.IsType<CheckOutcome.Pending>(outcome).Status.Length, 1, ForeignText.SenderExcerpt + 1);
    }
}
