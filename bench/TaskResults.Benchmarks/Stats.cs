using System.Diagnostics;

namespace TaskResults.Benchmarks;

public static class Stats
{
    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static double Seconds(long fromTimestamp, long toTimestamp) => (double)(toTimestamp - fromTimestamp) / Stopwatch.Frequency;

    /// <summary>The most events in any window of <paramref name="window"/> (sliding, starting at an event).</summary>
    public static int MaxInWindow(long[] sortedTimestamps, TimeSpan window)
    {
        var width = (long)(window.TotalSeconds * Stopwatch.Frequency);
        var best = 0;
        for (int first = 0, last = 0; first < sortedTimestamps.Length; first++)
        {
            while (last < sortedTimestamps.Length && sortedTimestamps[last] - sortedTimestamps[first] < width) last++;
            best = Math.Max(best, last - first);
        }

        return best;
    }
}

/// <summary>CPU time spent, per process, between two readings.</summary>
public sealed record CpuUse(TimeSpan Service, TimeSpan Broker, TimeSpan Bench, TimeSpan MachineBusy, TimeSpan MachineTotal)
{
    public static CpuUse Read(int? servicePid, int brokerPid)
    {
        var (busy, total) = ProcStats.Machine();
        return new CpuUse(
            servicePid is { } pid ? ProcStats.Cpu(pid) : TimeSpan.Zero,
            ProcStats.Cpu(brokerPid),
            Process.GetCurrentProcess().TotalProcessorTime,
            busy,
            total);
    }

    public static CpuUse operator -(CpuUse after, CpuUse before) => new(
        after.Service - before.Service, after.Broker - before.Broker, after.Bench - before.Bench,
        after.MachineBusy - before.MachineBusy, after.MachineTotal - before.MachineTotal);

    /// <summary>What the rest of the machine used meanwhile (other processes, the kernel's own threads).</summary>
    public TimeSpan Others => MachineBusy - Service - Broker - Bench is var rest && rest > TimeSpan.Zero ? rest : TimeSpan.Zero;

    /// <summary>"service 310 · broker 420 · bench 150 · others 20 µs CPU/job, CPUs 97% busy".</summary>
    public string PerJob(int jobs, bool withService = true)
    {
        string Us(TimeSpan t) => (t.TotalMicroseconds / jobs).ToString("N0", Report.Culture);
        var busy = MachineTotal > TimeSpan.Zero ? MachineBusy / MachineTotal : 0;
        return (withService ? $"service {Us(Service)} · " : "") +
               $"broker {Us(Broker)} · bench {Us(Bench)} · others {Us(Others)} µs CPU/job; CPUs {busy.ToString("P0", Report.Culture)} busy";
    }
}
