namespace TaskResults.Service.Api;

/// <summary>Error codes the service gives outcomes the API gave no code for.</summary>
public static class ApiErrorCodes
{
    /// <summary>The API answered with a redirect, which is never followed (the key would go along): AILabTools:BaseUrl is wrong.</summary>
    public const string Redirect = "API_REDIRECT";

    /// <summary>No call was made: calls are paused after repeated failures (<see cref="ApiCircuitBreaker"/>).</summary>
    public const string CircuitOpen = "CIRCUIT_OPEN";
}
