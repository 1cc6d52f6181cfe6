//! The command line describes itself: shell completions and a manual page, generated from
//! the same definitions as the parser.

use crate::common;

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

/// The long flags a help text lists (`--report`, `--max-pixels`, ...).
fn long_flags(help: &str) -> Vec<String> {
    let mut flags: Vec<String> = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(str::to_string)
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn the_guide_documents_every_flag_of_every_command() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/guide.md"))
        .expect("docs/guide.md");
    let mut checked = 0;
    for command in [
        &[][..],
        &["bench"][..],
        &["enqueue"][..],
        &["work"][..],
        &["queue-status"][..],
        &["merge-reports"][..],
        &["plan"][..],
        &["run"][..],
    ] {
        let output = imgpar().args(command).arg("--help").output().expect("help");
        assert!(output.status.success());
        let help = String::from_utf8_lossy(&output.stdout);
        for flag in long_flags(&help) {
            // The flag as a word: not the start of a longer flag.
            let documented = guide.match_indices(&flag).any(|(at, _)| {
                !guide[at + flag.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            });
            assert!(
                documented,
                "`imgpar {} --help` lists {flag}, docs/guide.md does not",
                command.join(" ")
            );
            checked += 1;
        }
    }
    assert!(
        checked > 40,
        "the help texts list the flags ({checked} checked)"
    );
}

#[test]
fn the_readme_is_a_front_door_and_every_local_link_leads_somewhere() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "the README has {lines} lines; the depth belongs in docs/"
    );
    for page in [
        "README.md",
        "ARCHITECTURE.md",
        "CHANGELOG.md",
        "docs/guide.md",
        "docs/formats.md",
        "docs/performance.md",
        "docs/safety.md",
    ] {
        let text =
            std::fs::read_to_string(root.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        let folder = root.join(page).parent().expect("a folder").to_path_buf();
        for (at, _) in text.match_indices("](") {
            let target = &text[at + 2..];
            let target = &target[..target.find(')').unwrap_or(0)];
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            assert!(
                folder.join(file).exists(),
                "{page} links to {target}, which is not there"
            );
        }
    }
}

#[test]
fn the_format_table_in_the_docs_is_the_registrys() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/formats.md"))
        .expect("docs/formats.md");
    let table = imgpar::internals::formats_table();
    assert!(
        docs.contains(&table),
        "docs/formats.md's table differs from the format registry (src/image/formats.rs); \
         put this in its place:\n\n{table}"
    );
}
