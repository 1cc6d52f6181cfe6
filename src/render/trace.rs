//! `--trace FILE.json`: the run as a Chrome trace (Trace Event Format), to open in Perfetto
//! or chrome://tracing. One track per worker; one complete span per image that reached a
//! worker, with its stages (fetch, read, decode, resize, encode, write) nested inside; in
//! async mode the downloads, which happen before a worker takes the image, as async spans
//! of their own.

use serde_json::{Value, json};

use crate::report::{Record, RunReport};

/// The stages of one image, in the order they run, with their durations in ms. Getting
/// the input (fetch or read) is included only when it happened inside the image's span:
/// in async mode it happens before a worker takes the image, and is drawn on its own.
pub fn stages(record: &Record) -> Vec<(&'static str, f64)> {
    let t = &record.times;
    let obtained_before = record
        .fetch_start_ms
        .is_some_and(|start| start < record.start_ms);
    let mut stages = Vec::with_capacity(6);
    if !obtained_before {
        stages.extend([("fetch", t.fetch_ms), ("read", t.read_ms)]);
    }
    stages.extend([
        ("decode", t.decode_ms),
        ("resize", t.resize_ms),
        ("encode", t.encode_ms),
        ("write", t.write_ms),
    ]);
    stages.retain(|(_, ms)| *ms > 0.0);
    stages
}

/// Where each stage of `record` lies, as (name, start ms, end ms): one after another from
/// the image's start, never past its end.
pub fn stage_spans(record: &Record) -> Vec<(&'static str, f64, f64)> {
    let mut cursor = record.start_ms;
    stages(record)
        .into_iter()
        .map(|(name, ms)| {
            let start = cursor.min(record.end_ms);
            let end = (cursor + ms).min(record.end_ms);
            cursor += ms;
            (name, start, end)
        })
        .collect()
}

/// The trace's metadata events: the process and a track per worker (the downloads of
/// async mode get the track after the workers').
pub fn metadata_events(report: &RunReport) -> Vec<Value> {
    let mut events: Vec<Value> = vec![json!({
        "name": "process_name", "ph": "M", "pid": 1,
        "args": { "name": format!("imgpar {} mode, {} workers", report.mode, report.workers) }
    })];
    for worker in 0..report.workers {
        events.push(json!({
            "name": "thread_name", "ph": "M", "pid": 1, "tid": worker,
            "args": { "name": format!("worker {worker}") }
        }));
    }
    // The async mode's download limit, as a counter track.
    for (ms, limit) in &report.concurrency {
        events.push(json!({
            "name": "downloads allowed in flight", "ph": "C", "pid": 1,
            "ts": (ms * 1000.0).round(), "args": { "limit": limit }
        }));
    }
    events
}

/// The trace events of one image (the `id`-th to end): its download when it happened
/// before a worker took it (on track `downloads`), its span on its worker's track, and
/// its stages inside.
pub fn record_events(record: &Record, id: usize, downloads: usize) -> Vec<Value> {
    let us = |ms: f64| (ms * 1000.0 * 1000.0).round() / 1000.0;
    let mut events = Vec::new();
    if let (Some(start), Some(end)) = (record.fetch_start_ms, record.fetch_end_ms)
        && start < record.start_ms
    {
        for (phase, at) in [("b", start), ("e", end)] {
            events.push(json!({
                "name": record.input, "cat": "download", "ph": phase, "id": id,
                "ts": us(at), "pid": 1, "tid": downloads,
            }));
        }
    }
    let Some(worker) = record.worker else {
        return events;
    };
    events.push(json!({
        "name": record.input, "cat": "image", "ph": "X",
        "ts": us(record.start_ms), "dur": us(record.end_ms - record.start_ms),
        "pid": 1, "tid": worker,
        "args": { "status": record.status, "error": record.error, "output": record.output },
    }));
    for (name, start, end) in stage_spans(record) {
        events.push(json!({
            "name": name, "cat": "stage", "ph": "X",
            "ts": us(start), "dur": us(end - start), "pid": 1, "tid": worker,
        }));
    }
    events
}
