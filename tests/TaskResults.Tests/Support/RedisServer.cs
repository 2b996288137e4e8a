namespace TaskResults.Tests.Support;

/// <summary>A private redis-server (<see cref="RedisProcess"/>) for one test class.</summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly RedisProcess _redis = new();

    public int Port => _redis.Port;

    /// <inheritdoc cref="RedisProcess.ConnectionString"/>
    public string ConnectionString => _redis.ConnectionString;

    public Task InitializeAsync() => _redis.StartAsync();

    /// <inheritdoc cref="RedisProcess.PauseAsync"/>
    public Task PauseAsync() => _redis.PauseAsync();

    /// <inheritdoc cref="RedisProcess.ResumeAsync"/>
    public Task ResumeAsync(bool forgetEverything = false) => _redis.ResumeAsync(forgetEverything);

    /// <inheritdoc cref="RedisProcess.CliAsync"/>
    public Task<string> CliAsync(params string[] arguments) => _redis.CliAsync(arguments);

    public async Task DisposeAsync() => await _redis.DisposeAsync();
}
