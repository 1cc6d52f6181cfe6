//! Shrinking while rows arrive: a box average over blocks of about `factor` x `factor`
//! pixels, computed as a decoder hands out its rows, so a large picture never has to be
//! held whole. What is held is the shrunk image plus one row of sums and one picture row
//! of column sums (rows in order), or the shrunk image's sums (rows out of order, as an
//! interlaced PNG gives them).

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

use crate::image::pixels::gray::drop_opaque_alpha;

/// Accumulates a `width` x `height` gray, gray-with-alpha, RGB or RGBA picture, pixel rows
/// at a time,
/// into its box average shrunk about `factor` times on each side: the shrunk image has
/// `ceil(width / factor)` x `ceil(height / factor)` pixels, and each is the mean of the
/// picture's pixels that fall in it when the shrunk grid is laid evenly over the whole
/// picture (blocks of `factor` or `factor - 1` pixels a side; so the shrunk image covers
/// exactly the picture, and resizing it as if it were the picture puts every edge where
/// it belongs). With alpha, gray (or colour) is averaged weighted by alpha (premultiplied),
/// so transparent pixels do not bleed their colour. Factor 1 copies the pixels as they are.
pub(crate) struct BoxShrink {
    source: (u32, u32),
    size: (u32, u32),
    /// 1 for gray, 2 for gray with alpha, 3 for RGB, 4 for RGBA.
    channels: usize,
    /// Rows arrive top to bottom (one band of sums is held), or in any order (all held).
    in_order: bool,
    /// Shrunk column `c` covers picture columns `columns[c]..columns[c + 1]`.
    columns: Vec<u32>,
    /// Per shrunk pixel: sum of each colour channel (times alpha, with alpha), then sum of
    /// alpha.
    sums: Vec<u32>,
    /// The shrunk row the band of sums belongs to (rows in order).
    band: u32,
    /// Rows in order: per picture column and channel, the sum of the band's rows added
    /// whole (see `push`), until `fold_columns` moves them into `sums`.
    column_sums: Vec<u32>,
    /// Whether `column_sums` holds anything.
    columns_held: bool,
    /// The shrunk pixels, `channels` bytes each.
    pixels: Vec<u8>,
}

/// Where shrunk cell `cell` of `cells` begins along a side of `length` picture pixels: the
/// first pixel `p` with `p * cells / length >= cell`.
fn cell_start(cell: u32, cells: u32, length: u32) -> u32 {
    (u64::from(cell) * u64::from(length)).div_ceil(u64::from(cells)) as u32
}

/// The shrunk cell that picture pixel `p` falls in.
fn cell_of(p: u32, cells: u32, length: u32) -> u32 {
    (u64::from(p) * u64::from(cells) / u64::from(length)) as u32
}

impl BoxShrink {
    /// Ready for the rows of a `source`-sized picture with `channels` (1: gray, 2: gray and
    /// alpha, 3: RGB, 4: RGBA) bytes per pixel. `in_order`: every row comes once, top to bottom.
    pub(crate) fn new(source: (u32, u32), factor: u32, channels: usize, in_order: bool) -> Self {
        let factor = factor.max(1);
        let size = (source.0.div_ceil(factor), source.1.div_ceil(factor));
        let row = size.0 as usize * channels;
        let held_rows = if size == source {
            0
        } else if in_order {
            1
        } else {
            size.1 as usize
        };
        BoxShrink {
            source,
            size,
            channels,
            in_order,
            columns: (0..=size.0)
                .map(|c| cell_start(c, size.0, source.0))
                .collect(),
            sums: vec![0; row * held_rows],
            band: 0,
            column_sums: Vec::new(),
            columns_held: false,
            pixels: vec![0; row * size.1 as usize],
        }
    }

    /// Adds the pixels of picture row `y` found at columns `x0`, `x0 + step`, ...: `row`
    /// holds them in turn, `channels` bytes each (the whole row, or a part of it, as a
    /// tile gives it). Pixels beyond the picture are ignored.
    pub(crate) fn push(&mut self, y: u32, x0: u32, step: u32, row: &[u8]) {
        if y >= self.source.1 {
            return;
        }
        let step = step.max(1);
        let count = (self.source.0.saturating_sub(x0)).div_ceil(step) as usize;
        let row = &row[..(count * self.channels).min(row.len())];
        let channels = self.channels;
        if self.size == self.source {
            let width = self.size.0 as usize;
            let start = y as usize * width * channels;
            let line = &mut self.pixels[start..start + width * channels];
            if step == 1 {
                let from = x0 as usize * channels;
                line[from..from + row.len()].copy_from_slice(row);
                return;
            }
            for (i, pixel) in row.chunks_exact(channels).enumerate() {
                let x = (x0 + i as u32 * step) as usize;
                line[x * channels..(x + 1) * channels].copy_from_slice(pixel);
            }
            return;
        }
        let shrunk_y = cell_of(y, self.size.1, self.source.1);
        let width = self.size.0 as usize;
        let band_start = if self.in_order {
            if shrunk_y != self.band {
                self.flush_band();
                self.band = shrunk_y;
            }
            0
        } else {
            shrunk_y as usize * width * channels
        };
        // Every pixel of a row from its first, in order, and no weighting by alpha to do
        // (no alpha, or every pixel opaque): added column by column, the cells summed once
        // a band is done (`fold_columns`). The same sums, with no cell to find a pixel.
        let opaque = |row: &[u8]| {
            row.chunks_exact(channels)
                .all(|pixel| pixel[channels - 1] == 255)
        };
        if self.in_order && step == 1 && x0 == 0 && (!channels.is_multiple_of(2) || opaque(row)) {
            if self.column_sums.is_empty() {
                self.column_sums = vec![0; self.source.0 as usize * channels];
            }
            for (total, &value) in self.column_sums.iter_mut().zip(row) {
                *total += u32::from(value);
            }
            self.columns_held = true;
            return;
        }
        // Otherwise (an Adam7 pass, a tile's part of a row, rows out of order, alpha to
        // weigh by): the cell moves on as x does.
        let sums = &mut self.sums[band_start..band_start + width * channels];
        let mut cell = cell_of(x0, self.size.0, self.source.0) as usize;
        for (i, pixel) in row.chunks_exact(channels).enumerate() {
            let x = x0 + i as u32 * step;
            while x >= self.columns[cell + 1] {
                cell += 1;
            }
            add(&mut sums[channels * cell..channels * (cell + 1)], pixel);
        }
    }

    /// Adds the band's column sums into its cells' sums (weighted by the opaque alpha,
    /// 255, when there is alpha), and clears them.
    fn fold_columns(&mut self) {
        if !self.columns_held {
            return;
        }
        let channels = self.channels;
        let weight = if channels.is_multiple_of(2) { 255 } else { 1 };
        let cells = self
            .sums
            .chunks_exact_mut(channels)
            .zip(self.columns.windows(2));
        for (sum, bounds) in cells {
            let mut cell = [0u32; 4];
            let columns = bounds[0] as usize * channels..bounds[1] as usize * channels;
            for pixel in self.column_sums[columns].chunks_exact(channels) {
                for (total, &value) in cell.iter_mut().zip(pixel) {
                    *total += value;
                }
            }
            // With alpha, every pixel added here was opaque: its weighted colour is 255
            // times its colour, and the alpha sum is the plain one.
            let last = channels - 1;
            for (c, (total, value)) in sum.iter_mut().zip(cell).enumerate() {
                *total += if c < last { weight * value } else { value };
            }
        }
        self.column_sums.fill(0);
        self.columns_held = false;
    }

    /// Turns the sums of the band into shrunk pixels, and clears them.
    fn flush_band(&mut self) {
        self.fold_columns();
        let width = self.size.0 as usize * self.channels;
        let start = self.band as usize * width;
        self.average(self.band, 0, start);
        self.sums[..width].fill(0);
    }

    /// Shrunk row `band` from the sums at `sums_at` into the pixels at `pixels_at`: each
    /// cell's mean, rounded to nearest; with alpha, gray is the alpha-weighted mean and alpha
    /// the plain mean.
    fn average(&mut self, band: u32, sums_at: usize, pixels_at: usize) {
        let rows = cell_start(band + 1, self.size.1, self.source.1)
            - cell_start(band, self.size.1, self.source.1);
        let width = self.size.0 as usize * self.channels;
        let sums = &self.sums[sums_at..sums_at + width];
        let pixels = &mut self.pixels[pixels_at..pixels_at + width];
        let cells = sums
            .chunks_exact(self.channels)
            .zip(pixels.chunks_exact_mut(self.channels));
        for ((sum, pixel), bounds) in cells.zip(self.columns.windows(2)) {
            let count = rows * (bounds[1] - bounds[0]);
            let has_alpha = self.channels.is_multiple_of(2);
            if has_alpha {
                let (colour, alpha) = sum.split_at(self.channels - 1);
                let alpha = u64::from(alpha[0]);
                for (value, &weighted) in pixel.iter_mut().zip(colour) {
                    *value = (u64::from(weighted) + alpha / 2)
                        .checked_div(alpha)
                        .unwrap_or(0) as u8;
                }
                pixel[self.channels - 1] =
                    ((alpha + u64::from(count / 2)) / u64::from(count)) as u8;
            } else {
                for (value, &total) in pixel.iter_mut().zip(sum) {
                    *value = ((total + count / 2) / count) as u8;
                }
            }
        }
    }

    /// The shrunk image in the layout its rows had, alpha dropped when every pixel is
    /// opaque.
    pub(crate) fn finish(mut self) -> DynamicImage {
        if self.size != self.source {
            if self.in_order {
                self.flush_band();
            } else {
                let width = self.size.0 as usize * self.channels;
                for band in 0..self.size.1 {
                    let at = band as usize * width;
                    self.average(band, at, at);
                }
            }
        }
        let (width, height) = self.size;
        let pixels = self.pixels;
        let sized = "a pixel's bytes each";
        let image = match self.channels {
            1 => DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, pixels).expect(sized)),
            2 => DynamicImage::ImageLumaA8(
                GrayAlphaImage::from_raw(width, height, pixels).expect(sized),
            ),
            3 => DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, pixels).expect(sized)),
            _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(width, height, pixels).expect(sized)),
        };
        drop_opaque_alpha(image)
    }
}

/// Adds one pixel to its cell's sums: each channel; with alpha (an even count of
/// channels), the colour channels weighted by alpha, then alpha.
#[inline]
fn add(sum: &mut [u32], pixel: &[u8]) {
    if pixel.len() % 2 == 1 {
        for (total, &value) in sum.iter_mut().zip(pixel) {
            *total += u32::from(value);
        }
        return;
    }
    let (colour, alpha) = pixel.split_at(pixel.len() - 1);
    let alpha = u32::from(alpha[0]);
    for (total, &value) in sum.iter_mut().zip(colour) {
        *total += u32::from(value) * alpha;
    }
    sum[pixel.len() - 1] += alpha;
}

/// The rows of an Adam7-interlaced picture in the order a PNG stores them: for each
/// non-empty pass, for each of its lines, the picture row and the first column and column
/// step of its pixels.
pub(crate) fn adam7_rows(width: u32, height: u32) -> impl Iterator<Item = (u32, u32, u32)> {
    // (first column, column step, first row, row step) of passes 1 to 7 (PNG spec, 8.2).
    const PASSES: [(u32, u32, u32, u32); 7] = [
        (0, 8, 0, 8),
        (4, 8, 0, 8),
        (0, 4, 4, 8),
        (2, 4, 0, 4),
        (0, 2, 2, 4),
        (1, 2, 0, 2),
        (0, 1, 1, 2),
    ];
    PASSES.into_iter().flat_map(move |(x0, dx, y0, dy)| {
        let samples = width.saturating_sub(x0).div_ceil(dx);
        let lines = if samples == 0 {
            0
        } else {
            height.saturating_sub(y0).div_ceil(dy)
        };
        (0..lines).map(move |line| (y0 + line * dy, x0, dx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shrink_whole(gray: &GrayImage, factor: u32, in_order: bool) -> DynamicImage {
        let mut shrink = BoxShrink::new(gray.dimensions(), factor, 1, in_order);
        let rows: Vec<u32> = if in_order {
            (0..gray.height()).collect()
        } else {
            (0..gray.height()).rev().collect()
        };
        for y in rows {
            let start = (y * gray.width()) as usize;
            shrink.push(
                y,
                0,
                1,
                &gray.as_raw()[start..start + gray.width() as usize],
            );
        }
        shrink.finish()
    }

    #[test]
    fn cells_laid_evenly_over_the_picture_average_their_pixels() {
        // 4x2 by 2: whole 2x2 blocks.
        let gray = GrayImage::from_fn(4, 2, |x, y| image::Luma([(x * 10 + y * 100) as u8]));
        for in_order in [true, false] {
            let shrunk = shrink_whole(&gray, 2, in_order).into_luma8();
            assert_eq!(shrunk.dimensions(), (2, 1));
            assert_eq!(shrunk.get_pixel(0, 0).0, [55]); // (0+10+100+110)/4
            assert_eq!(shrunk.get_pixel(1, 0).0, [75]); // (20+30+120+130)/4
        }
        // 5x3 by 2 into 3x2 cells: columns 0-1, 2-3, 4 (cell c starts at ceil(5c/3)) and
        // rows 0-1, 2 (cell r starts at ceil(3r/2)).
        let gray = GrayImage::from_fn(5, 3, |x, y| image::Luma([(x * 10 + y * 100) as u8]));
        for in_order in [true, false] {
            let shrunk = shrink_whole(&gray, 2, in_order).into_luma8();
            assert_eq!(shrunk.dimensions(), (3, 2));
            assert_eq!(shrunk.get_pixel(0, 0).0, [55]);
            assert_eq!(shrunk.get_pixel(1, 0).0, [75]);
            assert_eq!(shrunk.get_pixel(2, 0).0, [90]); // (40+140)/2
            assert_eq!(shrunk.get_pixel(0, 1).0, [205]); // (200+210)/2
        }
    }

    #[test]
    fn uneven_cells_keep_every_edge_where_it_is() {
        // A step at 9/10 of a 10000-pixel-wide picture, shrunk by 19 into 527 cells: the
        // step falls in cell 474 (9/10 of 527 is 474.3), so 475 is the first white one. In
        // blocks of exactly 19 it would be 474 (9000 / 19 = 473.7), an edge moved by 0.6
        // of a cell, which a thumbnail of sharp edges shows.
        let gray = GrayImage::from_fn(10_000, 1, |x, _| {
            image::Luma([if x < 9000 { 0 } else { 255 }])
        });
        let shrunk = shrink_whole(&gray, 19, true).into_luma8();
        assert_eq!(shrunk.width(), 527);
        let first_white = (0..527).find(|&x| shrunk.get_pixel(x, 0).0[0] == 255);
        assert_eq!(first_white, Some(475));
        assert!(
            shrunk.get_pixel(474, 0).0[0] > 0,
            "the cell of the step is mixed"
        );
    }

    #[test]
    fn factor_one_is_the_picture_itself() {
        let gray = GrayImage::from_fn(7, 4, |x, y| image::Luma([(x * 31 + y * 7) as u8]));
        assert_eq!(shrink_whole(&gray, 1, true).into_luma8(), gray);
    }

    #[test]
    fn transparent_pixels_do_not_bleed_their_gray() {
        let mut shrink = BoxShrink::new((2, 1), 2, 2, true);
        // A white opaque pixel beside a black transparent one: the block is white, half
        // transparent.
        shrink.push(0, 0, 1, &[255, 255, 0, 0]);
        let DynamicImage::ImageLumaA8(shrunk) = shrink.finish() else {
            panic!("alpha lost")
        };
        assert_eq!(shrunk.get_pixel(0, 0).0, [255, 128]);
    }

    #[test]
    fn rows_in_order_shrink_as_rows_in_any_order() {
        // In order, whole rows without alpha to weigh are summed by column; in any order,
        // pixel by pixel into their cells. RGB, and RGBA with opaque rows beside rows that
        // are not, in cells of uneven sizes: the same shrunk pixels.
        let (width, height) = (23u32, 17u32);
        for channels in [1usize, 2, 3, 4] {
            let value = |x: u32, y: u32, c: usize| -> u8 {
                let alpha = channels % 2 == 0 && c == channels - 1;
                match (alpha, y % 3) {
                    (true, 0) => ((x * 37 + y * 11) % 256) as u8,
                    (true, _) => 255,
                    _ => ((x * 53 + y * 29 + c as u32 * 71) % 256) as u8,
                }
            };
            let rows: Vec<Vec<u8>> = (0..height)
                .map(|y| {
                    (0..width)
                        .flat_map(|x| (0..channels).map(move |c| (x, c)))
                        .map(|(x, c)| value(x, y, c))
                        .collect()
                })
                .collect();
            let shrunk = |in_order: bool| {
                let mut shrink = BoxShrink::new((width, height), 4, channels, in_order);
                let order: Vec<u32> = if in_order {
                    (0..height).collect()
                } else {
                    (0..height).rev().collect()
                };
                for y in order {
                    shrink.push(y, 0, 1, &rows[y as usize]);
                }
                shrink.finish()
            };
            assert_eq!(shrunk(true), shrunk(false), "{channels} channels");
        }
    }

    #[test]
    fn adam7_visits_every_pixel_once() {
        for (width, height) in [(1, 1), (3, 2), (8, 8), (13, 9)] {
            let mut seen = vec![0u8; (width * height) as usize];
            for (y, x0, dx) in adam7_rows(width, height) {
                for x in (x0..width).step_by(dx as usize) {
                    seen[(y * width + x) as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{width}x{height}");
        }
    }
}
