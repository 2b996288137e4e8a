using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TaskResults.Service.Api;
using TaskResults.Service.Consumers;
using TaskResults.Service.Options;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Extensions;

public static class TaskResultsExtensions
{
    /// <summary>The whole service: options, the API client, the consumer and its bus.</summary>
    public static IHostApplicationBuilder AddTaskResults(this IHostApplicationBuilder builder)
    {
        var bus = ReadBusChoice(builder.Configuration);
        var waitQueues = bus.Transport == BusTransport.RabbitMq && bus.Rescheduling == RecheckDelivery.WaitQueues;
        if (waitQueues)
        {
            // Rescheduling waits until the wait queues are declared (WaitQueueTopology.Ready).
            builder.Services.AddSingleton<WaitQueueTopology>();
            builder.Services.AddHostedService(provider => provider.GetRequiredService<WaitQueueTopology>());
            builder.Services.AddSingleton<IRecheckScheduler, WaitQueueRecheckScheduler>();
        }

        builder.Services.AddTaskResultsCore();

        builder.Services.AddMassTransit(x =>
        {
            x.AddTaskResultsConsumers();
            if (bus.Transport == BusTransport.InMemory)
            {
                x.AddDelayedMessageScheduler();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseDelayedMessageScheduler();
                    cfg.ConfigureEndpoints(context);
                });
            }
            else
            {
                x.UsingRabbitMq((context, cfg) =>
                {
                    var options = context.GetRequiredService<IOptions<MessageBusOptions>>().Value;
                    cfg.Host(new Uri(options.RabbitMq!));
                    if (!waitQueues) cfg.UseDelayedMessageScheduler();
                    cfg.ConfigureEndpoints(context);
                });
            }
        });
        return builder;
    }

    // The bus must be chosen while registering. A value the binder cannot convert (MessageBus:Transport=Kafka)
    // is reported with the other options at start, in one line (ValidateOptionsAsync); until then, the defaults.
    private static MessageBusOptions ReadBusChoice(IConfiguration configuration)
    {
        try
        {
            return configuration.GetSection(MessageBusOptions.Section).Get<MessageBusOptions>() ?? new MessageBusOptions();
        }
        catch (InvalidOperationException)
        {
            return new MessageBusOptions();
        }
    }

    /// <summary>Everything but the bus: shared by the host and the tests' harness.</summary>
    public static IServiceCollection AddTaskResultsCore(this IServiceCollection services)
    {
        services.AddOptions<AILabToolsOptions>().BindConfiguration(AILabToolsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PollingOptions>().BindConfiguration(PollingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessageBusOptions>().BindConfiguration(MessageBusOptions.Section)
            .Configure<IConfiguration>((options, configuration) => options.RabbitMq ??= configuration.GetConnectionString("RabbitMq"))
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PollingSchedule>();
        services.TryAddSingleton<IRecheckScheduler, RedeliveryRecheckScheduler>();

        services.AddSingleton<ITaskResultEndpoint, ImageTaskResultEndpoint>();
        services.AddSingleton<ITaskResultEndpoint, CommonTaskResultEndpoint>();
        services.AddSingleton<ApiThrottle>();
        services.AddSingleton<ApiCircuitBreaker>();
        services.AddSingleton<ApiIncidentLog>();
        services.AddTransient<GuardedTaskResultApi>();
        services.AddTransient<ITaskResultApi>(provider => new InstrumentedTaskResultApi(
            provider.GetRequiredService<GuardedTaskResultApi>(), provider.GetRequiredService<TimeProvider>()));
        services.AddHttpClient<AILabToolsClient>((provider, http) => AILabToolsClient.Configure(http, Api(provider)))
            .ConfigurePrimaryHttpMessageHandler(provider => AILabToolsClient.CreateHandler(Api(provider)));
        return services;
    }

    private static AILabToolsOptions Api(IServiceProvider provider) => provider.GetRequiredService<IOptions<AILabToolsOptions>>().Value;

    public static void AddTaskResultsConsumers(this IBusRegistrationConfigurator configurator) =>
        configurator.AddConsumer<CheckTaskResultConsumer, CheckTaskResultConsumerDefinition>();
}
