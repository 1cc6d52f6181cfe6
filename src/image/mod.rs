//! The per-image work, bytes in and bytes out: pure and deterministic, so every execution
//! mode produces byte-identical files.
//!
//! - [`formats`]: the format table every decision about formats reads;
//! - [`decode`]: bytes (or a file) to upright pixels in the tone asked for, through the decoder the table
//!   names (`codecs/`, one module a format);
//! - [`pixels`]: gray conversion, shrinking and resizing;
//! - [`encode`]: pixels to PNG, JPEG, WebP or AVIF bytes;
//! - [`metadata`]: EXIF, XMP and IPTC read from a picture's container (`--keep-metadata`);
//! - `decoded`, `fields`, `repair`, `wording`, [`unsupported`]: what the decoders share
//!   (the decoded picture, byte fields, small repairs of damaged files, errors as
//!   sentences, why a non-image is passed over).

mod codecs;
pub mod decode;
mod decoded;
pub use decoded::{Decoded, DecodedFrom};
pub mod encode;
mod fields;
pub mod formats;
pub mod metadata;
pub mod pixels;
pub use pixels::{gray, resize};
mod repair;
pub mod unsupported;
mod wording;
