//! A JSON document written a line at a time while a run goes: a head line, one item a
//! line (`,` in front of all but the first, so that every line written is whole), and a
//! tail once the run is over. Each line is flushed as it is written, so a run killed at
//! any point leaves every item written before it on disk. A file at an object address is
//! kept in a temporary file and put at the end (in one request, or as a multipart upload
//! read from the file a part at a time: never held whole).

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::store::{self, Location};

/// One file being written a line at a time (see the module's documentation).
pub(crate) struct LineFile {
    path: PathBuf,
    /// Where `path` is (read once): a local file, or an object put whole at the end.
    location: Result<Location, String>,
    head: &'static str,
    /// Written beside its place under a temporary name and renamed there by `finish`:
    /// until then a file already at `path` stays as it was, and a file never finished
    /// leaves nothing.
    whole_or_nothing: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    out: Option<BufWriter<File>>,
    /// The temporary name of a whole-or-nothing file (removed when dropped).
    temp: Option<tempfile::TempPath>,
    /// The file was opened (or tried to be).
    opened: bool,
    items: usize,
    /// The first thing that went wrong.
    error: Option<String>,
}

impl LineFile {
    /// A file to be written at `path`, starting with the line `head`.
    pub fn new(path: &Path, head: &'static str) -> LineFile {
        LineFile {
            path: path.to_path_buf(),
            location: Location::parse(path),
            head,
            whole_or_nothing: false,
            state: Mutex::default(),
        }
    }

    /// A file to be written at `path`, starting with the line `head`, that appears there
    /// only when [`LineFile::finish`] succeeds (a merged report: a failed merge leaves a
    /// file already there as it was).
    pub fn whole_or_nothing(path: &Path, head: &'static str) -> LineFile {
        LineFile {
            whole_or_nothing: true,
            ..LineFile::new(path, head)
        }
    }

    /// Creates the file and writes its head, unless that was done already.
    pub fn open(&self) {
        let mut state = self.lock();
        self.open_locked(&mut state);
    }

    /// Writes one item on a line of its own.
    pub fn item(&self, text: &str) {
        let mut state = self.lock();
        self.open_locked(&mut state);
        let comma = if state.items == 0 { "" } else { "," };
        state.items += 1;
        write(&mut state, format_args!("{comma}{text}\n"));
    }

    /// Writes `tail` and closes the file (putting it, for an object address); says what
    /// went wrong, if anything did, since it was opened.
    pub fn finish(&self, tail: &str) -> Result<(), String> {
        let mut state = self.lock();
        self.open_locked(&mut state);
        write(&mut state, format_args!("{tail}\n"));
        if let Some(error) = state.error.take() {
            return Err(error);
        }
        let Some(out) = state.out.take() else {
            return Ok(());
        };
        let mut file = out.into_inner().map_err(|e| e.error().to_string())?;
        let url = match &self.location {
            Ok(Location::Local(local)) => {
                if let Some(temp) = state.temp.take() {
                    file.sync_all().map_err(|e| e.to_string())?;
                    temp.persist(local)
                        .map_err(|e| format!("{}: {}", self.path.display(), e.error))?;
                }
                return Ok(());
            }
            Ok(Location::Object(url, _)) => url,
            Err(e) => return Err(e.clone()),
        };
        file.rewind()
            .map_err(|e| format!("cannot read back its temporary copy: {e}"))?;
        store::put_file_blocking(url, file, &crate::fetch::FetchPolicy::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open_locked(&self, state: &mut State) {
        if state.opened {
            return;
        }
        state.opened = true;
        let created = match &self.location {
            Ok(Location::Object(..)) | Err(_) => tempfile::tempfile(),
            Ok(Location::Local(local)) if self.whole_or_nothing => {
                let folder = local
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                crate::output::builder().tempfile_in(folder).map(|named| {
                    let (file, temp) = named.into_parts();
                    state.temp = Some(temp);
                    file
                })
            }
            // `-` is standard output, as `-` for an input is standard input.
            Ok(Location::Local(_)) if self.path.as_os_str() == "-" => stdout_file(),
            Ok(Location::Local(local)) => File::create(local),
        };
        match created {
            Ok(file) => {
                state.out = Some(BufWriter::with_capacity(64 * 1024, file));
                write(state, format_args!("{}\n", self.head));
            }
            Err(e) => state.error = Some(format!("{}: {e}", self.path.display())),
        }
    }
}

/// A file of its own on standard output.
fn stdout_file() -> std::io::Result<File> {
    let stdout = std::io::stdout();
    #[cfg(unix)]
    let owned = std::os::fd::AsFd::as_fd(&stdout).try_clone_to_owned();
    #[cfg(windows)]
    let owned = std::os::windows::io::AsHandle::as_handle(&stdout).try_clone_to_owned();
    owned.map(File::from)
}

/// Writes one whole line and flushes it; the first failure is kept and ends the writing.
fn write(state: &mut State, line: std::fmt::Arguments<'_>) {
    let Some(out) = state.out.as_mut() else {
        return;
    };
    if let Err(e) = out.write_fmt(line).and_then(|()| out.flush()) {
        state.error = Some(e.to_string());
        state.out = None;
    }
}
