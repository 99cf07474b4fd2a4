//! Keys as data: every key the console answers is bound here, by the action
//! it performs, in one table ([`BINDINGS`]) that the input handling
//! ([`KeyMap::action_for`]), the footer, the help overlay and the `:`
//! palette all read. The user's `[keys]` section replaces an action's
//! default keys ([`KeyMap::with_overrides`]).
//!
//! Adding a screen or an action is one row per item:
//! - a new screen gets a [`Context`] variant, returned by
//!   `App::contexts` when it is on screen;
//! - a new action gets an [`Action`] variant, its name in [`Action::ALL`]
//!   (the `[keys]` name) and a row in [`BINDINGS`]: default keys, the help
//!   sentence, the contexts it works in with the footer's word for each,
//!   and its palette command, if it has one;
//! - `App::perform` (tui/state.rs) does it and `App::applies` says when the
//!   footer offers it.
//!
//! Text fields (the filter, the palette, the dialogs) take every key while
//! open, so typing a `q` there never quits; Ctrl-C always quits and is not
//! rebindable, so that a console can always be left.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// Where the console is: which bindings apply. The most specific comes
/// first in `App::contexts`, [`Context::Global`] last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// Everywhere no text field or dialog is open.
    Global,
    /// The services table and its detail pane.
    Dashboard,
    /// The list of runbooks.
    RunbookList,
    /// A run on screen.
    Run,
    /// This session's runs.
    RunsList,
    /// The help overlay.
    Help,
    /// The readiness scorecard.
    Readiness,
    /// A run followed read-only.
    Follow,
    /// The incident timeline.
    Timeline,
    /// A drill's report.
    DrillReport,
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    Palette,
    Dashboard,
    Runbooks,
    Runs,
    Readiness,
    Follow,
    Timeline,
    Report,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    Open,
    Back,
    SwitchFocus,
    Filter,
    Outage,
    Declare,
    Confirm,
    Tick,
    Retry,
    Skip,
    Abort,
    Discard,
}

impl Action {
    /// Every action with its name in the `[keys]` section.
    pub const ALL: [(Action, &'static str); 28] = [
        (Action::Quit, "quit"),
        (Action::Help, "help"),
        (Action::Palette, "palette"),
        (Action::Dashboard, "dashboard"),
        (Action::Runbooks, "runbooks"),
        (Action::Runs, "runs"),
        (Action::Readiness, "readiness"),
        (Action::Follow, "follow"),
        (Action::Timeline, "timeline"),
        (Action::Report, "report"),
        (Action::Up, "up"),
        (Action::Down, "down"),
        (Action::PageUp, "page_up"),
        (Action::PageDown, "page_down"),
        (Action::First, "first"),
        (Action::Last, "last"),
        (Action::Open, "open"),
        (Action::Back, "back"),
        (Action::SwitchFocus, "switch_focus"),
        (Action::Filter, "filter"),
        (Action::Outage, "outage"),
        (Action::Declare, "declare"),
        (Action::Confirm, "confirm"),
        (Action::Tick, "tick"),
        (Action::Retry, "retry"),
        (Action::Skip, "skip"),
        (Action::Abort, "abort"),
        (Action::Discard, "discard"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .map_or("", |(_, name)| name)
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(a, _)| *a)
    }
}

/// `[keys]` names an action by its name; an unknown one is refused where
/// it is written.
impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Action::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = Action::ALL.iter().map(|(_, n)| *n).collect();
            serde::de::Error::custom(format!(
                "`{name}` is not an action: expected one of {}",
                known.join(", ")
            ))
        })
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct Binding {
    pub action: Action,
    /// In the notation [`KeyCombo::parse`] reads.
    pub keys: &'static [&'static str],
    /// The help overlay's sentence; adjacent rows with the same sentence
    /// share one line there.
    pub help: &'static str,
    /// Where the action works, and the footer's word for it there.
    pub contexts: &'static [(Context, &'static str)],
    /// The `:` palette's command, if the action has one.
    pub command: Option<&'static str>,
}

use Context::{
    Dashboard, DrillReport, Follow, Global, Help, Readiness, Run, RunbookList, RunsList, Timeline,
};

pub const BINDINGS: &[Binding] = &[
    Binding {
        action: Action::Up,
        keys: &["Up", "k"],
        help: "move the selection",
        contexts: &[
            (Dashboard, "move"),
            (RunbookList, "move"),
            (RunsList, "move"),
            (Readiness, "move"),
            (Follow, "move"),
            (Timeline, "scroll"),
            (DrillReport, "scroll"),
        ],
        command: None,
    },
    Binding {
        action: Action::Down,
        keys: &["Down", "j"],
        help: "move the selection",
        contexts: &[
            (Dashboard, "move"),
            (RunbookList, "move"),
            (RunsList, "move"),
            (Readiness, "move"),
            (Follow, "move"),
            (Timeline, "scroll"),
            (DrillReport, "scroll"),
        ],
        command: None,
    },
    Binding {
        action: Action::PageUp,
        keys: &["PgUp"],
        help: "ten rows up / down",
        contexts: &[
            (Dashboard, ""),
            (RunbookList, ""),
            (RunsList, ""),
            (Readiness, ""),
            (Timeline, ""),
            (DrillReport, ""),
        ],
        command: None,
    },
    Binding {
        action: Action::PageDown,
        keys: &["PgDn"],
        help: "ten rows up / down",
        contexts: &[
            (Dashboard, ""),
            (RunbookList, ""),
            (RunsList, ""),
            (Readiness, ""),
            (Timeline, ""),
            (DrillReport, ""),
        ],
        command: None,
    },
    Binding {
        action: Action::First,
        keys: &["Home", "g"],
        help: "first / last row",
        contexts: &[
            (Dashboard, ""),
            (RunbookList, ""),
            (RunsList, ""),
            (Readiness, ""),
            (Timeline, ""),
            (DrillReport, ""),
        ],
        command: None,
    },
    Binding {
        action: Action::Last,
        keys: &["End", "G"],
        help: "first / last row",
        contexts: &[
            (Dashboard, ""),
            (RunbookList, ""),
            (RunsList, ""),
            (Readiness, ""),
            (Timeline, ""),
            (DrillReport, ""),
        ],
        command: None,
    },
    Binding {
        action: Action::Open,
        keys: &["Enter"],
        help: "open the detail pane; review and start a runbook; open a run",
        contexts: &[
            (Dashboard, "detail"),
            (RunbookList, "review"),
            (RunsList, "open"),
            (Follow, "follow"),
            (Help, ""),
        ],
        command: None,
    },
    Binding {
        action: Action::SwitchFocus,
        keys: &["Tab", "BackTab"],
        help: "focus the table or the detail pane",
        contexts: &[(Dashboard, "focus")],
        command: None,
    },
    Binding {
        action: Action::Back,
        keys: &["Esc"],
        help: "close the innermost thing open, clear the filter",
        contexts: &[
            (Dashboard, "close"),
            (RunbookList, "clear filter"),
            (RunsList, "clear filter"),
            (Run, "list"),
            (Follow, "runs to follow"),
            (Help, "close"),
        ],
        command: None,
    },
    Binding {
        action: Action::Filter,
        keys: &["/"],
        help: "filter the list by name",
        contexts: &[
            (Dashboard, "filter"),
            (RunbookList, "filter"),
            (RunsList, "filter"),
        ],
        command: None,
    },
    Binding {
        action: Action::Confirm,
        keys: &["c"],
        help: "review the awaited action's API call and confirm it",
        contexts: &[(Run, "confirm")],
        command: None,
    },
    Binding {
        action: Action::Tick,
        keys: &["Space"],
        help: "tick the manual step done",
        contexts: &[(Run, "tick")],
        command: None,
    },
    Binding {
        action: Action::Retry,
        keys: &["r"],
        help: "retry the failed step",
        contexts: &[(Run, "retry")],
        command: None,
    },
    Binding {
        action: Action::Skip,
        keys: &["s"],
        help: "skip the step (the reason is journaled)",
        contexts: &[(Run, "skip")],
        command: None,
    },
    Binding {
        action: Action::Abort,
        keys: &["A"],
        help: "abort the run (the reason is journaled)",
        contexts: &[(Run, "abort")],
        command: None,
    },
    Binding {
        action: Action::Discard,
        keys: &["D"],
        help: "discard the unfinished run or blocking journal, with a reason",
        contexts: &[(RunbookList, "discard")],
        command: None,
    },
    Binding {
        action: Action::Outage,
        keys: &["O"],
        help: "demo: start or end an outage of the service's primary region",
        contexts: &[(Dashboard, "outage")],
        command: Some("outage"),
    },
    Binding {
        action: Action::Declare,
        keys: &["I"],
        help: "declare an incident: when the outage began and why",
        contexts: &[(Dashboard, "incident")],
        command: None,
    },
    Binding {
        action: Action::Dashboard,
        keys: &["1"],
        help: "dashboard / runbooks / runs screen",
        contexts: &[(Global, "dashboard")],
        command: Some("dashboard"),
    },
    Binding {
        action: Action::Runbooks,
        keys: &["2"],
        help: "dashboard / runbooks / runs screen",
        contexts: &[(Global, "runbooks")],
        command: Some("runbooks"),
    },
    Binding {
        action: Action::Runs,
        keys: &["3"],
        help: "dashboard / runbooks / runs screen",
        contexts: &[(Global, "runs")],
        command: Some("runs"),
    },
    Binding {
        action: Action::Readiness,
        keys: &["4"],
        help: "readiness scorecard / timeline / followed run / drill report",
        contexts: &[(Global, "readiness")],
        command: Some("readiness"),
    },
    Binding {
        action: Action::Timeline,
        keys: &["t"],
        help: "readiness scorecard / timeline / followed run / drill report",
        contexts: &[(Global, "timeline")],
        command: Some("timeline"),
    },
    Binding {
        action: Action::Follow,
        keys: &["f"],
        help: "readiness scorecard / timeline / followed run / drill report",
        contexts: &[(Global, "follow")],
        command: Some("follow"),
    },
    Binding {
        action: Action::Report,
        keys: &["R"],
        help: "readiness scorecard / timeline / followed run / drill report",
        contexts: &[(Global, "report")],
        command: Some("report"),
    },
    Binding {
        action: Action::Palette,
        keys: &[":"],
        help: "command palette (Tab completes, ↑↓ history)",
        contexts: &[(Global, "command")],
        command: None,
    },
    Binding {
        action: Action::Help,
        keys: &["?"],
        help: "this help",
        contexts: &[(Global, "help"), (Help, "")],
        command: Some("help"),
    },
    Binding {
        action: Action::Quit,
        keys: &["q"],
        help: "quit (Ctrl-C always quits)",
        contexts: &[(Global, "quit")],
        command: Some("quit"),
    },
];

/// The key `action` is bound to by default, as an event: screens that read
/// keys themselves get this one, whatever key the user bound.
pub fn default_key(action: Action) -> Option<KeyEvent> {
    let combo = KeyCombo::parse(binding(action).keys.first()?).ok()?;
    Some(KeyEvent::new(combo.code, combo.modifiers))
}

pub fn binding(action: Action) -> &'static Binding {
    BINDINGS
        .iter()
        .find(|b| b.action == action)
        .expect("every action has a row in BINDINGS (tested)")
}

/// One key with its modifiers, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCombo {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// Why a key name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadKey(pub String);

impl fmt::Display for BadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const NAMED: [(&str, KeyCode); 15] = [
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("BackTab", KeyCode::BackTab),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("PgUp", KeyCode::PageUp),
    ("PgDn", KeyCode::PageDown),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
];

impl KeyCombo {
    /// Reads `q`, `G`, `?`, `Space`, `Enter`, `PgDn`, `F5`, `Ctrl-r`,
    /// `Alt-x`: a single character, or a key name, after any modifiers.
    pub fn parse(text: &str) -> Result<KeyCombo, BadKey> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        while let Some((prefix, after)) = rest.split_once('-') {
            // `-` itself and `Ctrl--` name the minus key.
            if after.is_empty() {
                break;
            }
            modifiers |= match prefix.to_ascii_lowercase().as_str() {
                "ctrl" => KeyModifiers::CONTROL,
                "alt" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => break,
            };
            rest = after;
        }
        let code = if let Some((_, code)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(rest))
        {
            *code
        } else if rest.eq_ignore_ascii_case("space") {
            KeyCode::Char(' ')
        } else if let Some(n) = rest
            .strip_prefix(['F', 'f'])
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCode::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() && c != ' ' => KeyCode::Char(c),
                _ => {
                    return Err(BadKey(format!(
                        "`{text}` is not a key: expected one character, Space, F1-F12 or one of {}, after any Ctrl-, Alt- or Shift-",
                        NAMED.map(|(n, _)| n).join(", ")
                    )));
                }
            }
        };
        Ok(KeyCombo { code, modifiers })
    }

    /// Whether `key` is this combination. Shift is part of a character
    /// (`G` arrives as Shift+g on some terminals, as `G` on all), so it
    /// is not compared for characters; nor for BackTab, which is Shift+Tab.
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let relevant = |m: KeyModifiers| match key.code {
            KeyCode::Char(_) | KeyCode::BackTab => m - KeyModifiers::SHIFT,
            _ => m,
        };
        let code = match (key.code, self.code) {
            // Ctrl-R and Ctrl-r are the same keystroke.
            (KeyCode::Char(a), KeyCode::Char(b)) if !self.modifiers.is_empty() => {
                a.eq_ignore_ascii_case(&b)
            }
            (a, b) => a == b,
        };
        code && relevant(key.modifiers) == relevant(self.modifiers)
    }
}

impl fmt::Display for KeyCombo {
    /// As the footer and help show it: arrows as arrows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, name) in [
            (KeyModifiers::CONTROL, "Ctrl-"),
            (KeyModifiers::ALT, "Alt-"),
            (KeyModifiers::SHIFT, "Shift-"),
        ] {
            if self.modifiers.contains(flag) {
                f.write_str(name)?;
            }
        }
        match self.code {
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

/// `[keys]` values: one key or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    fn names(&self) -> &[String] {
        match self {
            KeyList::One(one) => std::slice::from_ref(one),
            KeyList::Many(many) => many,
        }
    }
}

/// A refused `[keys]` entry: the action's name, the index of the bad key
/// in its list (if a list), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadOverride {
    pub action: &'static str,
    pub index: Option<usize>,
    pub message: String,
}

/// The keys of each action: the table's defaults, with the user's
/// overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMap {
    keys: BTreeMap<Action, Vec<KeyCombo>>,
}

impl Default for KeyMap {
    fn default() -> Self {
        let keys = BINDINGS
            .iter()
            .map(|b| {
                let combos = b
                    .keys
                    .iter()
                    .map(|k| KeyCombo::parse(k).expect("the default keys parse (tested)"))
                    .collect();
                (b.action, combos)
            })
            .collect();
        KeyMap { keys }
    }
}

impl KeyMap {
    /// The defaults with each named action's keys replaced. Unknown
    /// actions, bad key names, an empty list and a key bound twice where
    /// both bindings apply are refused.
    pub fn with_overrides(overrides: &BTreeMap<Action, KeyList>) -> Result<KeyMap, BadOverride> {
        let mut map = KeyMap::default();
        for (&action, list) in overrides {
            let name = action.name();
            let at = |i: usize| matches!(list, KeyList::Many(_)).then_some(i);
            if list.names().is_empty() {
                return Err(BadOverride {
                    action: action.name(),
                    index: None,
                    message: format!("keys.{name} needs at least one key"),
                });
            }
            let combos = list
                .names()
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    KeyCombo::parse(k).map_err(|e| BadOverride {
                        action: action.name(),
                        index: at(i),
                        message: format!("keys.{name}: {e}"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            map.keys.insert(action, combos);
        }
        if let Some((a, b, key)) = map.clash() {
            let action = if overrides.contains_key(&a) { a } else { b };
            return Err(BadOverride {
                action: action.name(),
                index: None,
                message: format!(
                    "`{key}` is bound to both {} and {} where both apply",
                    a.name(),
                    b.name()
                ),
            });
        }
        Ok(map)
    }

    /// Two actions sharing a key in a context where both apply; a global
    /// action applies in every context, so a screen's key may not hide it.
    fn clash(&self) -> Option<(Action, Action, KeyCombo)> {
        let global = |b: &Binding| b.contexts.iter().any(|(c, _)| *c == Global);
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let shared_context = global(a)
                    || global(b)
                    || a.contexts
                        .iter()
                        .any(|(ca, _)| b.contexts.iter().any(|(cb, _)| ca == cb));
                if !shared_context {
                    continue;
                }
                if let Some(key) = self
                    .keys(a.action)
                    .iter()
                    .find(|k| self.keys(b.action).contains(k))
                {
                    return Some((a.action, b.action, *key));
                }
            }
        }
        None
    }

    pub fn keys(&self, action: Action) -> &[KeyCombo] {
        self.keys.get(&action).map_or(&[], Vec::as_slice)
    }

    /// Whether `key` is one of `action`'s keys.
    pub fn is(&self, action: Action, key: &KeyEvent) -> bool {
        self.keys(action).iter().any(|k| k.matches(key))
    }

    /// The action `key` performs in `contexts` (most specific first): a
    /// key bound in a specific context shadows the same key bound globally.
    pub fn action_for(&self, key: &KeyEvent, contexts: &[Context]) -> Option<Action> {
        contexts.iter().find_map(|context| {
            BINDINGS
                .iter()
                .filter(|b| b.contexts.iter().any(|(c, _)| c == context))
                .find(|b| self.is(b.action, key))
                .map(|b| b.action)
        })
    }

    /// `action`'s keys as the footer shows them: `↑/k`.
    pub fn label(&self, action: Action) -> String {
        self.keys(action)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The footer's items for `contexts`: the keys and word of each action
    /// that `applies` now, the specific context's first. Up and Down share
    /// one item.
    pub fn footer(
        &self,
        contexts: &[Context],
        applies: impl Fn(Action) -> bool,
    ) -> Vec<(String, &'static str)> {
        let mut items: Vec<(String, &'static str)> = Vec::new();
        let mut seen: Vec<Action> = Vec::new();
        for context in contexts {
            for b in BINDINGS {
                let Some((_, word)) = b.contexts.iter().find(|(c, _)| c == context) else {
                    continue;
                };
                if word.is_empty() || seen.contains(&b.action) || !applies(b.action) {
                    continue;
                }
                seen.push(b.action);
                if b.action == Action::Down && seen.contains(&Action::Up) {
                    continue;
                }
                // The footer is short: the first key only; help lists all.
                let keys = if b.action == Action::Up {
                    self.pair(Action::Up, Action::Down)
                } else {
                    self.keys(b.action)
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                };
                items.push((keys, word));
            }
        }
        items
    }

    /// Up and Down's keys side by side, as people say them: `↑↓/jk`
    /// (arrows up first, vim's keys in keyboard order).
    fn pair(&self, up: Action, down: Action) -> String {
        let (up, down) = (self.keys(up), self.keys(down));
        let pairs: Vec<String> = up
            .iter()
            .zip(down)
            .map(|(u, d)| match (u.code, d.code) {
                (KeyCode::Char(_), KeyCode::Char(_)) => format!("{d}{u}"),
                _ => format!("{u}{d}"),
            })
            .collect();
        if pairs.is_empty() || up.len() != down.len() {
            return format!("{}/{}", self.label_of(up), self.label_of(down));
        }
        pairs.join("/")
    }

    fn label_of(&self, keys: &[KeyCombo]) -> String {
        keys.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The help overlay's lines for `contexts`: keys and sentence, one line
    /// per sentence.
    pub fn help(&self, contexts: &[Context]) -> Vec<(String, &'static str)> {
        let mut lines: Vec<(String, &'static str)> = Vec::new();
        for context in contexts {
            for b in BINDINGS {
                if !b.contexts.iter().any(|(c, _)| c == context) {
                    continue;
                }
                let keys = self
                    .keys(b.action)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ");
                match lines.iter_mut().find(|(_, help)| *help == b.help) {
                    Some((shown, _)) if !shown.split("  ").any(|k| k == keys) => {
                        shown.push_str("  ");
                        shown.push_str(&keys);
                    }
                    Some(_) => {}
                    None => lines.push((keys, b.help)),
                }
            }
        }
        lines
    }

    /// The palette's commands that perform a bound action.
    pub fn commands() -> impl Iterator<Item = (&'static str, Action)> {
        BINDINGS
            .iter()
            .filter_map(|b| b.command.map(|c| (c, b.action)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn every_action_has_one_row_and_its_defaults_parse_without_clashing() {
        for (action, name) in Action::ALL {
            assert_eq!(
                BINDINGS.iter().filter(|b| b.action == action).count(),
                1,
                "{name}"
            );
            assert_eq!(Action::from_name(name), Some(action));
        }
        for b in BINDINGS {
            for k in b.keys {
                KeyCombo::parse(k).unwrap();
            }
        }
        assert_eq!(KeyMap::default().clash(), None);
    }

    #[test]
    fn key_names_parse_and_print_back() {
        for (text, code, modifiers, shown) in [
            ("q", KeyCode::Char('q'), KeyModifiers::NONE, "q"),
            ("G", KeyCode::Char('G'), KeyModifiers::NONE, "G"),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE, "-"),
            ("Space", KeyCode::Char(' '), KeyModifiers::NONE, "Space"),
            ("pgdn", KeyCode::PageDown, KeyModifiers::NONE, "PgDn"),
            ("F5", KeyCode::F(5), KeyModifiers::NONE, "F5"),
            (
                "Ctrl-r",
                KeyCode::Char('r'),
                KeyModifiers::CONTROL,
                "Ctrl-r",
            ),
            (
                "ctrl--",
                KeyCode::Char('-'),
                KeyModifiers::CONTROL,
                "Ctrl--",
            ),
            ("Up", KeyCode::Up, KeyModifiers::NONE, "↑"),
        ] {
            let combo = KeyCombo::parse(text).unwrap();
            assert_eq!((combo.code, combo.modifiers), (code, modifiers), "{text}");
            assert_eq!(combo.to_string(), shown);
        }
        for bad in ["", "qq", "Hyper-q", "F13", "Ctrl-", "Entr", "\t"] {
            let error = KeyCombo::parse(bad).unwrap_err();
            assert!(error.0.contains("is not a key"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_key_means_what_its_context_binds() {
        let map = KeyMap::default();
        let r = key(KeyCode::Char('r'));
        assert_eq!(
            map.action_for(&r, &[Context::Run, Context::Global]),
            Some(Action::Retry)
        );
        assert_eq!(
            map.action_for(&r, &[Context::Dashboard, Context::Global]),
            None
        );
        assert_eq!(
            map.action_for(
                &key(KeyCode::Char('c')),
                &[Context::Dashboard, Context::Global]
            ),
            None
        );
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            map.action_for(&shifted, &[Context::Dashboard]),
            Some(Action::Last)
        );
    }

    #[test]
    fn overrides_replace_the_defaults_and_bad_ones_say_where() {
        let parse = |toml_text: &str| {
            let table: BTreeMap<Action, KeyList> = toml::from_str(toml_text).unwrap();
            KeyMap::with_overrides(&table)
        };
        let map = parse("quit = \"x\"\nconfirm = [\"Enter\", \"Ctrl-y\"]").unwrap();
        assert!(map.is(Action::Quit, &key(KeyCode::Char('x'))));
        assert!(!map.is(Action::Quit, &key(KeyCode::Char('q'))));
        assert_eq!(map.label(Action::Confirm), "Enter/Ctrl-y");

        let bad = parse("confirm = [\"c\", \"Entr\"]").unwrap_err();
        assert_eq!((bad.action, bad.index), ("confirm", Some(1)));
        assert!(
            bad.message.contains("`Entr` is not a key"),
            "{}",
            bad.message
        );
        let clash = parse("outage = \"j\"").unwrap_err();
        assert_eq!(clash.action, "outage");
        assert!(clash.message.contains("bound to both"), "{}", clash.message);
        let hides_quit = parse("confirm = \"q\"").unwrap_err();
        assert!(
            hides_quit.message.contains("confirm and quit")
                || hides_quit.message.contains("quit and confirm"),
            "{}",
            hides_quit.message
        );
        let empty = parse("quit = []").unwrap_err();
        assert!(empty.message.contains("at least one key"));
    }

    #[test]
    fn the_footer_offers_only_what_applies_and_follows_overrides() {
        let map = KeyMap::default();
        let run = [Context::Run, Context::Global];
        let items = map.footer(&run, |a| a != Action::Confirm && a != Action::Retry);
        let words: Vec<&str> = items.iter().map(|(_, w)| *w).collect();
        assert!(!words.contains(&"confirm") && !words.contains(&"retry"));
        assert!(words.contains(&"skip") && words.contains(&"quit"));
        let dash = map.footer(&[Context::Dashboard, Context::Global], |_| true);
        assert_eq!(dash[0], ("↑↓/jk".to_string(), "move"));

        let table: BTreeMap<Action, KeyList> = toml::from_str("outage = \"F2\"").unwrap();
        let map = KeyMap::with_overrides(&table).unwrap();
        let dash = map.footer(&[Context::Dashboard], |_| true);
        assert!(dash.contains(&("F2".to_string(), "outage")));
        let help = map.help(&[Context::Dashboard]);
        assert!(help.iter().any(|(k, h)| k == "F2" && h.contains("outage")));
    }

    #[test]
    fn the_readme_names_every_action_for_keys_overrides() {
        let readme = include_str!("../../README.md");
        for (_, name) in Action::ALL {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README lacks `{name}`"
            );
        }
    }
}
