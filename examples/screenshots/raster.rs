//! A ratatui buffer drawn as a terminal would show it, encoded as PNG:
//! each cell's background filled, its symbol rasterised in DejaVu Sans Mono
//! (bold cells in the bold face) in the cell's foreground, reversed cells
//! swapped. Colours resolve as xterm's defaults do, on the background of
//! the terminal the theme is made for ([`Terminal::for_theme`]).
//!
//! Box-drawing lines are drawn as rectangles, not glyphs: a font's lines
//! stop short of the cell edge at some sizes, and a terminal joins them.
//! No randomness and no clock: the same buffer gives the same bytes.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use drconsole::tui::contrast::{Rgb, Terminal};
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// Glyph height in pixels; the cell is as wide as the font's advance.
const FONT_PX: f32 = 16.0;
const CELL_W: usize = 10;
const CELL_H: usize = 20;

struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, colour: Rgb) {
        for row in y..(y + h).min(self.height) {
            for col in x..(x + w).min(self.width) {
                let i = (row * self.width + col) * 3;
                self.pixels[i..i + 3].copy_from_slice(&[colour.0, colour.1, colour.2]);
            }
        }
    }

    /// Mixes `colour` into the pixel by `coverage` (0 to 1).
    fn blend(&mut self, x: usize, y: usize, colour: Rgb, coverage: f32) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = (y * self.width + x) * 3;
        let c = coverage.clamp(0.0, 1.0);
        for (k, v) in [colour.0, colour.1, colour.2].into_iter().enumerate() {
            let old = f32::from(self.pixels[i + k]);
            self.pixels[i + k] = (old + (f32::from(v) - old) * c).round() as u8;
        }
    }
}

/// The lines of a box-drawing character: (up, down, left, right), each 0
/// (none), 1 (light) or 2 (heavy/double, drawn thicker).
fn box_lines(c: char) -> Option<[u8; 4]> {
    Some(match c {
        '─' => [0, 0, 1, 1],
        '━' | '═' => [0, 0, 2, 2],
        '│' => [1, 1, 0, 0],
        '┃' | '║' => [2, 2, 0, 0],
        '┌' | '╭' => [0, 1, 0, 1],
        '┐' | '╮' => [0, 1, 1, 0],
        '└' | '╰' => [1, 0, 0, 1],
        '┘' | '╯' => [1, 0, 1, 0],
        '├' => [1, 1, 0, 1],
        '┤' => [1, 1, 1, 0],
        '┬' => [0, 1, 1, 1],
        '┴' => [1, 0, 1, 1],
        '┼' => [1, 1, 1, 1],
        '┏' | '╔' => [0, 2, 0, 2],
        '┓' | '╗' => [0, 2, 2, 0],
        '┗' | '╚' => [2, 0, 0, 2],
        '┛' | '╝' => [2, 0, 2, 0],
        _ => return None,
    })
}

fn draw_box(canvas: &mut Canvas, x: usize, y: usize, lines: [u8; 4], colour: Rgb) {
    let (cx, cy) = (x + CELL_W / 2, y + CELL_H / 2);
    let thick = |weight: u8| if weight == 2 { 3 } else { 1 };
    let [up, down, left, right] = lines;
    if up > 0 {
        let t = thick(up);
        canvas.fill(cx - t / 2, y, t, CELL_H / 2 + 1, colour);
    }
    if down > 0 {
        let t = thick(down);
        canvas.fill(cx - t / 2, cy, t, CELL_H - CELL_H / 2, colour);
    }
    if left > 0 {
        let t = thick(left);
        canvas.fill(x, cy - t / 2, CELL_W / 2 + 1, t, colour);
    }
    if right > 0 {
        let t = thick(right);
        canvas.fill(cx, cy - t / 2, CELL_W - CELL_W / 2, t, colour);
    }
}

/// Block elements a sparkline or gauge uses: the filled part of the cell
/// as (from the top, height) in eighths.
fn block_fill(c: char) -> Option<(usize, usize)> {
    Some(match c {
        '█' => (0, 8),
        '▀' => (0, 4),
        '▁'..='▇' => {
            let eighths = c as usize - '▁' as usize + 1;
            (8 - eighths, eighths)
        }
        _ => return None,
    })
}

/// `buffer` as a PNG, colours as on the terminal `theme` is made for.
pub fn png(buffer: &Buffer, theme: &str) -> Vec<u8> {
    let terminal = Terminal::for_theme(theme);
    let regular = FontRef::try_from_slice(REGULAR).expect("the embedded font parses");
    let bold = FontRef::try_from_slice(BOLD).expect("the embedded font parses");
    let area = buffer.area;
    let mut canvas = Canvas {
        width: usize::from(area.width) * CELL_W,
        height: usize::from(area.height) * CELL_H,
        pixels: Vec::new(),
    };
    canvas.pixels = vec![0; canvas.width * canvas.height * 3];
    for row in 0..area.height {
        for col in 0..area.width {
            let cell = &buffer[(area.x + col, area.y + row)];
            let style = cell.style();
            let (fg, bg) = terminal.colours(style, terminal.background);
            let (x, y) = (usize::from(col) * CELL_W, usize::from(row) * CELL_H);
            canvas.fill(x, y, CELL_W, CELL_H, bg);
            let Some(c) = cell.symbol().chars().next() else {
                continue;
            };
            if let Some(lines) = box_lines(c) {
                draw_box(&mut canvas, x, y, lines, fg);
                continue;
            }
            if let Some((top, height)) = block_fill(c) {
                let px = |eighths: usize| eighths * CELL_H / 8;
                canvas.fill(x, y + px(top), CELL_W, px(top + height) - px(top), fg);
                continue;
            }
            if c == ' ' {
                continue;
            }
            let font = if style.add_modifier.contains(Modifier::BOLD) {
                &bold
            } else {
                &regular
            };
            draw_glyph(&mut canvas, font, c, x, y, fg);
        }
    }
    encode(&canvas)
}

fn draw_glyph(canvas: &mut Canvas, font: &FontRef<'_>, c: char, x: usize, y: usize, fg: Rgb) {
    let scaled = font.as_scaled(PxScale::from(FONT_PX));
    let baseline = (CELL_H as f32 - (scaled.ascent() - scaled.descent())) / 2.0 + scaled.ascent();
    let glyph = scaled.glyph_id(c).with_scale_and_position(
        FONT_PX,
        ab_glyph::point(x as f32, y as f32 + baseline.round()),
    );
    if let Some(outlined) = font.outline_glyph(glyph) {
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px >= 0 && py >= 0 {
                canvas.blend(px as usize, py as usize, fg, coverage);
            }
        });
    }
}

fn encode(canvas: &Canvas) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, canvas.width as u32, canvas.height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder
        .write_header()
        .expect("writing to memory cannot fail");
    writer
        .write_image_data(&canvas.pixels)
        .expect("the image is as large as its header says");
    writer.finish().expect("writing to memory cannot fail");
    out
}
