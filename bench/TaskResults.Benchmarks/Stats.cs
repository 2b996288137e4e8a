using System.Diagnostics;

namespace TaskResults.Benchmarks;

public static class Stats
{
    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static double Seconds(long fromTimestamp, long toTimestamp) => (double)(toTimestamp - fromTimestamp) / Stopwatch.Frequency;

    /// <summary>The most events in any window of <paramref name="window"/> (sliding; each window starts at an event), and where it starts.</summary>
    public static (int Count, long Start) MaxInWindow(long[] sortedTimestamps, TimeSpan window)
    {
        var width = (long)(window.TotalSeconds * Stopwatch.Frequency);
        var (best, start) = (0, sortedTimestamps.Length > 0 ? sortedTimestamps[0] : 0);
        for (int first = 0, last = 0; first < sortedTimestamps.Length; first++)
        {
            while (last < sortedTimestamps.Length && sortedTimestamps[last] - sortedTimestamps[first] < width) last++;
            if (last - first > best) (best, start) = (last - first, sortedTimestamps[first]);
        }

        return (best, start);
    }

    /// <summary>
    /// The mean number of events in a window of <paramref name="window"/> sliding from
    /// <paramref name="from"/> to <paramref name="to"/>: a rate per window that bursts at the
    /// edges of the span do not bias (events per span does, when a burst opens and another closes it).
    /// </summary>
    public static double MeanInWindow(long[] timestamps, long from, long to, TimeSpan window)
    {
        var width = (long)(window.TotalSeconds * Stopwatch.Frequency);
        var slide = to - width - from;
        if (slide <= 0) return timestamps.Length / Math.Max(Seconds(from, to), 1e-9) * window.TotalSeconds;
        // An event at x is in the window [t, t + width) for t in (x - width, x]; t slides over [from, from + slide].
        double covered = timestamps.Sum(x => (double)Math.Max(0, Math.Min(x, from + slide) - Math.Max(x - width, from)));
        return covered / slide;
    }
}

/// <summary>CPU time spent, per process, between two readings.</summary>
public sealed record CpuUse(TimeSpan Service, TimeSpan Broker, TimeSpan Bench, TimeSpan MachineBusy, TimeSpan MachineTotal)
{
    /// <summary>The CPU time so far of the service, the broker (every node of it) and this process, and the machine's.</summary>
    public static CpuUse Read(int? servicePid, IReadOnlyList<int> brokerPids)
    {
        var (busy, total) = ProcStats.Machine();
        return new CpuUse(
            servicePid is { } pid ? ProcStats.Cpu(pid) : TimeSpan.Zero,
            brokerPids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcStats.Cpu(pid)),
            Process.GetCurrentProcess().TotalProcessorTime,
            busy,
            total);
    }

    public static CpuUse operator -(CpuUse after, CpuUse before) => new(
        after.Service - before.Service, after.Broker - before.Broker, after.Bench - before.Bench,
        after.MachineBusy - before.MachineBusy, after.MachineTotal - before.MachineTotal);

    public static CpuUse operator +(CpuUse one, CpuUse other) => new(
        one.Service + other.Service, one.Broker + other.Broker, one.Bench + other.Bench,
        one.MachineBusy + other.MachineBusy, one.MachineTotal + other.MachineTotal);

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
