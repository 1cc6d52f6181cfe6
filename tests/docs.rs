//! The command line describes itself: shell completions and a manual page, generated from
//! the same definitions as the parser.

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn completion_scripts_know_every_flag() {
    for (shell, marker) in [
        ("bash", "_imgpar()"),
        ("zsh", "#compdef imgpar"),
        ("fish", "complete -c imgpar"),
    ] {
        imgpar()
            .args(["completions", shell])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(marker))
            .stdout(predicate::str::contains("max-pixels"))
            .stdout(predicate::str::contains("skip-existing"));
    }
    imgpar()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value"));
}

#[test]
fn the_manual_page_is_roff_and_documents_the_flags() {
    imgpar()
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH imgpar 1"))
        .stdout(predicate::str::contains("\\-\\-skip\\-existing"))
        .stdout(predicate::str::contains("\\-\\-mode"));
}
