using TaskResults.Service.Admin;
using TaskResults.Service.Cli;
using TaskResults.Service.Extensions;

if (HealthProbe.IsRequested(args)) return await HealthProbe.RunAsync(args);
if (CheckCommand.IsRequested(args)) return await CheckCommand.RunAsync(args);

// appsettings.json sits beside the binary, wherever the service is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddServiceDefaults();
builder.AddTaskResults();

var app = builder.Build();
// First of all: mapping the health endpoints already builds the bus from its options.
if (!await app.Services.ValidateOptionsAsync()) return HostRunExtensions.ConfigurationError;

app.MapDefaultEndpoints();
app.MapJobEndpoints();

return await app.RunWithConfigurationLineAsync();
