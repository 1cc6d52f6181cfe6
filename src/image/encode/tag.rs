//! A line of text placed inside an encoded image where every reader ignores it: a PNG
//! `tEXt` chunk after the header, a JPEG comment (`COM`) after the start marker (and the
//! JFIF segment), a WebP XMP chunk (the file made extended, `VP8X`, if it was simple), an
//! AVIF top-level `free` box after the rest. The pixels and every other byte stay as the
//! encoder wrote them. What the line says is the caller's (see `job/provenance.rs`); it
//! must be printable ASCII without `<`, `>` or `&` (it sits inside XML in a WebP).

use crate::config::OutputFormat;

/// `encoded` (a file of `format`, as imgpar's writers make it) with `text` placed inside.
pub fn insert(encoded: Vec<u8>, format: OutputFormat, text: &str) -> Result<Vec<u8>, String> {
    debug_assert!(
        text.bytes()
            .all(|b| (b' '..=b'~').contains(&b) && !b"<>&".contains(&b))
    );
    match format {
        OutputFormat::Png => png(encoded, text),
        OutputFormat::Jpeg => jpeg(encoded, text),
        OutputFormat::Webp | OutputFormat::WebpLossless => webp(encoded, text),
        OutputFormat::Avif => Ok(avif(encoded, text)),
    }
}

/// The PNG keyword the text goes under.
const PNG_KEYWORD: &[u8] = b"imgpar";

fn png(encoded: Vec<u8>, text: &str) -> Result<Vec<u8>, String> {
    // Signature (8) and the IHDR chunk (4 + 4 + 13 + 4) always come first.
    const AFTER_IHDR: usize = 8 + 25;
    if encoded.get(12..16) != Some(b"IHDR") {
        return Err("internal: the PNG writer's output has no header chunk".into());
    }
    let mut data = Vec::with_capacity(PNG_KEYWORD.len() + 1 + text.len());
    data.extend_from_slice(PNG_KEYWORD);
    data.push(0);
    data.extend_from_slice(text.as_bytes());
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    Ok(splice(encoded, AFTER_IHDR, &chunk))
}

fn jpeg(encoded: Vec<u8>, text: &str) -> Result<Vec<u8>, String> {
    if encoded.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err("internal: the JPEG writer's output has no start marker".into());
    }
    // JFIF wants its APP0 segment right after the start marker: the comment goes after it.
    let mut at = 2;
    if encoded.get(2..4) == Some(&[0xFF, 0xE0])
        && let Some(len) = encoded.get(4..6)
    {
        at = 4 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    let len = u16::try_from(text.len() + 2).map_err(|_| "internal: a JPEG comment too long")?;
    let mut segment = vec![0xFF, 0xFE];
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(text.as_bytes());
    let at = at.min(encoded.len());
    Ok(splice(encoded, at, &segment))
}

/// How the description holding the line starts in a WebP's XMP.
const XMP_DESCRIPTION: &str = "<rdf:Description rdf:about=\"\" xmlns:imgpar=\"urn:imgpar:1\" ";

/// An XMP packet a picture carries, kept for its output, without the line an earlier
/// imgpar run put in it (an output read again): that line describes the earlier output,
/// and a re-run must never take it for this one's. `None` when nothing else is left.
pub fn xmp_without_line(xmp: &[u8]) -> Option<Vec<u8>> {
    let mut packet = xmp.to_vec();
    while let Some(start) = find(&packet, XMP_DESCRIPTION.as_bytes()) {
        let end = find(&packet[start..], b"/>").map_or(packet.len(), |len| start + len + 2);
        packet.drain(start..end);
    }
    // imgpar's own packet held nothing else.
    (packet != [XMP_OPEN, XMP_CLOSE].concat().as_bytes()).then_some(packet)
}

/// How imgpar's own XMP packet starts and ends, around the description.
const XMP_OPEN: &str = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
                        xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">";
const XMP_CLOSE: &str = "</rdf:RDF></x:xmpmeta>";

fn webp(encoded: Vec<u8>, text: &str) -> Result<Vec<u8>, String> {
    let description = format!("{XMP_DESCRIPTION}imgpar:provenance=\"{text}\"/>");
    let mut body = extended(&encoded, XMP_FLAG)?;
    // A picture's own XMP packet, kept (`--keep-metadata`): the line joins it, as a
    // description of its own before the packet's end.
    if let Some((at, size)) = chunk_at(&body, b"XMP ")
        && let Some(end) = find(&body[at + 8..at + 8 + size], b"</rdf:RDF>")
    {
        let mut packet = body[at + 8..at + 8 + size].to_vec();
        packet.splice(end..end, description.bytes());
        let after = body.split_off(at + 8 + size + (size & 1));
        body.truncate(at);
        push_chunk(&mut body, b"XMP ", &packet);
        body.extend_from_slice(&after);
        return Ok(riff_webp(&body));
    }
    let xmp = format!("{XMP_OPEN}{description}{XMP_CLOSE}");
    push_chunk(&mut body, b"XMP ", xmp.as_bytes());
    Ok(riff_webp(&body))
}

/// The chunks of the WebP file `encoded` (as imgpar's writers make it, or as this module
/// left it), made extended (`VP8X`) if it was simple, with `flags` added to its flags.
pub(super) fn extended(encoded: &[u8], flags: u8) -> Result<Vec<u8>, String> {
    let bad = || "internal: the WebP writer's output is not a RIFF WebP file".to_string();
    if encoded.get(..4) != Some(b"RIFF") || encoded.get(8..12) != Some(b"WEBP") {
        return Err(bad());
    }
    match encoded.get(12..16) {
        // Already extended (lossy with alpha): its flags say what follows.
        Some(b"VP8X") => {
            let mut body = encoded[12..].to_vec();
            body[8] |= flags;
            Ok(body)
        }
        Some(b"VP8 ") | Some(b"VP8L") => {
            let (width, height) = webp_size(encoded).ok_or_else(bad)?;
            let mut body = Vec::with_capacity(encoded.len() + 18);
            body.extend_from_slice(b"VP8X");
            body.extend_from_slice(&10u32.to_le_bytes());
            // A lossless image keeps its alpha in VP8L itself; the flag says it may be there.
            let alpha =
                if &encoded[12..16] == b"VP8L" && encoded.get(24).is_some_and(|b| b & 0x10 != 0) {
                    ALPHA_FLAG
                } else {
                    0
                };
            body.push(flags | alpha);
            body.extend_from_slice(&[0, 0, 0]);
            body.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
            body.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
            body.extend_from_slice(&encoded[12..]);
            Ok(body)
        }
        _ => Err(bad()),
    }
}

/// Where the chunk `tag` of the chunks `body` starts, and its data's size.
fn chunk_at(body: &[u8], tag: &[u8; 4]) -> Option<(usize, usize)> {
    let mut at = 0;
    while let (Some(kind), Some(size)) = (body.get(at..at + 4), body.get(at + 4..at + 8)) {
        let size = u32::from_le_bytes(size.try_into().ok()?) as usize;
        body.get(at + 8..at + 8 + size)?;
        if kind == tag {
            return Some((at, size));
        }
        at += 8 + size + (size & 1);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Appends a RIFF chunk (padded to an even length) to `body`.
pub(super) fn push_chunk(body: &mut Vec<u8>, tag: &[u8], data: &[u8]) {
    body.extend_from_slice(tag);
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    if data.len() % 2 == 1 {
        body.push(0);
    }
}

/// A WebP file of the chunks in `body`.
pub(super) fn riff_webp(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(body);
    out
}

const XMP_FLAG: u8 = 0x04;
const ALPHA_FLAG: u8 = 0x10;

/// The canvas size of a simple WebP file (one `VP8 ` or `VP8L` chunk).
fn webp_size(file: &[u8]) -> Option<(u32, u32)> {
    let data = file.get(20..)?;
    match file.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3), start code (3), then 14-bit width and height.
            let w = u16::from_le_bytes([*data.get(6)?, *data.get(7)?]) & 0x3FFF;
            let h = u16::from_le_bytes([*data.get(8)?, *data.get(9)?]) & 0x3FFF;
            Some((u32::from(w), u32::from(h)))
        }
        b"VP8L" => {
            // Signature 0x2f, then 14 bits width - 1 and 14 bits height - 1.
            let bits =
                u32::from_le_bytes([*data.get(1)?, *data.get(2)?, *data.get(3)?, *data.get(4)?]);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        _ => None,
    }
}

fn avif(mut encoded: Vec<u8>, text: &str) -> Vec<u8> {
    // A top-level box after the others moves no offset the file's item locations hold.
    encoded.extend_from_slice(&((text.len() + 8) as u32).to_be_bytes());
    encoded.extend_from_slice(b"free");
    encoded.extend_from_slice(text.as_bytes());
    encoded
}

/// `file` (as [`insert`] left it) without the text that starts with `mark`: the bytes the
/// writer made. A file without it is given back as it is.
pub fn remove(file: &[u8], mark: &[u8]) -> Vec<u8> {
    let Some(at) = file.windows(mark.len()).position(|w| w == mark) else {
        return file.to_vec();
    };
    let be32 = |at: usize| {
        file.get(at..at + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let cut = |start: usize, end: usize| [&file[..start], &file[end.min(file.len())..]].concat();
    if file.starts_with(b"\x89PNG") {
        // Length, `tEXt`, the keyword and its NUL, then the text: the chunk starts before.
        let start = at.saturating_sub(PNG_KEYWORD.len() + 1 + 8);
        return cut(start, start + 12 + be32(start));
    }
    if file.starts_with(&[0xFF, 0xD8]) {
        let start = at.saturating_sub(4);
        let len = file
            .get(start + 2..start + 4)
            .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        return cut(start, start + 2 + len);
    }
    if file.starts_with(b"RIFF") {
        return webp_without_provenance(file, at);
    }
    // AVIF: the free box at the end.
    file[..at.saturating_sub(8)].to_vec()
}

/// A WebP file without the provenance found at `at`: the description that holds it taken
/// out of the picture's own XMP packet, or the XMP chunk that holds only it removed (the
/// file made simple again when [`insert`] made it extended).
fn webp_without_provenance(file: &[u8], at: usize) -> Vec<u8> {
    let body = &file[12.min(file.len())..];
    let open = XMP_DESCRIPTION.as_bytes();
    let Some((xmp, size)) = chunk_at(body, b"XMP ") else {
        return file.to_vec();
    };
    let data = &body[xmp + 8..xmp + 8 + size];
    let (Some(start), Some(at)) = (find(data, open), (at - 12).checked_sub(xmp + 8)) else {
        return file.to_vec();
    };
    // imgpar's own packet: nothing but the description inside.
    if data[..start] == *XMP_OPEN.as_bytes() {
        return webp_without_xmp(file);
    }
    let Some(end) = find(&data[at..], b"/>").map(|length| at + length + 2) else {
        return file.to_vec();
    };
    let packet = [&data[..start], &data[end..]].concat();
    let mut rebuilt = body[..xmp].to_vec();
    push_chunk(&mut rebuilt, b"XMP ", &packet);
    rebuilt.extend_from_slice(&body[(xmp + 8 + size + (size & 1)).min(body.len())..]);
    riff_webp(&rebuilt)
}

/// A WebP file without its XMP chunk, made simple again when [`insert`] made it extended.
fn webp_without_xmp(file: &[u8]) -> Vec<u8> {
    let mut chunks: Vec<(&[u8], &[u8])> = Vec::new();
    let mut at = 12;
    while let (Some(tag), Some(size)) = (file.get(at..at + 4), file.get(at + 4..at + 8)) {
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        let body = &file[(at + 8).min(file.len())..(at + 8 + size).min(file.len())];
        if tag != b"XMP " {
            chunks.push((tag, body));
        }
        at += 8 + size + (size & 1);
    }
    let mut flags_cleared = Vec::new();
    if let Some((b"VP8X", body)) = chunks.first().copied() {
        if chunks.len() == 2 {
            chunks.remove(0);
        } else {
            flags_cleared = body.to_vec();
            flags_cleared[0] &= !XMP_FLAG;
        }
    }
    if !flags_cleared.is_empty() {
        chunks[0].1 = &flags_cleared;
    }
    let mut body = Vec::with_capacity(file.len());
    for (tag, data) in chunks {
        push_chunk(&mut body, tag, data);
    }
    riff_webp(&body)
}

fn splice(encoded: Vec<u8>, at: usize, piece: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len() + piece.len());
    out.extend_from_slice(&encoded[..at]);
    out.extend_from_slice(piece);
    out.extend_from_slice(&encoded[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(width: u32, height: u32, alpha: bool) -> image::DynamicImage {
        let pixels =
            image::GrayImage::from_fn(width, height, |x, y| image::Luma([(x * 7 + y * 3) as u8]));
        let image = image::DynamicImage::ImageLuma8(pixels);
        if alpha {
            image::DynamicImage::ImageLumaA8(image.to_luma_alpha8())
        } else {
            image
        }
    }

    #[test]
    fn a_kept_xmp_packet_loses_an_earlier_runs_line_and_keeps_the_rest() {
        let line = "imgpar-provenance/1 source=00ff settings=size=9x9;";
        let own = format!("{XMP_OPEN}{XMP_DESCRIPTION}imgpar:provenance=\"{line}\"/>{XMP_CLOSE}");
        assert_eq!(xmp_without_line(own.as_bytes()), None);
        let theirs =
            "<x:xmpmeta><rdf:RDF><rdf:Description dc:creator=\"Ann\"/></rdf:RDF></x:xmpmeta>";
        assert_eq!(
            xmp_without_line(theirs.as_bytes()),
            Some(theirs.as_bytes().to_vec())
        );
        let joined = theirs.replace(
            "</rdf:RDF>",
            &format!("{XMP_DESCRIPTION}imgpar:provenance=\"{line}\"/></rdf:RDF>"),
        );
        assert_eq!(
            xmp_without_line(joined.as_bytes()),
            Some(theirs.as_bytes().to_vec())
        );
        // A WebP made from it carries one line, this run's, and gives the packet back.
        let plain = super::super::encode(
            &gray(9, 9, false),
            OutputFormat::Webp,
            &crate::config::Conversion::default(),
        )
        .unwrap();
        let metadata = crate::image::metadata::Metadata {
            xmp: Some(joined.into_bytes()),
            ..Default::default()
        }
        .for_output();
        let kept =
            crate::image::encode::metadata::insert(plain, OutputFormat::Webp, &metadata).unwrap();
        let tagged = insert(
            kept.clone(),
            OutputFormat::Webp,
            "imgpar-provenance/1 source=11 settings=x;",
        )
        .unwrap();
        let marks = tagged
            .windows(20)
            .filter(|w| *w == b"imgpar-provenance/1 ")
            .count();
        assert_eq!(marks, 1);
        assert!(remove(&tagged, b"imgpar-provenance/1 ") == kept);
    }

    #[test]
    fn every_format_still_decodes_to_the_same_pixels_with_the_text_inside() {
        let text = "imgpar-provenance/1 source=00ff settings=size=9x9";
        for format in [
            OutputFormat::Png,
            OutputFormat::Jpeg,
            OutputFormat::Webp,
            OutputFormat::WebpLossless,
            OutputFormat::Avif,
        ] {
            for alpha in [false, true] {
                let image = gray(37, 21, alpha);
                let plain =
                    super::super::encode(&image, format, &crate::config::Conversion::default())
                        .unwrap();
                let tagged = insert(plain.clone(), format, text).unwrap();
                assert!(
                    tagged.windows(text.len()).any(|w| w == text.as_bytes()),
                    "{format:?}"
                );
                assert!(
                    remove(&tagged, b"imgpar-provenance/1 ") == plain,
                    "{format:?}"
                );
                if format == OutputFormat::Avif {
                    // The image crate reads no AVIF here: the rest of the file is unchanged.
                    assert_eq!(&tagged[..plain.len()], &plain[..]);
                    continue;
                }
                let before = image::load_from_memory(&plain).unwrap();
                let after = image::load_from_memory(&tagged).unwrap();
                assert_eq!(
                    before.as_bytes(),
                    after.as_bytes(),
                    "{format:?} alpha {alpha}"
                );
                assert_eq!(before.color(), after.color(), "{format:?} alpha {alpha}");
            }
        }
    }
}
