using System.Text.Json;

namespace TaskResults.Service.Api;

/// <summary>
/// What differs between the API's result endpoints: where to ask and how to read the business
/// fields of a successful answer. Everything else (transport, public fields, error classes) is
/// shared in <see cref="AILabToolsClient"/>.
/// </summary>
public interface ITaskResultEndpoint
{
    bool Handles(string taskType);

    /// <summary>Where to ask, relative to <c>AILabTools:BaseUrl</c>, the query's values escaped.</summary>
    string RelativeUri(string jobId, string taskType);

    /// <summary>Reads the business fields; called only when the public fields say success.</summary>
    CheckOutcome ReadResult(JsonElement root, ApiCallInfo call);
}
