using System.Threading.RateLimiting;

namespace TaskResults.Service.Api;

/// <summary>
/// The API key's budget, one permit per call: <see cref="ApiThrottle"/> in this process, or
/// <see cref="SharedApiThrottle"/> for every instance sharing a Redis. A call holds its place until a
/// second after its answer; when the API says "too many", the rate halves and climbs back.
/// </summary>
public abstract class ApiBudget : RateLimiter
{
    /// <summary>The calls per second currently allowed (the maximum, or less after the API complained).</summary>
    public abstract int CurrentRate { get; }

    /// <summary>The API said it is over a limit: halve the rate (at most once a second, one burst of complaints is one signal).</summary>
    public abstract void SlowDown();
}
