//! The files a run writes besides its images (`--report`, `--trace`, `--timeline`, a dry
//! run's plan), checked before anything is written: none may be one of the run's inputs
//! (a file, a URL list), lie inside an input folder or prefix (a re-run would read it as
//! an input), stand inside the output under a name an image output could take (`.png`,
//! `.jpg`, ...: a re-run would take it for an output, or an image would replace it), or
//! be another result file of the same run (two documents interleaved in one file). A
//! report beside the images in the output (`out/report.json`) is fine.

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::plan::Place;
use crate::store::Location;

/// Refuses `files` (each with what it is, `report` say) that would replace or mix with
/// what the run reads or writes; the error says which file and why. `-` (standard
/// output) is never a clash.
pub(crate) fn refuse_clashes(
    config: &RunConfig,
    output: &Location,
    files: &[(String, PathBuf)],
) -> Result<(), String> {
    let output = Place::at(output);
    let mut seen: Vec<(&str, &Path, Place)> = Vec::new();
    for (what, path) in files {
        if path.as_os_str() == "-" {
            continue;
        }
        let place = Place::of(path)?;
        let shown = path.display();
        if let Some((other, other_path, _)) = seen.iter().find(|(_, _, p)| p.same(&place)) {
            return Err(format!(
                "the {what} and the {other} are both {}: give each a file of its own",
                other_path.display()
            ));
        }
        for input in config.inputs.iter().chain(&config.url_lists) {
            if input.as_os_str() == "-" {
                continue;
            }
            let input_place = Place::of(input)?;
            if place.same(&input_place) {
                return Err(format!(
                    "the {what} {shown} is an input of this run: writing it would destroy \
                     the input; choose another file"
                ));
            }
            if place.within(&input_place) {
                return Err(format!(
                    "the {what} {shown} is inside the input {}: a re-run would read it as \
                     an input; put it outside the inputs",
                    input.display()
                ));
            }
        }
        if place.within(&output) && has_output_extension(path) {
            return Err(format!(
                "the {what} {shown} is inside the output {} under an image's name: an \
                 image could take its place; give it its own extension (.json, .svg)",
                config.output.display()
            ));
        }
        seen.push((what, path, place));
    }
    Ok(())
}

/// Whether `path` ends in an extension imgpar gives its image outputs.
fn has_output_extension(path: &Path) -> bool {
    let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    let extension = extension.to_ascii_lowercase();
    crate::config::OutputFormat::ALL
        .iter()
        .any(|format| crate::image::formats::keeps_extension(*format, &extension))
}
