//! The per-image work, bytes in and bytes out: pure and deterministic, so every execution
//! mode produces byte-identical files.

mod avif;
mod avif_encode;
mod avif_props;
mod bmp;
mod dds;
mod dds_masks;
pub mod decode;
mod decoded;
pub use decoded::Decoded;
pub mod encode;
mod fields;
pub mod formats;
mod gif_frame;
pub mod gray;
mod ico;
mod jpeg;
mod jpeg2000;
mod jpeg_bits;
mod jpeg_dc;
mod jpeg_scans;
mod jxl;
mod pfm;
mod png_rows;
mod repair;
pub mod resize;
mod shrink;
mod tga;
mod tiff_chunks;
mod tiff_fax;
mod tiff_layout;
mod tiff_variants;
pub mod unsupported;
mod webp;
mod webp_encode;
mod wording;
