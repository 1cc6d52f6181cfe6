//! The decoders, one module a format (or a folder for a format of several files): each
//! turns a file's bytes (or a stream) into [`super::Decoded`] gray pixels, shrunk while
//! decoding where its format allows. [`super::decode`] chooses between them through the
//! format table ([`super::formats`]).

pub(crate) mod avif;
pub(crate) mod bmp;
pub(crate) mod dds;
pub(crate) mod generic;
pub(crate) mod gif;
pub(crate) mod heif;
pub(crate) mod ico;
pub(crate) mod jpeg;
pub(crate) mod jpeg2000;
pub(crate) mod jxl;
pub(crate) mod pfm;
pub(crate) mod png;
pub(crate) mod raw;
pub(crate) mod tga;
pub(crate) mod tiff;
pub(crate) mod webp;
