//! Every mode against a loopback server that adds 100 ms of latency to each request:
//! 200 photos (a 2000x1500 JPEG made here), so waiting on the network and decoding both
//! count. Prints each mode's wall time next to what it should be bounded by.
//!
//! `cargo bench --bench url_modes` (about a minute; the numbers in docs/performance.md come from it).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

const IMAGES: usize = 200;
const LATENCY: Duration = Duration::from_millis(100);

fn main() {
    let photo = photo_jpeg();
    let address = serve(photo.clone());
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let list = scratch.path().join("list.txt");
    let urls: String = (0..IMAGES)
        .map(|i| format!("http://{address}/photo-{i:03}.jpg\n"))
        .collect();
    std::fs::write(&list, urls).expect("the list is written");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!(
        "{IMAGES} images of {} KiB, {} ms latency per request, {cores} cores",
        photo.len() / 1024,
        LATENCY.as_millis()
    );
    println!("| mode | wall s | CPU s | bound s | wall / bound |\n| --- | --- | --- | --- | --- |");
    let latency = LATENCY.as_secs_f64();
    let runs: [(&str, &[&str], f64); 5] = [
        ("sequential", &["--mode", "sequential"], 1.0),
        ("threaded -j 2", &["--mode", "threaded", "-j", "2"], 2.0),
        ("process -j 2", &["--mode", "process", "-j", "2"], 2.0),
        (
            "async -j 2 (per-host 8)",
            &["--mode", "async", "-j", "2"],
            8.0,
        ),
        (
            "async -j 2 --per-host 32",
            &["--mode", "async", "-j", "2", "--per-host", "32"],
            32.0,
        ),
    ];
    for (name, args, waiting_at_once) in runs {
        let out = scratch.path().join(name.replace(' ', "_"));
        let report = out.with_extension("json");
        let clock = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_imgpar"))
            .arg(&list)
            .arg(&out)
            .args(args)
            .args(["--quiet", "--report"])
            .arg(&report)
            .status()
            .expect("imgpar runs");
        let wall = clock.elapsed().as_secs_f64();
        assert!(status.success(), "{name} failed");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).expect("a report")).expect("JSON");
        let cpu = report["cpu_s"].as_f64().unwrap_or(0.0);
        // Blocking modes wait and work in turn, so they add up; async overlaps the two.
        let network = (IMAGES as f64 / waiting_at_once).ceil() * latency;
        let bound = if name.starts_with("async") {
            network.max(cpu / cores as f64)
        } else {
            network + cpu / waiting_at_once
        };
        println!(
            "| {name} | {wall:.2} | {cpu:.2} | {bound:.2} | {:.2} |",
            wall / bound
        );
    }
}

/// A 2000x1500 photo-like JPEG (smooth gradients and texture), encoded here.
fn photo_jpeg() -> Vec<u8> {
    let (width, height) = (2000u32, 1500u32);
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let t = ((x * 7 + y * 13) % 64) as u8;
        image::Rgb([
            (x * 255 / width) as u8 ^ t,
            (y * 255 / height) as u8,
            ((x + y) / 16 % 256) as u8,
        ])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .encode_image(&image)
        .expect("the photo encodes");
    bytes
}

/// Serves `body` for every request on a loopback port, each answer held back by
/// `LATENCY`; connections are kept alive. Returns the address.
fn serve(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let body = body.clone();
            std::thread::spawn(move || answer(stream, &body));
        }
    });
    address
}

fn answer(mut stream: TcpStream, body: &[u8]) {
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    loop {
        // The request head ends with an empty line.
        let mut line = String::new();
        let mut head_lines = 0;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" || line == "\n" => break,
                Ok(_) => head_lines += 1,
            }
        }
        if head_lines == 0 {
            return;
        }
        std::thread::sleep(LATENCY);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body))
            .is_err()
        {
            return;
        }
    }
}
