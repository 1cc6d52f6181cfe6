//! The per-image work, bytes in and bytes out: pure and deterministic, so every execution
//! mode produces byte-identical files.

pub mod decode;
pub mod encode;
mod gif_frame;
pub mod gray;
mod jpeg;
pub mod ops;
mod repair;
mod tiff_layout;
mod webp;
mod wording;
