using TaskResults.Service.Registry;

namespace TaskResults.Tests.Configuration;

public sealed class When_the_job_registry_is_configured
{
    [Fact]
    public void Should_need_a_Redis_connection_string_for_the_Redis_store() =>
        Assert.Contains(OptionsValidation.Problems(new RegistryOptions { Store = RegistryStore.Redis }), p => p.Contains("ConnectionStrings:Redis", StringComparison.Ordinal));

    [Fact]
    public void Should_refuse_a_connection_string_Redis_cannot_read_without_repeating_it()
    {
        var problems = OptionsValidation.Problems(new RegistryOptions { Store = RegistryStore.Redis, Redis = "localhost:6379,password=s3cret-pass,nonsense=1" });
        Assert.Single(problems);
        Assert.DoesNotContain("s3cret-pass", problems[0]);
    }

    [Theory]
    [InlineData("redis.internal:6380,password=s3cret-pass,ssl=true", "redis.internal:6380,password=***,ssl=true")]
    [InlineData("redis:6379", "redis:6379")]
    public void Should_show_where_Redis_is_but_never_its_password(string configuration, string shown)
    {
        var options = new RegistryOptions { Store = RegistryStore.Redis, Redis = configuration };
        Assert.Empty(OptionsValidation.Problems(options));
        Assert.Contains($"Redis={shown}", options.ToString());
        Assert.DoesNotContain("s3cret-pass", options.ToString());
    }

    [Fact]
    public void Should_keep_no_registry_by_default() => Assert.Equal(RegistryStore.None, new RegistryOptions().Store);
}
