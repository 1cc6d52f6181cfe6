//! The committed fixtures are exactly what the committed generator writes.

#[allow(dead_code)]
#[path = "../../../examples/make_fixtures.rs"]
mod make_fixtures;

use crate::common;

#[test]
fn generator_reproduces_the_committed_fixtures() {
    let fresh = tempfile::tempdir().unwrap();
    make_fixtures::write_all(fresh.path());
    let committed = common::fixtures("");
    let files = common::files_under(fresh.path());
    assert_eq!(
        files,
        common::files_under(&committed),
        "fixture file lists differ"
    );
    for rel in files {
        assert!(
            std::fs::read(fresh.path().join(&rel)).unwrap()
                == std::fs::read(committed.join(&rel)).unwrap(),
            "{} differs from what the generator writes; re-run `cargo run --example make_fixtures -- fixtures`",
            rel.display()
        );
    }
}
