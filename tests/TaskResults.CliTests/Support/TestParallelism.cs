// Each test starts .NET processes (the check, the simulator) whose start-up is CPU-bound: run one
// test class at a time, so timings stay close to what a person sees, even on a two-core CI machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
