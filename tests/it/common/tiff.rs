//! A small TIFF writer for tests: little-endian, strips as given, any tags, several
//! pages. It writes the layouts that no encoder in the tree writes (palette, 12-bit, L*a*b*,
//! JPEG or CCITT strips), so that imgpar's reader is checked against files it did not make.

/// A tag's values.
pub enum Value {
    Short(Vec<u16>),
    Long(Vec<u32>),
}

/// One image (IFD): its size, its tags beyond size and strips, and its stored strips of
/// `rows_per_strip` rows each.
pub struct Page {
    pub width: u32,
    pub height: u32,
    pub rows_per_strip: u32,
    pub tags: Vec<(u16, Value)>,
    pub strips: Vec<Vec<u8>>,
}

/// The TIFF file holding `pages`, the first one first.
pub fn tiff(pages: &[Page]) -> Vec<u8> {
    let mut out = b"II*\0\0\0\0\0".to_vec();
    let mut link_at = 4;
    for page in pages {
        let mut offsets = Vec::new();
        for strip in &page.strips {
            offsets.push(out.len() as u32);
            out.extend(strip);
            pad(&mut out);
        }
        let mut tags: Vec<(u16, &Value)> = page.tags.iter().map(|(t, v)| (*t, v)).collect();
        let size = [
            Value::Long(vec![page.width]),
            Value::Long(vec![page.height]),
            Value::Long(offsets),
            Value::Long(vec![page.rows_per_strip]),
            Value::Long(page.strips.iter().map(|s| s.len() as u32).collect()),
        ];
        tags.extend([256, 257, 273, 278, 279].into_iter().zip(&size));
        tags.sort_by_key(|(tag, _)| *tag);
        // Values of more than four bytes go before the directory.
        let mut entries = Vec::new();
        for (tag, value) in tags {
            let (kind, count, bytes): (u16, usize, Vec<u8>) = match value {
                Value::Short(v) => (3, v.len(), v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                Value::Long(v) => (4, v.len(), v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            };
            let field = if bytes.len() <= 4 {
                let mut inline = bytes.clone();
                inline.resize(4, 0);
                inline
            } else {
                let at = out.len() as u32;
                out.extend(&bytes);
                pad(&mut out);
                at.to_le_bytes().to_vec()
            };
            entries.push((tag, kind, count as u32, field));
        }
        let directory = out.len() as u32;
        out[link_at..link_at + 4].copy_from_slice(&directory.to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, count, field) in entries {
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(count.to_le_bytes());
            out.extend(field);
        }
        link_at = out.len();
        out.extend([0; 4]);
    }
    out
}

fn pad(out: &mut Vec<u8>) {
    if out.len() % 2 == 1 {
        out.push(0);
    }
}

/// `values` of `bits` bits each (up to 32), `per_row` to a row, packed from the highest
/// bit, each row starting on a whole byte.
pub fn pack(values: &[u32], per_row: usize, bits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for row in values.chunks(per_row) {
        let mut bytes = vec![0u8; (per_row * bits).div_ceil(8)];
        for (i, &value) in row.iter().enumerate() {
            for b in 0..bits {
                if value >> (bits - 1 - b) & 1 == 1 {
                    let at = i * bits + b;
                    bytes[at / 8] |= 0x80 >> (at % 8);
                }
            }
        }
        out.extend(bytes);
    }
    out
}

/// PackBits, as literal runs only (valid, if not small).
pub fn packbits(data: &[u8]) -> Vec<u8> {
    data.chunks(128)
        .flat_map(|run| std::iter::once(run.len() as u8 - 1).chain(run.iter().copied()))
        .collect()
}

/// LZW as TIFF writes it (code size switched one code early).
pub fn lzw(data: &[u8]) -> Vec<u8> {
    weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
        .encode(data)
        .unwrap()
}

/// Deflate in a zlib stream, as TIFF's compression 8 stores it.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}
