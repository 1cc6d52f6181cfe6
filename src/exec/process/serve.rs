//! The child side of `--mode process`: a worker process reads the spec and then jobs from
//! its stdin, runs each with `convert_job`, and answers on its stdout. It runs its jobs one
//! at a time, in the order they arrive, and writes each output file itself.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Write};

use super::protocol::{FromWorker, ToWorker, receive, send};
use crate::job::{Job, convert_job};

/// Serves the parent until it closes the pipe (after the jobs already sent are done) or
/// sends `Stop` (after the running job is done). Returns the process exit code: 0 when it
/// ended as asked, 2 when the parent broke the protocol or went away.
pub fn serve() -> i32 {
    // The parent alone decides when a worker stops: a Ctrl-C at the terminal reaches the
    // whole process group, and a worker dying mid-image would help no one.
    ignore_interrupts();
    if io::stdin().is_terminal() {
        eprintln!("imgpar: `worker` is started by `imgpar --mode process`, not by hand");
        return 2;
    }
    let answers = match protocol_output() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("imgpar worker: cannot set up its output: {e}");
            return 2;
        }
    };
    match serve_on(io::stdin(), io::BufWriter::new(answers)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("imgpar worker: {e}");
            2
        }
    }
}

fn serve_on(stdin: io::Stdin, mut out: impl Write) -> io::Result<()> {
    // A reader of our own over fd 0, so that what is already buffered can be seen
    // (std's locked stdin hides its buffer).
    let mut input = BufReader::new(own_file(&stdin)?);
    let spec = match receive(&mut input)? {
        Some(ToWorker::Spec(spec)) => spec,
        _ => return Err(io::Error::other("the first message was not the spec")),
    };
    send(&mut out, &FromWorker::Ready)?;

    let mut pending: VecDeque<Job> = VecDeque::new();
    let mut closed = false;
    loop {
        // Take in what the parent has already sent without waiting, so a Stop sent after
        // a queued job is seen before that job starts.
        while !closed && (!input.buffer().is_empty() || readable_now(&input)) {
            match receive(&mut input)? {
                Some(ToWorker::Job(job)) => pending.push_back(job.into()),
                Some(ToWorker::Stop) => return Ok(()),
                Some(ToWorker::Spec(_)) => return Err(io::Error::other("a second spec")),
                None => closed = true,
            }
        }
        let Some(job) = pending.pop_front() else {
            if closed {
                return Ok(());
            }
            // Nothing to do: wait for the next message.
            match receive(&mut input)? {
                Some(ToWorker::Job(job)) => pending.push_back(job.into()),
                Some(ToWorker::Stop) | None => return Ok(()),
                Some(ToWorker::Spec(_)) => return Err(io::Error::other("a second spec")),
            }
            continue;
        };
        send(&mut out, &FromWorker::Started { index: job.index })?;
        let outcome = convert_job(&job, &spec);
        send(
            &mut out,
            &FromWorker::Done {
                index: job.index,
                outcome,
            },
        )?;
    }
}

/// A file of its own on the same stream as `stream` (stdin or stdout).
#[cfg(unix)]
fn own_file(stream: &impl std::os::fd::AsFd) -> io::Result<File> {
    Ok(File::from(stream.as_fd().try_clone_to_owned()?))
}

/// A file of its own on the same stream as `stream` (stdin or stdout).
#[cfg(windows)]
fn own_file(stream: &impl std::os::windows::io::AsHandle) -> io::Result<File> {
    Ok(File::from(stream.as_handle().try_clone_to_owned()?))
}

/// The pipe to the parent, moved off standard output: from here on anything a library
/// prints to stdout lands on stderr (where the parent keeps the tail to explain a death)
/// instead of corrupting the messages.
fn protocol_output() -> io::Result<File> {
    let answers = own_file(&io::stdout())?;
    #[cfg(unix)]
    // SAFETY: makes fd 1 a copy of fd 2; both are open for the life of the process.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } == -1 {
        return Err(io::Error::last_os_error());
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Console::{
            GetStdHandle, STD_ERROR_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle,
        };
        // SAFETY: reads and sets the process's standard handles; the error handle stays
        // open for the life of the process.
        if unsafe { SetStdHandle(STD_OUTPUT_HANDLE, GetStdHandle(STD_ERROR_HANDLE)) } == 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(answers)
}

/// Whether a read from `input`'s file would return at once (data or end of stream).
#[cfg(unix)]
fn readable_now(input: &BufReader<File>) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: input.get_ref().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents != 0
}

/// Whether a read from `input`'s pipe would return at once: bytes are waiting, or the
/// pipe is broken (its end).
#[cfg(windows)]
fn readable_now(input: &BufReader<File>) -> bool {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::System::Pipes::PeekNamedPipe;
    let mut waiting = 0u32;
    // SAFETY: an open pipe handle; only the count of waiting bytes is asked for.
    let peeked = unsafe {
        PeekNamedPipe(
            input.get_ref().as_raw_handle(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut waiting,
            std::ptr::null_mut(),
        )
    };
    peeked == 0 || waiting > 0
}

fn ignore_interrupts() {
    // SAFETY: setting a signal's disposition to "ignore" has no handler to get wrong.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
    // SAFETY: with no handler, TRUE makes the process ignore Ctrl-C.
    #[cfg(windows)]
    unsafe {
        windows_sys::Win32::System::Console::SetConsoleCtrlHandler(None, 1);
    }
}
