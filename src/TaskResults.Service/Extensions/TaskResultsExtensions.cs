using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TaskResults.Service.Admin;
using TaskResults.Service.Archive;
using TaskResults.Service.Broker;
using TaskResults.Service.Api;
using TaskResults.Service.Consumers;
using TaskResults.Service.Options;
using TaskResults.Service.Registry;
using TaskResults.Service.Scheduling;

namespace TaskResults.Service.Extensions;

public static class TaskResultsExtensions
{
    /// <summary>What the host's shutdown timeout leaves beyond MessageBus:StopTimeout: closing the connection, the other services' stops.</summary>
    public static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(10);

    /// <summary>The whole service: options, the API client, the consumer and its bus.</summary>
    public static IHostApplicationBuilder AddTaskResults(this IHostApplicationBuilder builder)
    {
        var bus = ReadBusChoice(builder.Configuration);
        var rabbitMq = bus.Transport == BusTransport.RabbitMq;
        if (rabbitMq) builder.AddBrokerSupervision();
        if (rabbitMq && bus.Rescheduling == RecheckDelivery.WaitQueues)
        {
            builder.Services.AddSingleton<IRecheckScheduler, WaitQueueRecheckScheduler>();
            builder.Services.AddSingleton<ArchiveRetries, ArchiveRetries.ThroughWaitQueues>();
        }

        builder.Services.AddTaskResultsCore();
        builder.Services.AddJobEndpoints();
        // A consumer whose connection died stops waiting for its checks after this and reconnects (BusSupervisor).
        // Not a graceful stop's: BusSupervisor.StopAsync gives the checks in flight MessageBus:StopTimeout.
        builder.Services.Configure<MassTransitHostOptions>(host => host.StopTimeout = ConsumerWatch.BusStopTimeout);
        // The host cancels a stop after its ShutdownTimeout (30 s by default): never before MessageBus:StopTimeout is over.
        builder.Services.Configure<HostOptions>(host =>
            host.ShutdownTimeout = TimeSpan.FromTicks(Math.Max(host.ShutdownTimeout.Ticks, (bus.StopTimeout + StopMargin).Ticks)));

        var archiving = ReadArchiveChoice(builder.Configuration);
        builder.Services.AddMassTransit(x =>
        {
            x.AddTaskResultsConsumers(archiving);
            if (!rabbitMq)
            {
                x.AddDelayedMessageScheduler();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseDelayedMessageScheduler();
                    cfg.ConfigureEndpoints(context);
                });
                return;
            }

            x.UsingRabbitMq((context, cfg) =>
            {
                var connections = context.GetRequiredService<BrokerConnections>();
                var options = context.GetRequiredService<IOptions<MessageBusOptions>>().Value;
                cfg.Host(connections.Broker.UriOf(connections.Nodes[0]), host =>
                {
                    host.ConnectionName(BrokerConnections.ConnectionName("bus"));
                    // A node lost without a word (a host down, a cable pulled) is noticed within seconds, not a minute.
                    host.Heartbeat(TimeSpan.FromSeconds(10));
                    if (connections.Nodes.Count > 1) host.UseCluster(cluster => { foreach (var node in connections.Nodes) cluster.Node(node.ToString()); });
                });

                // The error and skipped queues copy the command queue's arguments: keep only its type.
                var sideArguments = CommandQueue.SideQueueArguments(options.CommandQueue);
                void KeepSideArguments(IRabbitMqQueueBindingConfigurator queue)
                {
                    foreach (var key in CommandQueue.Arguments(options.CommandQueue).Keys.Except(sideArguments.Keys)) queue.SetQueueArgument(key, null);
                }

                cfg.SendTopology.ConfigureErrorSettings = KeepSideArguments;
                cfg.SendTopology.ConfigureDeadLetterSettings = KeepSideArguments;

                if (bus.Rescheduling != RecheckDelivery.WaitQueues) cfg.UseDelayedMessageScheduler();
                cfg.ConfigureEndpoints(context);
            });
        });

        // BusSupervisor starts the bus once the topology is declared, and restarts it when it must.
        if (rabbitMq) builder.Services.RemoveMassTransitHostedService();
        return builder;
    }

    /// <summary>The topology, the watch on the command queue's consumer, and the readiness that reports it.</summary>
    private static void AddBrokerSupervision(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<BrokerConnections>();
        builder.Services.AddSingleton<BrokerTopology>();
        builder.Services.AddSingleton<CommandConsumerMonitor>();
        builder.Services.AddReceiveEndpointObserver(provider => provider.GetRequiredService<CommandConsumerMonitor>());
        builder.Services.AddReceiveObserver(provider => provider.GetRequiredService<CommandConsumerMonitor>());
        builder.Services.AddSingleton<CommandQueueProbe>();
        builder.Services.AddSingleton<BusSupervisor>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<BusSupervisor>());
        builder.Services.AddHealthChecks().AddCheck<ConsumingHealthCheck>("check-task-result consumer", tags: [ServiceDefaultsExtensions.ReadyTag]);
    }

    // Whether archiving is on decides whether its consumer is registered; a bad value is reported at start with the others.
    public static bool ReadArchiveChoice(IConfiguration configuration)
    {
        try
        {
            return configuration.GetSection(ArchiveOptions.Section).Get<ArchiveOptions>()?.Enabled ?? false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
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

        services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.Section)
            .Configure<IConfiguration>((options, configuration) => options.Redis ??= configuration.GetConnectionString("Redis"))
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PollingSchedule>();
        services.TryAddSingleton<IRecheckScheduler, RedeliveryRecheckScheduler>();

        services.AddSingleton<ITaskResultEndpoint, ImageTaskResultEndpoint>();
        services.AddSingleton<ITaskResultEndpoint, CommonTaskResultEndpoint>();
        services.AddSingleton<ApiThrottle>();
        services.AddSingleton<SharedApiThrottle>();
        // One budget for every instance when they share a Redis; this instance's own otherwise.
        services.AddSingleton<ApiBudget>(provider => provider.GetRequiredService<IOptions<RegistryOptions>>().Value.Store == RegistryStore.Redis
            ? provider.GetRequiredService<SharedApiThrottle>()
            : provider.GetRequiredService<ApiThrottle>());
        services.AddSingleton<ApiCircuitBreaker>();
        services.AddSingleton<ApiIncidentLog>();
        // Built once: the quick-retry pipeline and the API's HttpClient are shared by every check (the
        // handler's PooledConnectionLifetime, not the factory's rotation, picks up DNS changes).
        services.AddSingleton<GuardedTaskResultApi>();
        services.AddSingleton<ITaskResultApi>(provider => new InstrumentedTaskResultApi(
            provider.GetRequiredService<GuardedTaskResultApi>(), provider.GetRequiredService<TimeProvider>()));
        services.AddJobRegistry();
        services.AddResultArchive();
        services.AddHttpClient<AILabToolsClient>((provider, http) => AILabToolsClient.Configure(http, Api(provider)))
            .ConfigurePrimaryHttpMessageHandler(provider => AILabToolsClient.CreateHandler(Api(provider)));
        return services;
    }

    // The store Registry:Store names (none by default) behind the one chain per job.
    private static void AddJobRegistry(this IServiceCollection services)
    {
        services.AddSingleton<InMemoryJobStore>();
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<RedisJobStore>();
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<RegistryOptions>>();
            IJobStore? store = options.Value.Store switch
            {
                RegistryStore.InMemory => provider.GetRequiredService<InMemoryJobStore>(),
                RegistryStore.Redis => provider.GetRequiredService<RedisJobStore>(),
                _ => null,
            };
            return new JobChains(options, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<JobChains>>(), store);
        });
        services.AddSingleton<JobCancellation>();
        services.AddHealthChecks().AddCheck<RegistryHealthCheck>("job registry");
    }

    // The archive (Archive:Store, none by default): the downloader, the store it names, and how a failed attempt comes back.
    private static void AddResultArchive(this IServiceCollection services)
    {
        services.AddOptions<ArchiveOptions>().BindConfiguration(ArchiveOptions.Section)
            .PostConfigure(archive => { if (archive.AllowedHosts.Length == 0) archive.AllowedHosts = ArchiveOptions.VendorHosts; })
            .ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ArchiveRetries, ArchiveRetries.ThroughRedelivery>();
        services.AddSingleton<ResultArchiver>();
        services.AddSingleton<FileSystemResultStore>();
        services.AddSingleton<S3ResultStore>();
        services.AddSingleton<AzureBlobResultStore>();
        services.AddSingleton<IResultStore>(provider => provider.GetRequiredService<IOptions<ArchiveOptions>>().Value.Store switch
        {
            ArchiveStore.S3 => provider.GetRequiredService<S3ResultStore>(),
            ArchiveStore.AzureBlob => provider.GetRequiredService<AzureBlobResultStore>(),
            _ => provider.GetRequiredService<FileSystemResultStore>(),
        });
        // Its own client: no header of the API's, no redirect followed behind the allow list's back.
        services.AddHttpClient<ResultDownloader>((provider, http) => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => ResultDownloader.CreateHandler(provider.GetRequiredService<IOptions<ArchiveOptions>>().Value));
    }

    private static AILabToolsOptions Api(IServiceProvider provider) => provider.GetRequiredService<IOptions<AILabToolsOptions>>().Value;

    public static void AddTaskResultsConsumers(this IBusRegistrationConfigurator configurator, bool archiving = false)
    {
        configurator.AddConsumer<CheckTaskResultConsumer, CheckTaskResultConsumerDefinition>();
        if (archiving) configurator.AddConsumer<ArchiveTaskResultsConsumer, ArchiveTaskResultsConsumerDefinition>();
        configurator.AddConsumer<GetTaskStatusConsumer, ControlConsumerDefinition<GetTaskStatusConsumer>>();
        configurator.AddConsumer<CancelTaskResultConsumer, ControlConsumerDefinition<CancelTaskResultConsumer>>();
    }
}
