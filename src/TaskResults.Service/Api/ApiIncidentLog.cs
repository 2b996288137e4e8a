namespace TaskResults.Service.Api;

/// <summary>
/// Account problems (no credits, a refused key) fail every job until a person acts. They are
/// logged loudly once when they start and once when they end, not once per job per second.
/// </summary>
public sealed class ApiIncidentLog(TimeProvider clock, ILogger<ApiIncidentLog> logger)
{
    private readonly Dictionary<ApiErrorClass, (DateTimeOffset Since, int Checks)> _open = new();

    public void Observe(CheckOutcome outcome)
    {
        lock (_open)
        {
            if (outcome is CheckOutcome.PermanentError { Class: ApiErrorClass.NotEnoughCredits or ApiErrorClass.BadKeyOrAccount } refused)
            {
                if (_open.TryGetValue(refused.Class, out var incident))
                {
                    _open[refused.Class] = incident with { Checks = incident.Checks + 1 };
                    return;
                }

                _open[refused.Class] = (clock.GetUtcNow(), 1);
                logger.LogCritical("The AILabTools API refuses this service's calls ({ErrorClass}: {ErrorCode} {ErrorMessage}). " +
                    "Every check fails with API_ERROR until the account or AILabTools:ApiKey is fixed; logged once per incident",
                    refused.Class, refused.Error.Code, refused.Error.Message);
            }
            else if (_open.Count > 0 && outcome is CheckOutcome.Pending or CheckOutcome.Succeeded or CheckOutcome.JobFailed)
            {
                foreach (var (errorClass, (since, checks)) in _open)
                {
                    logger.LogWarning("The AILabTools API accepts calls again after {ErrorClass} since {Since} ({Checks} checks refused)", errorClass, since, checks);
                }

                _open.Clear();
            }
        }
    }
}
