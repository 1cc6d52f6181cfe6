//! How a batch runs: worker processes that die or hang, interrupted runs, the bench sweep.

mod bench;
mod interrupts;
mod worker_count;
mod worker_processes;
