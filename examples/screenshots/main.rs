//! Writes the README tour's screenshots: `cargo run --example screenshots
//! -- screenshots` (the directory defaults to `screenshots`). Each picture
//! is the real console state on the simulator, drawn with a real font; the
//! same code gives the same bytes, so a changed picture means a changed
//! screen.

mod raster;
mod shots;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "screenshots".into());
    for path in shots::write_all(std::path::Path::new(&dir))? {
        println!("{}", path.display());
    }
    Ok(())
}
