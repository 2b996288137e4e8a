using TaskResults.Service.Cli;
using TaskResults.Service.Extensions;

if (HealthProbe.IsRequested(args)) return await HealthProbe.RunAsync(args);
if (CheckCommand.IsRequested(args)) return await CheckCommand.RunAsync(args);

// appsettings.json sits beside the binary, wherever the service is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddServiceDefaults();
builder.AddTaskResults();

var app = builder.Build();

app.MapDefaultEndpoints();

return await app.RunValidatedAsync();
