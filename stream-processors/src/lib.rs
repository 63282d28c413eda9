//! Stream processors: raw events in, normalized log records out, refined by each project's
//! pipeline (`nexuslog-pipeline`), reloaded at run time when it changes (`pipelines.rs`).
//!
//! Delivery: each polled batch is turned into output records (log records, or dead letters for
//! what cannot be processed), and the outputs are produced together with the batch's input
//! offsets in one bus transaction. A crash before the commit replays the batch and its
//! earlier output is invisible (aborted); a crash after it finds the offsets moved. So each raw
//! event yields exactly one output record. A bad record never blocks a partition: it becomes a
//! dead letter in the same transaction.

pub mod alerting;
mod bound;
mod pipelines;
mod processor;

pub use pipelines::{PipelineRegistry, Snapshot, PIPELINE_POLL};
pub use nexuslog_pipeline::TimeWindow;
pub use processor::{process_record, OutputLimits, Processor, ProcessorConfig};
