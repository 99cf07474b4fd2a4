//! The runbooks a console offers: every `*.yaml` in a directory.

use std::path::{Path, PathBuf};

use super::format::{self, Runbook};

/// Where runbooks are looked for when none is named: `./runbooks` (a
/// checkout of this repository or a team's runbook repo), else the user's
/// config directory.
pub fn default_dir(config_dir: &Path) -> PathBuf {
    let local = PathBuf::from("runbooks");
    if local.is_dir() {
        local
    } else {
        config_dir.join("runbooks")
    }
}

/// Loads every runbook in `dir`, sorted by file name. A runbook that does
/// not parse is left out and reported (`file:line:column: message`), so
/// one broken file never hides the others during an incident.
pub fn load_dir(dir: &Path) -> (Vec<Runbook>, Vec<String>) {
    let Ok(loaded) = format::load_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut runbooks = Vec::new();
    let mut problems = Vec::new();
    for (_, result) in loaded {
        match result {
            Ok(rb) => runbooks.push(rb),
            Err(diagnostics) => problems.extend(diagnostics.iter().map(ToString::to_string)),
        }
    }
    (runbooks, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_runbooks_all_load() {
        let (runbooks, problems) = load_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("runbooks")
                .as_path(),
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert!(runbooks.len() >= 5);
    }

    #[test]
    fn the_shipped_runbooks_are_valid_against_the_demo_environment() {
        let env = crate::config::environment_file::demo_environment();
        let today = chrono::Utc::now().date_naive();
        let (runbooks, _) = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks"));
        for rb in &runbooks {
            let errors: Vec<String> = super::super::validate::validate(rb, &env, today)
                .iter()
                .filter(|d| d.is_error())
                .map(ToString::to_string)
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", rb.path.display());
        }
    }

    #[test]
    fn a_broken_file_is_reported_and_the_rest_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let shipped =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/billing-replica-promotion.yaml");
        std::fs::copy(&shipped, dir.path().join("a.yaml")).unwrap();
        std::fs::write(dir.path().join("b.yaml"), "name: [unclosed\n").unwrap();
        let (runbooks, problems) = load_dir(dir.path());
        assert_eq!(runbooks.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("b.yaml:"), "{problems:?}");
    }
}
