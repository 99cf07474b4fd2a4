//! The screenshots example: every picture appears, and a second run
//! writes the same bytes.

#[path = "../examples/screenshots/raster.rs"]
mod raster;
#[path = "../examples/screenshots/shots.rs"]
mod shots;

#[test]
fn every_screenshot_is_written_and_a_second_run_gives_the_same_bytes() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let written = shots::write_all(first.path()).unwrap();
    shots::write_all(second.path()).unwrap();
    assert_eq!(written.len(), shots::SHOTS.len());
    for shot in shots::SHOTS {
        let a = std::fs::read(first.path().join(shot.file)).unwrap();
        let b = std::fs::read(second.path().join(shot.file)).unwrap();
        assert!(
            a.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is a PNG",
            shot.file
        );
        assert!(a == b, "{} differs between two runs", shot.file);
    }
}
