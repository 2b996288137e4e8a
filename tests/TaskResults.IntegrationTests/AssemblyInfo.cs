// The scenarios share a broker (or a cluster), and measure intervals: one at a time, never beside each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
