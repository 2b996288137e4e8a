using TaskResults.Service.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskResults();

var app = builder.Build();

app.MapDefaultEndpoints();

return await app.RunValidatedAsync();
