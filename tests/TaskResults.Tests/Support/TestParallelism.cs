// Consumer specs spend nearly all their time idle, waiting for the bus to go quiet (the harness's
// 2 s inactivity timeout, paid by every spec at teardown). Running more of them at once than there
// are cores shortens the suite without making any one of them busier.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
