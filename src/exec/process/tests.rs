use super::slot::name_the_memory_limit;
use crate::failure::{ErrorKind, Failure};
use crate::outcome::JobEnding;

#[test]
fn an_image_out_of_memory_under_a_worker_limit_names_the_limit() {
    let mut outcome = JobEnding::failed(Failure::new(
        ErrorKind::OutOfMemory,
        "out of memory reading the file",
    ));
    name_the_memory_limit(&mut outcome, Some(64 << 20));
    assert_eq!(
        outcome.ending.reason(),
        Some("out of memory reading the file (under --worker-memory 64 MiB)")
    );
    let mut unlimited = JobEnding::failed(Failure::new(ErrorKind::OutOfMemory, "x"));
    name_the_memory_limit(&mut unlimited, None);
    assert_eq!(unlimited.ending.reason(), Some("x"));
}
