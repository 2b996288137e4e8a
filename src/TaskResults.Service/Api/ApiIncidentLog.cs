namespace TaskResults.Service.Api;

/// <summary>
/// Account problems (no credits, a refused key) fail every job until a person acts, and a wrong
/// address (the API answers with redirects) holds every check back until one does. They are
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
            if (Refusal(outcome) is var (kind, error))
            {
                if (_open.TryGetValue(kind, out var incident) && now - incident.LastRefusal < QuietPeriod)
                {
                    _open[kind] = incident with { LastRefusal = now, Checks = incident.Checks + 1 };
                    return;
                }

                _open[kind] = new Incident(now, now, 1);
                logger.LogCritical(kind == ApiErrorClass.Misconfigured
                    ? "The AILabTools API redirects this service's calls ({ErrorClass}: {ErrorCode} {ErrorMessage}). Checks are held back, as during an outage, " +
                      "until AILabTools:BaseUrl is fixed; jobs fail only by their deadline; logged once per incident"
                    : "The AILabTools API refuses this service's calls ({ErrorClass}: {ErrorCode} {ErrorMessage}). " +
                      "Every check fails with API_ERROR until the account or AILabTools:ApiKey is fixed; logged once per incident",
                    kind, error.Code, error.Message);
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

    // The answers no check can get past until a person acts: the account refused, or the address wrong.
    private static (ApiErrorClass Kind, ApiError Error)? Refusal(CheckOutcome outcome) => outcome switch
    {
        CheckOutcome.PermanentError { Class: ApiErrorClass.NotEnoughCredits or ApiErrorClass.BadKeyOrAccount } refused => (refused.Class, refused.Error),
        CheckOutcome.TransientError { Error.Code: ApiErrorCodes.Redirect } redirected => (ApiErrorClass.Misconfigured, redirected.Error),
        _ => null,
    };

    private sealed record Incident(DateTimeOffset Since, DateTimeOffset LastRefusal, int Checks);
}
