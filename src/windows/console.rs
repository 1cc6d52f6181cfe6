//! The console's Ctrl-C, Ctrl-Break and close (Unix's SIGINT and SIGTERM), through
//! `SetConsoleCtrlHandler`.

use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{FALSE, TRUE};
use windows_sys::Win32::System::Console::{
    CTRL_BREAK_EVENT, CTRL_C_EVENT, CTRL_CLOSE_EVENT, SetConsoleCtrlHandler,
};
use windows_sys::core::BOOL;

type Handler = Box<dyn Fn() + Send + Sync>;

static HANDLER: OnceLock<Handler> = OnceLock::new();

/// Runs `handler` on its own thread (Windows starts one for each event) whenever the
/// console is interrupted (Ctrl-C, Ctrl-Break) or closed; the process is not ended by
/// the event itself. Set once: a later call changes nothing and answers false.
pub(crate) fn on_console_interrupt(handler: impl Fn() + Send + Sync + 'static) -> bool {
    if HANDLER.set(Box::new(handler)).is_err() {
        return false;
    }
    // SAFETY: `routine` is a valid handler for the process's life.
    unsafe { SetConsoleCtrlHandler(Some(routine), TRUE) != 0 }
}

unsafe extern "system" fn routine(event: u32) -> BOOL {
    match event {
        CTRL_C_EVENT | CTRL_BREAK_EVENT | CTRL_CLOSE_EVENT => {
            if let Some(handler) = HANDLER.get() {
                handler();
            }
            TRUE
        }
        _ => FALSE,
    }
}
