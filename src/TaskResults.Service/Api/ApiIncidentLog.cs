namespace TaskResults.Service.Api;

/// <summary>
/// Account problems (no credits, a refused key) fail every job until a person acts. They are
/// logged loudly once when an incident starts and once when it is over, not once per job: an
/// incident lasts while refusals keep coming less than <see cref="QuietPeriod"/> apart, and is
/// over when the API accepts a call after that long without a refusal.
/// </summary>
public sealed class ApiIncidentLog(TimeProvider clock, ILogger<ApiIncidentLog> logger)
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMinutes(1);

    private readonly Dictionary<ApiErrorClass, Incident> _open = new();

    public void Observe(CheckOutcome outcome)
    {
        var now = clock.GetUtcNow();
        lock (_open)
        {
            if (outcome is CheckOutcome.PermanentError { Class: ApiErrorClass.NotEnoughCredits or ApiErrorClass.BadKeyOrAccount } refused)
            {
                if (_open.TryGetValue(refused.Class, out var incident) && now - incident.LastRefusal < QuietPeriod)
                {
                    _open[refused.Class] = incident with { LastRefusal = now, Checks = incident.Checks + 1 };
                    return;
                }

                _open[refused.Class] = new Incident(now, now, 1);
                logger.LogCritical("The AILabTools API refuses this service's calls ({ErrorClass}: {ErrorCode} {ErrorMessage}). " +
                    "Every check fails with API_ERROR until the account or AILabTools:ApiKey is fixed; logged once per incident",
                    refused.Class, refused.Error.Code, refused.Error.Message);
            }
            else if (_open.Count > 0 && outcome is CheckOutcome.Pending or CheckOutcome.Succeeded or CheckOutcome.JobFailed)
            {
                foreach (var (errorClass, incident) in _open.Where(i => now - i.Value.LastRefusal >= QuietPeriod).ToList())
                {
                    logger.LogWarning("The AILabTools API accepts calls again after {ErrorClass} since {Since} ({Checks} checks refused)",
                        errorClass, incident.Since, incident.Checks);
                    _open.Remove(errorClass);
                }
            }
        }
    }

    private sealed record Incident(DateTimeOffset Since, DateTimeOffset LastRefusal, int Checks);
}
