//! The formats imgpar knows, in one table: each with its extensions, how it is recognised
//! from its first bytes, which decoder reads it (and whether it is shrunk while decoding or
//! read as a stream), what `--format same` writes for it, and the formats it names only
//! to refuse. Sniffing and planning (`plan/kinds.rs`), the decoder choice
//! ([`crate::image::decode`]), the refusals and output names all read it, and
//! `docs/formats.md`'s table is checked against [`markdown_table`].

use image::ImageFormat;

use crate::config::OutputFormat;

/// One format imgpar knows.
#[derive(Debug)]
pub struct Format {
    /// What it is called in messages and the docs.
    pub name: &'static str,
    /// Its file extensions, lower case.
    pub extensions: &'static [&'static str],
    /// How a file in it is recognised from its first bytes.
    pub signature: Signature,
    /// Whether and how imgpar reads it.
    pub reading: Reading,
    /// The writer whose outputs may keep this format's extensions (`a.JPG` stays `a.JPG`).
    pub written_as: Option<OutputFormat>,
    /// What `--format same` writes for an input in this format.
    pub same_writes: OutputFormat,
    /// The docs table's "notes" column.
    pub notes: &'static str,
}

/// How a format is recognised from a file's first bytes.
#[derive(Debug)]
pub enum Signature {
    /// A test of imgpar's own.
    Own(fn(&[u8]) -> bool),
    /// What the `image` crate's sniffing (with BigTIFF and cursors added) calls it.
    ImageCrate(ImageFormat),
    /// No signature: only the file's extension says (TGA, an APNG sniffs as PNG).
    Extension,
}

/// Whether and how imgpar reads a format.
#[derive(Debug)]
pub enum Reading {
    /// Read by `decoder`.
    Read {
        /// The decoder that reads it.
        decoder: Decoder,
        /// The docs table's "read by" column.
        by: &'static str,
        /// How it is shrunk while decoding ("no" if it is decoded whole).
        shrunk: &'static str,
    },
    /// Named and refused ("PDF files are not supported").
    Refused,
}

/// The decoders imgpar chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// libjpeg-turbo, DCT-domain shrinking: luma only for gray (imgpar's own reader for
    /// progressive files), RGB for colour (CMYK and YCCK through their profile); in gray,
    /// CMYK, YCCK and RGB JPEGs through the `image` crate.
    Jpeg,
    /// The `png` crate, rows shrunk as they arrive.
    Png,
    /// libwebp's luma plane (gray) or RGB(A) (colour), scaled while decoding.
    Webp,
    /// `avif-parse` and `rav1d-safe`.
    Avif,
    /// `heifer`, grids a tile at a time.
    Heif,
    /// A camera RAW's largest embedded JPEG, through the JPEG path.
    RawPreview,
    /// `hayro-jpeg2000`, by resolution levels.
    Jpeg2000,
    /// `jxl-oxide`.
    Jxl,
    /// imgpar's PFM reader.
    Pfm,
    /// The `image` crate's TIFF decoder with the variants it gets wrong put right.
    Tiff,
    /// The `image` crate's GIF decoder, or a frame larger than its screen read by hand.
    Gif,
    /// The `image` crate's BMP decoder with lenient headers; RLE by imgpar.
    Bmp,
    /// The `image` crate's TGA decoder; 15/16-bit and attribute bits by imgpar.
    Tga,
    /// The `dds` crate.
    Dds,
    /// The `image` crate's ICO decoder, cursors and directories put right.
    Ico,
    /// The `image` crate's QOI decoder, a missing end marker put right.
    Qoi,
    /// The `image` crate's decoder of that format as it is (PNM, HDR, OpenEXR, farbfeld).
    ImageCrate(ImageFormat),
}

const fn read(decoder: Decoder, by: &'static str, shrunk: &'static str) -> Reading {
    Reading::Read {
        decoder,
        by,
        shrunk,
    }
}

const fn refused(
    name: &'static str,
    extensions: &'static [&'static str],
    signature: Signature,
) -> Format {
    Format {
        name,
        extensions,
        signature,
        reading: Reading::Refused,
        written_as: None,
        same_writes: OutputFormat::Png,
        notes: "fails naming its format",
    }
}

const fn other(
    name: &'static str,
    extensions: &'static [&'static str],
    signature: Signature,
    reading: Reading,
    notes: &'static str,
) -> Format {
    Format {
        name,
        extensions,
        signature,
        reading,
        written_as: None,
        same_writes: OutputFormat::Png,
        notes,
    }
}

/// Every format imgpar knows. Recognition by content tries the formats with a signature of
/// imgpar's own first (in this order), then the `image` crate's sniffing, then the refused
/// formats' signatures.
pub static FORMATS: &[Format] = &[
    Format {
        name: "JPEG",
        extensions: &["jpg", "jpeg", "jpe", "jfif"],
        signature: Signature::ImageCrate(ImageFormat::Jpeg),
        reading: read(
            Decoder::Jpeg,
            "libjpeg-turbo (`mozjpeg-sys`, C by `cc`)",
            "DCT scaling to m/8, then a box average",
        ),
        written_as: Some(OutputFormat::Jpeg),
        same_writes: OutputFormat::Jpeg,
        notes: "baseline files streamed, progressive ones from the scans the thumbnail needs; CMYK, YCCK and RGB JPEGs through the `image` crate (`zune-jpeg`)",
    },
    Format {
        name: "PNG",
        extensions: &["png"],
        signature: Signature::ImageCrate(ImageFormat::Png),
        reading: read(Decoder::Png, "`png`", "box average as rows arrive"),
        written_as: Some(OutputFormat::Png),
        same_writes: OutputFormat::Png,
        notes: "streamed; interlaced rows pass by pass",
    },
    Format {
        name: "APNG",
        extensions: &["apng"],
        signature: Signature::Extension,
        reading: read(Decoder::Png, "`png`", "box average as rows arrive"),
        written_as: None,
        same_writes: OutputFormat::Png,
        notes: "first frame; its bytes are a PNG's",
    },
    Format {
        name: "WebP",
        extensions: &["webp"],
        signature: Signature::ImageCrate(ImageFormat::WebP),
        reading: read(
            Decoder::Webp,
            "libwebp (`libwebp-sys`, C by `cc`)",
            "libwebp's scaled decode",
        ),
        written_as: Some(OutputFormat::Webp),
        same_writes: OutputFormat::Webp,
        notes: "animated: first frame; written lossy (`webp`) or lossless (`webp-lossless`), gray as equal R=G=B",
    },
    Format {
        name: "AVIF",
        extensions: &["avif"],
        signature: Signature::Own(crate::image::codecs::avif::is_avif),
        reading: read(
            Decoder::Avif,
            "`avif-parse` + `rav1d-safe` (pure Rust)",
            "no",
        ),
        written_as: Some(OutputFormat::Avif),
        same_writes: OutputFormat::Png,
        notes: "8, 10 and 12 bit, any subsampling; alpha item kept; written by `ravif` (rav1e), `--quality`, `--speed`",
    },
    other(
        "HEIC/HEIF",
        &["heic", "heif", "hif"],
        Signature::Own(crate::image::codecs::heif::is_heif),
        read(
            Decoder::Heif,
            "`heifer` (pure Rust)",
            "grids a tile at a time into a box average",
        ),
        "the primary image (not depth or gain maps), `clap`/`irot`/`imir` applied, 8-12 bit, alpha; the stored thumbnail when it is as large as the output (`--no-embedded-thumbnails` to refuse it)",
    ),
    other(
        "JPEG XL",
        &["jxl"],
        Signature::Own(crate::image::codecs::jxl::is_jxl),
        read(Decoder::Jxl, "`jxl-oxide` (pure Rust)", "no"),
        "first keyframe, oriented, in the display colour encoding",
    ),
    other(
        "JPEG 2000",
        &["jp2", "j2k", "j2c", "jpf", "jpx"],
        Signature::Own(crate::image::codecs::jpeg2000::is_jpeg2000),
        read(
            Decoder::Jpeg2000,
            "`hayro-jpeg2000` (pure Rust)",
            "by whole resolution levels (powers of two)",
        ),
        "ICC profiles not applied",
    ),
    other(
        "PFM",
        &["pfm"],
        Signature::Own(crate::image::codecs::pfm::is_pfm),
        read(Decoder::Pfm, "imgpar", "no"),
        "linear light: clipped to 0..1, sRGB curve, then luma",
    ),
    other(
        "TIFF, BigTIFF",
        &["tif", "tiff"],
        Signature::ImageCrate(ImageFormat::Tiff),
        read(
            Decoder::Tiff,
            "`image` (`tiff`) and imgpar's own strip reader",
            "no",
        ),
        "the variants below; first page",
    ),
    other(
        "GIF",
        &["gif"],
        Signature::ImageCrate(ImageFormat::Gif),
        read(Decoder::Gif, "`image` (`gif`)", "no"),
        "first frame, grown to hold a frame larger than the screen",
    ),
    other(
        "BMP, DIB",
        &["bmp", "dib"],
        Signature::ImageCrate(ImageFormat::Bmp),
        read(Decoder::Bmp, "`image`; RLE4/RLE8 by imgpar", "no"),
        "lenient headers, OS/2 2.x, headerless `.dib`, RLE past a line, skipped pixels transparent",
    ),
    other(
        "PNM",
        &["pbm", "pgm", "ppm", "pnm", "pam"],
        Signature::ImageCrate(ImageFormat::Pnm),
        read(Decoder::ImageCrate(ImageFormat::Pnm), "`image`", "no"),
        "",
    ),
    other(
        "TGA",
        &["tga"],
        Signature::Extension,
        read(Decoder::Tga, "`image`; 15/16-bit by imgpar", "no"),
        "by its extension alone (it has no signature); a fourth byte the header does not call alpha is not alpha",
    ),
    other(
        "ICO, CUR",
        &["ico", "cur"],
        Signature::ImageCrate(ImageFormat::Ico),
        read(Decoder::Ico, "`image`", "no"),
        "the largest entry; a directory that disagrees with its bitmap is put right from the bitmap",
    ),
    other(
        "QOI",
        &["qoi"],
        Signature::ImageCrate(ImageFormat::Qoi),
        read(Decoder::Qoi, "`image`", "no"),
        "a file holding every pixel but lacking its end marker is read",
    ),
    other(
        "DDS",
        &["dds"],
        Signature::ImageCrate(ImageFormat::Dds),
        read(
            Decoder::Dds,
            "`dds` (pure Rust); palettes and unknown masks by imgpar",
            "no",
        ),
        "every BCn format, DX10 DXGI formats, masks, YUV; first surface (largest mipmap)",
    ),
    other(
        "Radiance HDR",
        &["hdr"],
        Signature::ImageCrate(ImageFormat::Hdr),
        read(Decoder::ImageCrate(ImageFormat::Hdr), "`image`", "no"),
        "linear light: clipped to 0..1, sRGB curve, then luma",
    ),
    other(
        "OpenEXR",
        &["exr"],
        Signature::ImageCrate(ImageFormat::OpenExr),
        read(Decoder::ImageCrate(ImageFormat::OpenExr), "`image`", "no"),
        "linear light: clipped to 0..1, sRGB curve, then luma",
    ),
    other(
        "farbfeld",
        &["ff"],
        Signature::ImageCrate(ImageFormat::Farbfeld),
        read(Decoder::ImageCrate(ImageFormat::Farbfeld), "`image`", "no"),
        "",
    ),
    refused("Photoshop (PSD)", &["psd", "psb"], Signature::Own(is_psd)),
    refused("PDF", &["pdf"], Signature::Own(is_pdf)),
    refused(
        "JPEG XR",
        &["jxr", "wdp", "hdp"],
        Signature::Own(is_jpeg_xr),
    ),
    refused("Apple icon (ICNS)", &["icns"], Signature::Own(is_icns)),
    refused("GIMP (XCF)", &["xcf"], Signature::Own(is_xcf)),
    refused(
        "SVG (vector image)",
        &["svg", "svgz"],
        Signature::Own(is_svg),
    ),
    refused("JPEG 2000 compound (JPM)", &["jpm"], Signature::Extension),
    refused("PCX", &["pcx"], Signature::Extension),
    refused("SGI", &["sgi", "rgb", "rgba", "bw"], Signature::Extension),
    refused("XPM", &["xpm"], Signature::Extension),
    refused("XBM", &["xbm"], Signature::Extension),
    refused("Krita (KRA)", &["kra"], Signature::Extension),
    refused("OpenRaster (ORA)", &["ora"], Signature::Extension),
    Format {
        name: "camera RAW",
        extensions: &[
            "3fr", "arw", "cr2", "cr3", "crw", "dcr", "dng", "erf", "iiq", "kdc", "mrw", "nef",
            "nrw", "orf", "pef", "raf", "raw", "rw2", "rwl", "sr2", "srf", "srw", "x3f",
        ],
        signature: Signature::Own(crate::image::codecs::raw::is_raw_container),
        reading: read(
            Decoder::RawPreview,
            "imgpar's container walk, then the JPEG path",
            "as the JPEG it holds",
        ),
        written_as: None,
        same_writes: OutputFormat::Png,
        notes: "the largest JPEG preview the camera stored, turned by the RAW's orientation (the record says so); a file with none, or with one smaller than the output, fails; TIFF-based RAWs (CR2, NEF, ARW, DNG, ...) are known by their name, the others (CR3, CRW, RAF, MRW, ORF, RW2) by their bytes",
    },
];

impl Format {
    /// Whether imgpar reads it.
    pub fn is_read(&self) -> bool {
        matches!(self.reading, Reading::Read { .. })
    }

    /// The decoder that reads it, if imgpar reads it.
    pub fn decoder(&self) -> Option<Decoder> {
        match self.reading {
            Reading::Read { decoder, .. } => Some(decoder),
            Reading::Refused => None,
        }
    }

    /// Why a file in this format fails, if imgpar does not read it.
    pub fn refusal(&self) -> Option<String> {
        match self.reading {
            Reading::Read { .. } => None,
            Reading::Refused => Some(format!("{} files are not supported", self.name)),
        }
    }
}

/// The format a file extension (any case) names, read or refused.
pub fn by_extension(extension: &str) -> Option<&'static Format> {
    let extension = extension.to_ascii_lowercase();
    FORMATS
        .iter()
        .find(|format| format.extensions.contains(&extension.as_str()))
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy)]
pub enum Sniffed {
    /// A format in the table: read, or refused by its signature.
    Known(&'static Format),
    /// A format the `image` crate recognises but imgpar does not read.
    Unread(ImageFormat),
}

/// The format `bytes` (a file's first bytes) start like: imgpar's own signatures first,
/// then the `image` crate's sniffing, then the signatures of the formats it refuses.
pub fn by_content(bytes: &[u8]) -> Option<Sniffed> {
    let own = |format: &&Format| matches!(format.signature, Signature::Own(test) if test(bytes));
    if let Some(format) = FORMATS.iter().filter(|f| f.is_read()).find(own) {
        return Some(Sniffed::Known(format));
    }
    if let Some(guessed) = guess_image_crate(bytes) {
        let format = FORMATS.iter().find(|format| {
            format.is_read() && matches!(format.signature, Signature::ImageCrate(f) if f == guessed)
        });
        return Some(format.map_or(Sniffed::Unread(guessed), Sniffed::Known));
    }
    FORMATS
        .iter()
        .filter(|f| !f.is_read())
        .find(own)
        .map(Sniffed::Known)
}

/// The `image` crate's name for the format `bytes` start like, with BigTIFF and Windows
/// cursors (read as icons), which it does not recognise.
pub fn guess_image_crate(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"II\x2B\0") || bytes.starts_with(b"MM\0\x2B") {
        return Some(ImageFormat::Tiff);
    }
    if crate::image::codecs::ico::is_cursor(bytes) {
        return Some(ImageFormat::Ico);
    }
    image::guess_format(bytes).ok()
}

/// Whether an output written as `format` may keep a name ending in `extension` (lower
/// case): the extension is one of the formats that writer writes.
pub fn keeps_extension(format: OutputFormat, extension: &str) -> bool {
    let writer = match format {
        OutputFormat::WebpLossless => OutputFormat::Webp,
        other => other,
    };
    FORMATS
        .iter()
        .any(|f| f.written_as == Some(writer) && f.extensions.contains(&extension))
}

fn is_psd(head: &[u8]) -> bool {
    head.starts_with(b"8BPS")
}

fn is_pdf(head: &[u8]) -> bool {
    head.starts_with(b"%PDF-")
}

fn is_jpeg_xr(head: &[u8]) -> bool {
    head.starts_with(b"II\xBC\x01")
}

fn is_icns(head: &[u8]) -> bool {
    head.starts_with(b"icns")
}

fn is_xcf(head: &[u8]) -> bool {
    head.starts_with(b"gimp xcf")
}

fn is_svg(head: &[u8]) -> bool {
    head[..head.len().min(1024)]
        .windows(4)
        .any(|w| w == b"<svg")
}

/// The formats table of `docs/formats.md`: a row per format of the table, in its order.
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| format | extensions | read by | written | shrunk while decoding | notes |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for format in FORMATS {
        let (by, shrunk) = match &format.reading {
            Reading::Read { by, shrunk, .. } => (*by, *shrunk),
            Reading::Refused => ("no", ""),
        };
        let written = match format.written_as {
            Some(OutputFormat::Webp) => "`webp`, `webp-lossless`".to_string(),
            Some(writer) => format!("`{}`", writer_name(writer)),
            None => "no".to_string(),
        };
        table.push_str(&format!(
            "| {} | {} | {by} | {written} | {shrunk} | {} |\n",
            format.name,
            format.extensions.join(" "),
            format.notes
        ));
    }
    table
}

fn writer_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Png => "png",
        OutputFormat::Jpeg => "jpeg",
        OutputFormat::Webp => "webp",
        OutputFormat::WebpLossless => "webp-lossless",
        OutputFormat::Avif => "avif",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_names_one_format() {
        let mut seen = std::collections::HashSet::new();
        for format in FORMATS {
            for extension in format.extensions {
                assert!(seen.insert(*extension), "{extension} is listed twice");
                assert_eq!(*extension, extension.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn formats_are_found_by_extension_and_by_content() {
        assert_eq!(by_extension("JPE").map(|f| f.name), Some("JPEG"));
        assert_eq!(
            by_extension("jpm").map(|f| f.name),
            Some("JPEG 2000 compound (JPM)")
        );
        assert!(by_extension("txt").is_none());
        let name = |bytes: &[u8]| match by_content(bytes) {
            Some(Sniffed::Known(format)) => Some(format.name),
            _ => None,
        };
        assert_eq!(name(b"8BPS\0\x01"), Some("Photoshop (PSD)"));
        let mut heic = vec![0, 0, 0, 0x18];
        heic.extend(b"ftypheic\0\0\0\0mif1heic");
        assert_eq!(name(&heic), Some("HEIC/HEIF"));
        assert_eq!(name(b"\x89PNG\r\n\x1a\n"), Some("PNG"));
        assert_eq!(name(b"II\x2B\0\x08\0\0\0"), Some("TIFF, BigTIFF"));
        assert_eq!(name(b"hello"), None);
        assert_eq!(name(b"FUJIFILMCCD-RAW 0201"), Some("camera RAW"));
        assert_eq!(by_extension("Cr2").map(|f| f.name), Some("camera RAW"));
        assert_eq!(
            by_extension("psd").and_then(Format::refusal).as_deref(),
            Some("Photoshop (PSD) files are not supported")
        );
    }

    #[test]
    fn writers_keep_their_own_extensions() {
        assert!(keeps_extension(OutputFormat::Jpeg, "jfif"));
        assert!(keeps_extension(OutputFormat::WebpLossless, "webp"));
        assert!(!keeps_extension(OutputFormat::Png, "apng"));
        assert!(!keeps_extension(OutputFormat::Avif, "png"));
    }
}
