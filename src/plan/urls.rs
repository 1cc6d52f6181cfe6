//! URL lists: which files are lists of URLs, their lines, and the output name of each URL,
//! sanitised so that nothing can be written outside the output folder and deterministic so
//! that re-runs give the same names.

use std::io::Read;
use std::path::Path;

use percent_encoding::percent_decode_str;

/// One URL of a list, with its line number (1-based) in that list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUrl {
    pub line: usize,
    pub url: String,
}

/// Longest file name, in bytes, taken from a URL (before the extension is set).
const MAX_NAME_BYTES: usize = 100;

/// Whether the regular file at `path` reads as a URL list: its first line that is not
/// blank or a `#` comment starts with `http://` or `https://`.
pub fn looks_like_url_list(path: &Path) -> bool {
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    parse_list(&text).first().is_some_and(|first| {
        let lower = first.url.to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    })
}

/// The URLs of a list: one per line, surrounding blanks trimmed, blank lines and lines
/// starting with `#` skipped.
pub fn parse_list(text: &str) -> Vec<ListedUrl> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            Some(ListedUrl {
                line: i + 1,
                url: listed_url(line)?.to_string(),
            })
        })
        .collect()
}

/// The URL one line of a list holds: the line trimmed (its line ending too), unless it is
/// blank or a `#` comment.
pub fn listed_url(line: &str) -> Option<&str> {
    let url = line.trim();
    (!url.is_empty() && !url.starts_with('#')).then_some(url)
}

/// The file name a URL's image is saved under, without a directory and before the output
/// extension is settled: its last path segment, percent-decoded, with separators, control
/// characters and characters Windows refuses replaced by `_`, no leading dots (so never
/// `..` or a hidden file), at most 100 bytes; `image` when nothing is left.
pub fn name_for_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or("");
    let after_scheme = without_query
        .split_once("://")
        .map_or(without_query, |(_, rest)| rest);
    // The host alone is not a name: only a path segment is.
    let segment = after_scheme
        .split_once('/')
        .map_or("", |(_, path)| path.rsplit('/').next().unwrap_or(""));
    let decoded = percent_decode_str(segment).decode_utf8_lossy();
    let cleaned: String = decoded
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let mut name = String::new();
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        name.push(c);
    }
    if name.is_empty() {
        "image".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_blanks_and_comments_and_keep_line_numbers() {
        let list = parse_list("# photos\n\nhttp://a/1.jpg\n  https://b/2.png  \n#x\n");
        assert_eq!(
            list,
            vec![
                ListedUrl {
                    line: 3,
                    url: "http://a/1.jpg".into()
                },
                ListedUrl {
                    line: 4,
                    url: "https://b/2.png".into()
                },
            ]
        );
    }

    #[test]
    fn names_never_leave_the_output_folder() {
        assert_eq!(name_for_url("http://h/a/b/photo.jpg?size=2#x"), "photo.jpg");
        assert_eq!(
            name_for_url("http://h/x/..%2F..%2Fetc%2Fpasswd"),
            "_.._etc_passwd"
        );
        assert_eq!(name_for_url("http://h/.."), "image");
        assert_eq!(name_for_url("http://h/..."), "image");
        assert_eq!(name_for_url("http://h/.hidden.png"), "hidden.png");
        assert_eq!(name_for_url("http://h/a%00b%0Ac.png"), "a_b_c.png");
        assert_eq!(name_for_url("http://h/C:%5Cwin.png"), "C__win.png");
        assert_eq!(name_for_url("http://h/"), "image");
        assert_eq!(name_for_url("http://h"), "image");
        assert_eq!(
            name_for_url(&format!("http://h/{}.jpg", "é".repeat(80))).len(),
            100
        );
    }
}
