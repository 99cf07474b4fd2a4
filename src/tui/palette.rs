//! The `:` command palette, like k9s: a line at the bottom where a command
//! is typed, completed with Tab and recalled with ↑↓ from this session's
//! history. Pure: it parses and completes; `App::run_command` does it.
//!
//! The commands that perform a bound action come from the key table
//! ([`crate::tui::keys::BINDINGS`]'s `command` column: `:runbooks`, `:runs`,
//! `:dashboard`, `:help`, `:quit`, `:outage`); those with an argument are
//! in [`WITH_ARGUMENT`]. A new screen's command is one `command:` entry on
//! its row in the key table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::keys::{Action, KeyMap};

/// Commands taking an argument, with what the argument is.
pub const WITH_ARGUMENT: [(&str, &str); 4] = [
    (
        "service",
        "a service id: show it on the dashboard with its detail",
    ),
    ("theme", "a theme name: switch to it"),
    (
        "incident start",
        "HH:MM, -10m or RFC 3339, then why: declare an incident",
    ),
    ("filter", "text: filter the list on screen"),
];

/// A command the palette understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Perform(Action),
    Service(String),
    Theme(String),
    /// `when` and `why` prefill the declare dialog, which checks them.
    IncidentStart {
        when: String,
        why: String,
    },
    Filter(String),
}

/// What completion draws on besides the command names.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub services: Vec<String>,
    pub themes: Vec<String>,
}

/// The palette's line and this session's history.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    pub open: bool,
    pub input: String,
    /// Why the last command was refused, shown until the next key.
    pub error: Option<String>,
    /// Commands run, oldest first; a repeat is not added twice in a row.
    pub history: Vec<String>,
    /// Index into `history` while ↑↓ browse it.
    browsing: Option<usize>,
}

/// What a key in the palette asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteOutcome {
    Open,
    Closed,
    Run(Command),
}

impl Palette {
    pub fn open(&mut self) {
        self.open = true;
        self.input.clear();
        self.error = None;
        self.browsing = None;
    }

    pub fn on_key(&mut self, key: KeyEvent, words: &Vocabulary) -> PaletteOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        self.error = None;
        match key.code {
            KeyCode::Esc => {
                self.open = false;
                return PaletteOutcome::Closed;
            }
            KeyCode::Enter => {
                let line = self.input.trim().to_string();
                if line.is_empty() {
                    self.open = false;
                    return PaletteOutcome::Closed;
                }
                match parse(&line, words) {
                    Ok(command) => {
                        if self.history.last() != Some(&line) {
                            self.history.push(line);
                        }
                        self.open = false;
                        return PaletteOutcome::Run(command);
                    }
                    Err(why) => self.error = Some(why),
                }
            }
            KeyCode::Tab => self.input = complete(&self.input, words),
            KeyCode::Up => self.browse(-1),
            KeyCode::Down => self.browse(1),
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char(c) if !ctrl => self.input.push(c),
            _ => {}
        }
        PaletteOutcome::Open
    }

    fn browse(&mut self, by: isize) {
        if self.history.is_empty() {
            return;
        }
        let last = self.history.len() - 1;
        let at = match (self.browsing, by < 0) {
            (None, true) => Some(last),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i < last => Some(i + 1),
            (Some(_), false) => None,
        };
        self.browsing = at;
        self.input = at.map(|i| self.history[i].clone()).unwrap_or_default();
    }

    /// What Tab could complete the line to, for the hint beside it.
    pub fn suggestions(&self, words: &Vocabulary) -> Vec<String> {
        candidates(&self.input, words)
    }
}

/// Every command name the palette knows.
fn command_names() -> Vec<&'static str> {
    KeyMap::commands()
        .map(|(name, _)| name)
        .chain(WITH_ARGUMENT.iter().map(|(name, _)| *name))
        .collect()
}

/// Reads a command line (without its `:`).
pub fn parse(line: &str, words: &Vocabulary) -> Result<Command, String> {
    let line = line.trim().trim_start_matches(':').trim();
    if let Some((_, action)) = KeyMap::commands().find(|(name, _)| *name == line) {
        return Ok(Command::Perform(action));
    }
    let (head, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    match head {
        "service" => {
            if rest.is_empty() {
                return Err("service needs a service id".into());
            }
            match words.services.iter().find(|s| s.as_str() == rest) {
                Some(service) => Ok(Command::Service(service.clone())),
                None => Err(format!(
                    "no service `{rest}`: expected one of {}",
                    words.services.join(", ")
                )),
            }
        }
        "theme" => match words.themes.iter().find(|t| t.as_str() == rest) {
            Some(theme) => Ok(Command::Theme(theme.clone())),
            None => Err(format!(
                "no theme `{rest}`: expected one of {}",
                words.themes.join(", ")
            )),
        },
        "incident" => {
            let Some(args) = rest.strip_prefix("start") else {
                return Err("expected `incident start [HH:MM|-10m|RFC 3339] [why]`".into());
            };
            let args = args.trim();
            let (when, why) = args.split_once(' ').unwrap_or((args, ""));
            Ok(Command::IncidentStart {
                when: when.to_string(),
                why: why.trim().to_string(),
            })
        }
        "filter" => Ok(Command::Filter(rest.to_string())),
        _ => Err(format!(
            "`{line}` is not a command: expected one of {}",
            command_names().join(", ")
        )),
    }
}

/// The completions of `input`: command names, then a service or theme
/// name after `service ` or `theme `.
pub fn candidates(input: &str, words: &Vocabulary) -> Vec<String> {
    let input = input.trim_start();
    for (command, names) in [("service ", &words.services), ("theme ", &words.themes)] {
        if let Some(partial) = input.strip_prefix(command) {
            return names
                .iter()
                .filter(|n| n.starts_with(partial))
                .map(|n| format!("{command}{n}"))
                .collect();
        }
    }
    command_names()
        .into_iter()
        .filter(|name| name.starts_with(input))
        .map(String::from)
        .collect()
}

/// `input` completed as far as all its candidates agree (a whole command
/// with a space after it when there is one candidate taking an argument).
pub fn complete(input: &str, words: &Vocabulary) -> String {
    let found = candidates(input, words);
    let Some(first) = found.first() else {
        return input.to_string();
    };
    let mut common = first.clone();
    for other in &found[1..] {
        let shared = common
            .chars()
            .zip(other.chars())
            .take_while(|(a, b)| a == b)
            .count();
        common = common.chars().take(shared).collect();
    }
    let takes_argument = WITH_ARGUMENT.iter().any(|(name, _)| *name == common);
    if found.len() == 1 && takes_argument {
        common.push(' ');
    }
    if common.len() < input.trim_start().len() {
        return input.to_string();
    }
    common
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Vocabulary {
        Vocabulary {
            services: vec!["orders".into(), "billing".into(), "order-archive".into()],
            themes: vec!["dark".into(), "light".into(), "high-contrast".into()],
        }
    }

    fn typed(palette: &mut Palette, text: &str) -> PaletteOutcome {
        let mut outcome = PaletteOutcome::Open;
        for c in text.chars() {
            outcome = palette.on_key(
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
                &words(),
            );
        }
        outcome
    }

    fn press(palette: &mut Palette, code: KeyCode) -> PaletteOutcome {
        palette.on_key(KeyEvent::new(code, KeyModifiers::NONE), &words())
    }

    #[test]
    fn commands_parse_from_the_key_table_and_with_arguments() {
        let w = words();
        assert_eq!(
            parse("runbooks", &w),
            Ok(Command::Perform(Action::Runbooks))
        );
        assert_eq!(parse(":quit", &w), Ok(Command::Perform(Action::Quit)));
        assert_eq!(
            parse("service orders", &w),
            Ok(Command::Service("orders".into()))
        );
        assert_eq!(parse("theme light", &w), Ok(Command::Theme("light".into())));
        assert_eq!(
            parse("incident start 12:25 users see 500s", &w),
            Ok(Command::IncidentStart {
                when: "12:25".into(),
                why: "users see 500s".into()
            })
        );
        assert!(
            parse("service nope", &w)
                .unwrap_err()
                .contains("no service `nope`")
        );
        assert!(
            parse("theme ../../etc/passwd", &w)
                .unwrap_err()
                .contains("no theme")
        );
        assert!(
            parse("launch", &w)
                .unwrap_err()
                .contains("is not a command")
        );
        assert!(
            parse("incident stop", &w)
                .unwrap_err()
                .contains("incident start")
        );
    }

    #[test]
    fn tab_completes_commands_and_their_arguments() {
        let w = words();
        assert_eq!(complete("runb", &w), "runbooks");
        assert_eq!(complete("run", &w), "run", "runbooks and runs share `run`");
        assert_eq!(complete("se", &w), "service ");
        assert_eq!(complete("service b", &w), "service billing");
        assert_eq!(complete("service ord", &w), "service order");
        assert_eq!(complete("theme h", &w), "theme high-contrast");
        assert_eq!(complete("zzz", &w), "zzz");
    }

    #[test]
    fn enter_runs_and_keeps_history_that_arrows_recall() {
        let mut palette = Palette::default();
        palette.open();
        assert_eq!(typed(&mut palette, "runs"), PaletteOutcome::Open);
        assert_eq!(
            press(&mut palette, KeyCode::Enter),
            PaletteOutcome::Run(Command::Perform(Action::Runs))
        );
        assert!(!palette.open);
        palette.open();
        typed(&mut palette, "bogus");
        assert_eq!(press(&mut palette, KeyCode::Enter), PaletteOutcome::Open);
        assert!(palette.error.as_deref().unwrap().contains("not a command"));
        press(&mut palette, KeyCode::Esc);
        palette.open();
        typed(&mut palette, "theme light");
        press(&mut palette, KeyCode::Enter);
        palette.open();
        press(&mut palette, KeyCode::Up);
        assert_eq!(palette.input, "theme light");
        press(&mut palette, KeyCode::Up);
        assert_eq!(palette.input, "runs");
        press(&mut palette, KeyCode::Down);
        press(&mut palette, KeyCode::Down);
        assert_eq!(palette.input, "");
        assert_eq!(palette.history, ["runs", "theme light"]);
    }
}
