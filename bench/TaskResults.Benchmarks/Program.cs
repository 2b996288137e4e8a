using TaskResults.Benchmarks;

// bench/run.sh builds, starts a private broker and runs this; see the README's "Benchmark" section.
var options = BenchOptions.Parse(args);
if (options is null)
{
    await Console.Error.WriteLineAsync(
        "usage: TaskResults.Benchmarks --broker-dir DIR [--cluster-dir DIR] --service-dll PATH [--out FILE] [--quick] [--only 1,2,3,4,5,6,7,8,9] [--jobs N] [--trial]");
    return 2;
}

return await Bench.RunAsync(options);

namespace TaskResults.Benchmarks
{
    /// <summary>Command line: where the broker (scripts/rabbitmq.sh DIR) and the service build are, what to write.</summary>
    public sealed record BenchOptions(bool Quick, string BrokerDir, string? ClusterDir, string ServiceDll, string? Out, IReadOnlySet<int> Only, int? Jobs, bool Trial)
    {
        public static BenchOptions? Parse(string[] args)
        {
            bool quick = false, trial = false;
            string? brokerDir = null, clusterDir = null, serviceDll = null, output = null;
            int? jobs = null;
            var only = new HashSet<int>();
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick": quick = true; break;
                    case "--trial": trial = true; break;
                    case "--broker-dir" when i + 1 < args.Length: brokerDir = args[++i]; break;
                    case "--cluster-dir" when i + 1 < args.Length: clusterDir = args[++i]; break;
                    case "--service-dll" when i + 1 < args.Length: serviceDll = args[++i]; break;
                    case "--out" when i + 1 < args.Length: output = args[++i]; break;
                    case "--jobs" when i + 1 < args.Length: jobs = int.Parse(args[++i], Report.Culture); break;
                    case "--only" when i + 1 < args.Length:
                        foreach (var part in args[++i].Split(',')) only.Add(int.Parse(part, Report.Culture));
                        break;
                    default: return null;
                }
            }

            return brokerDir is null || serviceDll is null ? null : new BenchOptions(quick, brokerDir, clusterDir, serviceDll, output, trial ? [1] : only, jobs, trial);
        }

        public bool Runs(int scenario) => (Only.Count == 0 || Only.Contains(scenario)) && (scenario != 6 || ClusterDir is not null);

        /// <summary>--trial: only the service's own throughput at API 0 ms and the default limit, for trying a change.</summary>
        public bool Baselines => !Trial;
    }

    /// <summary>How big each scenario is: the sizes, or a smoke run's.</summary>
    public sealed record Sizes(
        int Warmup,
        TimeSpan WarmupTime,
        int Throughput,
        int Throughput50Limit16,
        int Throughput50Limit64,
        TimeSpan LatencyRun,
        int Pending,
        int Waiting,
        int Backlog,
        TimeSpan PolitenessWindow,
        TimeSpan Settle)
    {
        public static readonly Sizes Full = new(
            Warmup: 1_000,
            WarmupTime: TimeSpan.FromSeconds(25),
            Throughput: 20_000,
            Throughput50Limit16: 20_000,
            Throughput50Limit64: 20_000,
            LatencyRun: TimeSpan.FromSeconds(10),
            Pending: 10_000,
            Waiting: 100_000,
            Backlog: 20_000,
            PolitenessWindow: TimeSpan.FromSeconds(30),
            Settle: TimeSpan.FromSeconds(5));

        public static readonly Sizes Quick = new(
            Warmup: 300,
            WarmupTime: TimeSpan.FromSeconds(1),
            Throughput: 1_000,
            Throughput50Limit16: 500,
            Throughput50Limit64: 1_000,
            LatencyRun: TimeSpan.FromSeconds(2),
            Pending: 500,
            Waiting: 10_000,
            Backlog: 1_000,
            PolitenessWindow: TimeSpan.FromSeconds(5),
            Settle: TimeSpan.FromSeconds(1));
    }
}
