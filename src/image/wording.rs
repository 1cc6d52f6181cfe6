//! Decoder error texts turned into sentences for people: no Rust debug structures, and
//! the common PNG faults said plainly.

/// `detail` (a decoder's error text) with debug output such as
/// `ChunkType { type: IDAT, critical: true, ... }` reduced to the chunk's name, a CRC
/// mismatch said as a damaged chunk, and no trailing full stop.
pub(super) fn readable(detail: &str) -> String {
    let mut text = without_chunk_debug(detail);
    if let Some(rest) = text.strip_prefix("CRC error: ")
        && let Some((_, chunk)) = rest.split_once(" while decoding ")
    {
        let chunk = chunk.trim_end_matches('.').trim_end_matches(" chunk");
        text = format!("the {chunk} chunk is damaged (its checksum does not match)");
    }
    text.trim_end_matches('.').to_string()
}

/// Replaces every `ChunkType { type: XXXX, ... }` in `text` by `XXXX`.
fn without_chunk_debug(text: &str) -> String {
    const OPEN: &str = "ChunkType { type: ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let name_end = after.find([',', ' ', '}']).unwrap_or(after.len());
        out.push_str(&after[..name_end]);
        rest = after.find('}').map_or("", |close| &after[close + 1..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn decoder_debug_text_becomes_a_sentence() {
        assert_eq!(
            readable(
                "CRC error: expected 0x4353554d have 0xd02f14c9 while decoding ChunkType { \
                 type: IDAT, critical: true, private: false, reserved: false, safecopy: false } \
                 chunk."
            ),
            "the IDAT chunk is damaged (its checksum does not match)"
        );
        assert_eq!(
            readable("Chunk ChunkType { type: PLTE, critical: true } must appear at most once."),
            "Chunk PLTE must appear at most once"
        );
        assert_eq!(readable("Invalid color type 1."), "Invalid color type 1");
    }
}
