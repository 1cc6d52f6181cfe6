//! The imgpar command: the library's command line ([`imgpar::cli::main_from`]).

fn main() {
    std::process::exit(imgpar::cli::main_from(std::env::args_os().collect()));
}
