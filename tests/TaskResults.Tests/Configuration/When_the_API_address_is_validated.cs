using TaskResults.Service.Options;

namespace TaskResults.Tests.Configuration;

public sealed class When_the_API_address_is_validated
{
    [Theory]
    [InlineData("https://www.ailabapi.com", false)]
    [InlineData("http://127.0.0.1:5080", false)]
    [InlineData("http://localhost:5080", false)]
    [InlineData("http://[::1]:5080", false)]
    [InlineData("http://simulator:8080", true)]
    [InlineData("http://www.ailabapi.com", true)]
    public void Should_refuse_plain_http_beyond_this_machine(string baseUrl, bool refused)
    {
        var problems = OptionsValidation.Problems(new AILabToolsOptions { BaseUrl = baseUrl, ApiKey = "k" });

        Assert.Equal(refused, problems.Any(p => p.Contains("AllowInsecureHttp", StringComparison.Ordinal)));
    }

    [Fact]
    public void Should_refuse_an_ftp_address_that_the_Url_attribute_lets_through()
    {
        var problems = OptionsValidation.Problems(new AILabToolsOptions { BaseUrl = "ftp://www.ailabapi.com", ApiKey = "k", AllowInsecureHttp = true });

        Assert.Contains(problems, p => p.Contains("must be an https://", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_accept_plain_http_anywhere_when_explicitly_allowed()
    {
        Assert.Empty(OptionsValidation.Problems(new AILabToolsOptions { BaseUrl = "http://simulator:8080", ApiKey = "k", AllowInsecureHttp = true }));
    }
}
