//! The metadata a run keeps with `--keep-metadata`: a picture's EXIF (camera, lens, date,
//! artist, copyright), XMP and IPTC, read from its container ([`read`]), cleaned of what
//! no longer holds or must not travel ([`exif::cleaned`]: the orientation, which was
//! applied, is reset to 1; the embedded thumbnail, which shows the picture at its old
//! size, and the GPS position are removed), and written into the output by
//! `encode::metadata`.

pub(crate) mod exif;
mod read;

pub use read::{read, read_head};

/// What a picture carries besides its pixels, as its container holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The EXIF block: a TIFF structure (byte order mark first, no `Exif\0\0`).
    pub exif: Option<Vec<u8>>,
    /// The XMP packet (XML, UTF-8).
    pub xmp: Option<Vec<u8>>,
    /// The IPTC-IIM records (what Photoshop keeps in its `0x0404` resource).
    pub iptc: Option<Vec<u8>>,
}

impl Metadata {
    /// Whether nothing is carried.
    pub fn is_empty(&self) -> bool {
        self.exif.is_none() && self.xmp.is_none() && self.iptc.is_none()
    }

    /// This metadata as an output may carry it: the EXIF cleaned (see [`exif::cleaned`];
    /// dropped if it cannot be read, so nothing unchecked travels), the XMP without the
    /// provenance line of an earlier imgpar output (which would name another file).
    pub fn for_output(self) -> Metadata {
        Metadata {
            exif: self.exif.as_deref().and_then(exif::cleaned),
            xmp: self
                .xmp
                .as_deref()
                .and_then(crate::image::encode::tag::xmp_without_line),
            ..self
        }
    }
}
