use std::path::{Path, PathBuf};

use super::guard::refuse_output_inside;
use super::item::ListLine;
use super::kinds::{InputKind, kind_by_extension};
use super::names::{Claimants, Naming};
use super::{job_for, names_reference, output_name, urls};
use crate::config::{FormatChoice, OutputFormat};
use crate::job::{Input, Job};

/// The naming passes over `items` (jobs with their natural outputs, in plan order).
fn naming_of(items: &[(Job, Option<ListLine>)]) -> Naming {
    let has_lists = items.iter().any(|(_, list)| list.is_some());
    Naming::build(has_lists, &|_| None, &mut |lists_only, visit| {
        for (job, list) in items {
            if !lists_only || list.is_some() {
                visit(&mut job.clone(), *list);
            }
        }
        Ok(())
    })
    .unwrap()
}

/// The names `naming` gives `items` in one stream.
fn names_in_stream(naming: &Naming, items: &[(Job, Option<ListLine>)]) -> Vec<PathBuf> {
    let mut claimants = Claimants::default();
    items
        .iter()
        .map(|(job, list)| {
            let mut job = job.clone();
            naming.name(&mut claimants, &mut job, *list);
            job.output
        })
        .collect()
}

/// The names the streaming passes give `items`.
fn streamed_names(items: &[(Job, Option<ListLine>)]) -> Vec<PathBuf> {
    names_in_stream(&naming_of(items), items)
}

/// The names the rules give `items` over the plan held whole, as imgpar did before.
fn reference_names(items: &[(Job, Option<ListLine>)]) -> Vec<PathBuf> {
    let mut jobs: Vec<Job> = items.iter().map(|(job, _)| job.clone()).collect();
    let lists: std::collections::BTreeSet<u32> =
        items.iter().filter_map(|(_, l)| Some((*l)?.list)).collect();
    for list in lists {
        let at: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].1.is_some_and(|l| l.list == list))
            .collect();
        let mut outputs: Vec<PathBuf> = at.iter().map(|&i| jobs[i].output.clone()).collect();
        let lines: Vec<usize> = at.iter().map(|&i| items[i].1.unwrap().line).collect();
        names_reference::number_shared_names(&mut outputs, &lines);
        for (&i, output) in at.iter().zip(outputs) {
            jobs[i].output = output;
        }
    }
    names_reference::make_unique(&mut jobs);
    jobs.into_iter().map(|j| j.output).collect()
}

fn job(input: &str, format: OutputFormat) -> (Job, Option<ListLine>) {
    let job = job_for(
        Path::new(input),
        Path::new(input),
        InputKind::OTHER,
        Path::new("out"),
        FormatChoice::Fixed(format),
    );
    (job, None)
}

#[test]
fn names_follow_the_output_format() {
    assert_eq!(
        output_name(Path::new("a/b.JPG"), OutputFormat::Jpeg),
        Path::new("a/b.JPG")
    );
    assert_eq!(
        output_name(Path::new("a/b.gif"), OutputFormat::Png),
        Path::new("a/b.png")
    );
    assert_eq!(
        output_name(Path::new("raw"), OutputFormat::Jpeg),
        Path::new("raw.jpg")
    );
}

#[test]
fn colliding_outputs_get_distinct_stable_names() {
    let items = vec![
        job("a.gif", OutputFormat::Png),
        job("a.png", OutputFormat::Png),
        job("a.webp", OutputFormat::Png),
        job("A.PNG", OutputFormat::Png),
    ];
    assert_eq!(
        streamed_names(&items),
        vec![
            PathBuf::from("out/a.gif.png"),
            PathBuf::from("out/a.png"),
            PathBuf::from("out/a.webp.png"),
            PathBuf::from("out/A-2.png"),
        ]
    );
}

#[test]
fn url_lines_sharing_a_name_in_one_list_get_their_line_numbers() {
    let url = |list: u32, line: usize, url: &str| {
        let name = PathBuf::from(urls::name_for_url(url));
        let mut job = job_for(
            &name,
            &name,
            InputKind::OTHER,
            Path::new("out"),
            FormatChoice::Same,
        );
        job.input = Input::Url(url.into());
        (job, Some(ListLine { list, line }))
    };
    let items = vec![
        url(0, 7, "http://a/image.png"),
        url(0, 8, "http://a/a.png"),
        url(0, 12, "http://b/image.png"),
        url(1, 3, "http://c/a.png"),
    ];
    assert_eq!(
        streamed_names(&items),
        vec![
            PathBuf::from("out/0007-image.png"),
            PathBuf::from("out/a.png"),
            PathBuf::from("out/0012-image.png"),
            PathBuf::from("out/a-2.png"),
        ]
    );
}

mod one_to_one {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// File names chosen to collide: stems that already look like the suffixes and
    /// prefixes the naming adds, extensions that are and are not replaced.
    fn name() -> impl Strategy<Value = String> {
        let stems = prop::sample::select(vec![
            "b",
            "b.gif",
            "b-2",
            "b.gif-2",
            "b.png-2",
            "0001-x",
            "0002-x",
            "x",
            "x-2",
            "x-3",
            "0001-x-2",
            "b.gif.png",
        ]);
        let extensions = prop::sample::select(vec![
            ".png", ".gif", ".jpg", ".PNG", ".webp", ".jpeg", ".avif", "",
        ]);
        (stems, extensions).prop_map(|(s, e)| format!("{s}{e}"))
    }

    fn folder() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "", "d/", "D/", "b.png/", "x.png/", "d/b.png/", "B.PNG/",
        ])
        .prop_map(str::to_string)
    }

    fn format() -> impl Strategy<Value = FormatChoice> {
        prop::sample::select(vec![
            FormatChoice::Same,
            FormatChoice::Fixed(OutputFormat::Png),
            FormatChoice::Fixed(OutputFormat::Jpeg),
            FormatChoice::Fixed(OutputFormat::Webp),
            FormatChoice::Fixed(OutputFormat::Avif),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever the folder entries, files named directly and URL lines (of two
        /// lists), the streaming passes give every job the name the rules give it over
        /// the whole plan, no two jobs write one path and no job's file stands where
        /// another needs a folder.
        #[test]
        fn output_names_are_one_to_one_and_those_of_the_whole_plan(
            walked in prop::collection::vec((folder(), name()), 0..12),
            named in prop::collection::vec(name(), 0..5),
            listed in prop::collection::vec((0u8..3, 0u32..2, name()), 0..10),
            format in format(),
        ) {
            let out = Path::new("out");
            let mut items = Vec::new();
            let mut seen = HashSet::new();
            for (dir, file) in &walked {
                let rel = PathBuf::from(format!("{dir}{file}"));
                if !seen.insert(rel.clone()) {
                    continue; // a folder holds each name once
                }
                let kind = kind_by_extension(&rel).unwrap_or(InputKind::OTHER);
                items.push((job_for(&Path::new("in").join(&rel), &rel, kind, out, format), None));
            }
            for (i, file) in named.iter().enumerate() {
                let path = PathBuf::from(format!("elsewhere{i}/{file}"));
                let name = PathBuf::from(file);
                let kind = kind_by_extension(&name).unwrap_or(InputKind::OTHER);
                items.push((job_for(&path, &name, kind, out, format), None));
            }
            for (line, (host, list, file)) in listed.iter().enumerate() {
                let url = format!("http://h{host}/p/{file}");
                let name = PathBuf::from(urls::name_for_url(&url));
                let kind = kind_by_extension(&name).unwrap_or(InputKind::OTHER);
                let mut job = job_for(&name, &name, kind, out, format);
                job.input = Input::Url(url);
                items.push((job, Some(ListLine { list: *list, line: line + 1 })));
            }
            let outputs = streamed_names(&items);
            prop_assert_eq!(&outputs, &reference_names(&items));

            // Compared without case: one file on a case-insensitive volume.
            let folded = |p: &Path| p.to_string_lossy().to_lowercase();
            let unique: HashSet<String> = outputs.iter().map(|p| folded(p)).collect();
            prop_assert_eq!(unique.len(), outputs.len(), "{:?}", outputs);
            for output in &outputs {
                prop_assert!(output.starts_with(out));
                for ancestor in output.ancestors().skip(1) {
                    prop_assert!(!unique.contains(&folded(ancestor)), "{:?} under a file", output);
                }
            }
        }
    }
}

#[test]
fn output_inside_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inside = dir.path().join("sub/out");
    assert!(refuse_output_inside(dir.path(), &inside).is_err());
    assert!(refuse_output_inside(dir.path(), dir.path()).is_err());
    let other = tempfile::tempdir().unwrap();
    assert!(refuse_output_inside(dir.path(), &other.path().join("x")).is_ok());
}

#[test]
fn a_list_that_cannot_be_read_again_cuts_the_stream_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        "http://127.0.0.1:9/a.png\nhttp://127.0.0.1:9/b.png\n",
    )
    .unwrap();
    let planner = super::Planner::new(
        &[],
        std::slice::from_ref(&list),
        None,
        &crate::store::Location::Local(dir.path().join("out")),
        FormatChoice::Same,
        None,
        &crate::fetch::FetchPolicy::default(),
    )
    .unwrap();
    assert_eq!(planner.counts().jobs, 2);
    std::fs::remove_file(&list).unwrap();
    let error = planner.stream(None, &mut |_| {}).unwrap_err();
    assert!(error.contains("cannot read the URL list"), "{error}");
    assert!(error.contains("urls.txt"), "{error}");
}

#[test]
fn a_file_added_between_passes_does_not_move_a_settled_name_onto_another_job() {
    let items = vec![
        job("a.png", OutputFormat::Png),
        job("A.png", OutputFormat::Png),
        job("b.png", OutputFormat::Png),
        job("B.PNG", OutputFormat::Png),
    ];
    let naming = naming_of(&items);
    // The stream meets a job the naming passes never saw, ahead of the others.
    let mut streamed = vec![job("0.png", OutputFormat::Png)];
    streamed.extend(items.iter().cloned());
    let names = names_in_stream(&naming, &streamed);
    assert_eq!(names[1..], streamed_names(&items)[..]);
    assert_eq!(
        names[1..],
        [
            PathBuf::from("out/a.png"),
            PathBuf::from("out/A-2.png"),
            PathBuf::from("out/b.png"),
            PathBuf::from("out/B-2.png")
        ]
    );
}
