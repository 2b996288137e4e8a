using TaskResults.Service.Admin;

namespace TaskResults.Tests.Configuration;

public sealed class When_the_jobs_endpoints_are_configured
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Should_keep_them_off_without_a_token(string? token)
    {
        // "": the compose file's Admin__Token when TASKRESULTS_ADMIN_TOKEN is not set.
        Assert.False(new AdminOptions { Token = token }.Enabled);
        Assert.Empty(OptionsValidation.Problems(new AdminOptions { Token = token }));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("a token with spaces in it")]
    public void Should_refuse_a_token_anyone_could_guess_without_repeating_it(string token)
    {
        var problem = Assert.Single(OptionsValidation.Problems(new AdminOptions { Token = token }));
        Assert.Contains("Admin:Token", problem);
        Assert.DoesNotContain(token, problem);
    }

    [Fact]
    public void Should_never_show_the_token_in_the_start_up_line()
    {
        var options = new AdminOptions { Token = "0123456789abcdef-secret", OpenReads = true };
        Assert.Empty(OptionsValidation.Problems(options));
        Assert.DoesNotContain("secret", options.ToString());
        Assert.Contains("on", options.ToString());
    }

    [Fact]
    public void Should_refuse_open_reads_without_a_token() =>
        Assert.Contains(OptionsValidation.Problems(new AdminOptions { OpenReads = true }), p => p.Contains("Admin:OpenReads needs Admin:Token", StringComparison.Ordinal));

    [Theory]
    [InlineData("http://jaeger:16686/trace/", false)]
    [InlineData("ftp://jaeger/{traceId}", false)]
    [InlineData("jaeger/trace/{traceId}", false)]
    [InlineData("http://jaeger:16686/trace/{traceId}", true)]
    public void Should_need_a_trace_address_with_the_trace_id_in_it(string template, bool valid)
    {
        var options = new AdminOptions { Token = "0123456789abcdef", TraceUrlTemplate = template };
        Assert.Equal(valid, OptionsValidation.Problems(options).Count == 0);
        if (valid) Assert.Equal("http://jaeger:16686/trace/4bf92f35", options.TraceUrl("4bf92f35")!.AbsoluteUri);
    }
}
