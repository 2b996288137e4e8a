using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using TaskResults.Simulator;

// appsettings.json sits beside the binary, wherever the simulator is started from.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
// Its documented local address, only when none of ASP.NET Core's standard settings chooses one: a Urls
// in appsettings.json would override ASPNETCORE_HTTP_PORTS, which the container image relies on.
if (!ListensWhereConfigured(builder.Configuration)) builder.WebHost.UseUrls("http://127.0.0.1:5080");
builder.Services.AddOptions<SimulatorOptions>().BindConfiguration(SimulatorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SimulatedJobs>();
var app = builder.Build();

var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
{
    var key = app.Services.GetRequiredService<IOptions<SimulatorOptions>>().Value.ApiKey;
    return context.HttpContext.Request.Headers["ailabapi-api-key"] == key
        ? await next(context)
        : Answers.Error(401, "ERROR_USER_NOT_EXISTS", "The API key is missing or not valid.");
});

api.MapGet("/image/asyn-task-results", ([FromQuery(Name = "job_id")] string? jobId, string? type, HttpRequest request, SimulatedJobs jobs) =>
{
    if (string.IsNullOrEmpty(jobId) || string.IsNullOrEmpty(type)) return Answers.Error(400, "MISSING_PARAMETERS", "job_id and type are required.");
    if (type is not ("HD_COLOUR_MIGRATION" or "GENERATE_CARTOONIZED_IMAGE"))
        return Answers.Error(400, "ERROR_INVALID_PARAMETER", "type must be HD_COLOUR_MIGRATION or GENERATE_CARTOONIZED_IMAGE.");
    return Answers.ForImageTask(jobs.Query(jobId), type, ResultUrl(request, jobId));
});

api.MapGet("/common/query-async-task-result", ([FromQuery(Name = "task_id")] string? taskId, HttpRequest request, SimulatedJobs jobs) =>
    string.IsNullOrEmpty(taskId)
        ? Answers.Error(400, "MISSING_PARAMETERS", "task_id is required.")
        : Answers.ForCommonTask(jobs.Query(taskId), ResultUrl(request, taskId)));

// Result files are public, temporary URLs, as the real ones: no key, gone after ResultLifetime.
app.MapGet("/results/{jobId}.png", (string jobId, SimulatedJobs jobs) =>
    jobs.IsResultAvailable(jobId) ? Results.Bytes(ResultImage.Png, "image/png") : Results.Text("No such result, or it has expired.", statusCode: 404));

try
{
    await app.StartAsync();
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync($"The simulator cannot start: {string.Join(" ", exception.Failures)}");
    return 2;
}

// The line the demo script and the tests wait for; with port 0 it names the port the system chose.
Console.WriteLine($"AILabTools simulator listening on {string.Join(", ", app.Urls)}");
await app.WaitForShutdownAsync();
return 0;

string ResultUrl(HttpRequest request, string jobId)
{
    var baseUrl = app.Services.GetRequiredService<IOptions<SimulatorOptions>>().Value.ResultBaseUrl?.TrimEnd('/')
        ?? $"{request.Scheme}://{request.Host}";
    return $"{baseUrl}/results/{Uri.EscapeDataString(jobId)}.png";
}

static bool ListensWhereConfigured(IConfiguration configuration) =>
    !string.IsNullOrEmpty(configuration["urls"]) || !string.IsNullOrEmpty(configuration["http_ports"])
    || !string.IsNullOrEmpty(configuration["https_ports"]) || configuration.GetSection("Kestrel:Endpoints").Exists();

/// <summary>The image every successful job produces: one transparent pixel.</summary>
internal static class ResultImage
{
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
}
