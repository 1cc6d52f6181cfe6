//! The decoders, one module a format (or a folder for a format of several files). Every
//! one answers the same request through its `decode(bytes, conversion)`: the conversion
//! gives the pixel budget (`max_pixels`), the reduction it may take (from the output's
//! geometry) and the tone wanted (`Tone::for_picture`), and the answer is a
//! [`super::Decoded`]: upright pixels in that tone, shrunk while decoding where the
//! format allows, with their ICC profile. [`decode`] reaches a format's decoder from its
//! row in the format table ([`super::formats`]); JPEG and PNG are also read from a stream
//! (see [`super::decode::decode_file`]).

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

use crate::config::Conversion;
use crate::failure::Failure;
use crate::image::Decoded;
use crate::image::formats::Decoder;

/// `bytes` decoded by the decoder the format table names for them.
pub(crate) fn decode(
    decoder: Decoder,
    bytes: &[u8],
    spec: &Conversion,
) -> Result<Decoded, Failure> {
    let decode: fn(&[u8], &Conversion) -> Result<Decoded, Failure> = match decoder {
        Decoder::Jpeg => jpeg::decode,
        Decoder::Png => png::decode,
        Decoder::Webp => webp::decode,
        Decoder::Avif => avif::decode,
        Decoder::Heif => heif::decode,
        Decoder::RawPreview => raw::decode,
        Decoder::Jpeg2000 => jpeg2000::decode,
        Decoder::Jxl => jxl::decode,
        Decoder::Pfm => pfm::decode,
        Decoder::Tiff => tiff::decode,
        Decoder::Gif => gif::decode,
        Decoder::Bmp => bmp::decode,
        Decoder::Tga => tga::decode,
        Decoder::Dds => dds::decode,
        Decoder::Ico => ico::decode,
        Decoder::Qoi => generic::decode_qoi,
        Decoder::ImageCrate(format) => return generic::decode_generic(bytes, format, spec),
    };
    decode(bytes, spec)
}
