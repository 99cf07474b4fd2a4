//! One service's history as the monitor saw it: since when its availability
//! holds, its verdicts with hysteresis, and its incident.
//!
//! An incident opens when the service leaves `UP` (or when an operator
//! declares one, with who and why) and closes when it is back `UP`. Pure:
//! the monitor feeds it one observation per poll.

use chrono::{DateTime, Duration as ChronoDuration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::availability::{Availability, Rank};
use super::verdict::{Held, Verdict};

/// An incident start further back than this is refused: an outage that
/// old is not one this console's history can speak to.
pub const MAX_DECLARED_AGE: ChronoDuration = ChronoDuration::days(7);

/// How a time was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// A poll saw the change happen (it happened at most a poll earlier).
    Transition,
    /// The state was already so at the first observation: it began then
    /// or earlier, so durations counted from it are lower bounds.
    FirstObservation,
    /// An operator said so.
    Declared,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declaration {
    pub who: String,
    pub why: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub start: DateTime<Utc>,
    pub start_basis: Basis,
    pub declared: Option<Declaration>,
    pub end: Option<DateTime<Utc>>,
    /// The service was seen not `UP` during it: a declared incident on a
    /// service every check calls up stays open until its outage is seen
    /// to end, instead of closing at the next poll.
    #[serde(skip)]
    seen_not_up: bool,
}

/// Times in refusals, to the second as an operator reads them.
const SHOWN: &str = "%Y-%m-%d %H:%M:%SZ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclareError {
    #[error(
        "the incident start {} is in the future (now {})",
        .start.format(SHOWN),
        .now.format(SHOWN)
    )]
    InFuture {
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error(
        "the incident start {} is more than 7 days before now ({})",
        .start.format(SHOWN),
        .now.format(SHOWN)
    )]
    TooOld {
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("declaring an incident needs {0}")]
    Missing(&'static str),
    #[error("no service `{0}` in this environment")]
    UnknownService(String),
}

/// When the outage a run answers began and how that is known, as the
/// run carries and journals it: its RTO clock counts from here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentStart {
    pub start: DateTime<Utc>,
    pub basis: Basis,
    /// Who declared it, for a declared start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl IncidentStart {
    /// The start of an incident the monitor holds open.
    pub fn of(incident: &Incident) -> IncidentStart {
        IncidentStart {
            start: incident.start,
            basis: incident.start_basis,
            declared_by: incident.declared.as_ref().map(|d| d.who.clone()),
            reason: incident.declared.as_ref().map(|d| d.why.clone()),
        }
    }

    /// An operator's word for when the outage began, checked as
    /// [`ServiceHistory::declare`] checks it.
    pub fn declared(
        start: DateTime<Utc>,
        who: &str,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentStart, DeclareError> {
        check_declaration(start, who, why, now)?;
        Ok(IncidentStart {
            start,
            basis: Basis::Declared,
            declared_by: Some(who.trim().to_string()),
            reason: Some(why.trim().to_string()),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a time: expected RFC 3339 (2026-11-26T14:05:00Z), HH:MM (UTC, today) or a time ago such as -15m"
)]
pub struct BadStartTime(pub String);

/// Reads an incident start as an operator types it: RFC 3339, `HH:MM`
/// (UTC, today) or `-15m` (that long before `now`). Whether the time is
/// acceptable is [`IncidentStart::declared`]'s business.
pub fn parse_start(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, BadStartTime> {
    let text = text.trim();
    let bad = || BadStartTime(text.to_string());
    if let Some(ago) = text.strip_prefix('-') {
        let ago = humantime::parse_duration(ago.trim()).map_err(|_| bad())?;
        let ago = ChronoDuration::from_std(ago).map_err(|_| bad())?;
        return now.checked_sub_signed(ago).ok_or_else(bad);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| bad())?;
    Ok(now.date_naive().and_time(time).and_utc())
}

fn check_declaration(
    start: DateTime<Utc>,
    who: &str,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), DeclareError> {
    if who.trim().is_empty() {
        return Err(DeclareError::Missing("who declares it"));
    }
    if why.trim().is_empty() {
        return Err(DeclareError::Missing("a reason"));
    }
    if start > now {
        return Err(DeclareError::InFuture { start, now });
    }
    if start < now - MAX_DECLARED_AGE {
        return Err(DeclareError::TooOld { start, now });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceHistory {
    availability: Option<Held<Rank>>,
    since: Option<(DateTime<Utc>, Basis)>,
    rpo: Option<Held<Verdict>>,
    incident: Option<Incident>,
    last_closed: Option<Incident>,
}

impl ServiceHistory {
    /// Takes one poll's availability and RPO verdict. An `Unknown`
    /// availability (nothing observed) changes nothing: the last known
    /// state and any open incident hold.
    pub fn observe(&mut self, availability: Availability, rpo: Verdict, at: DateTime<Utc>) {
        self.observe_poll(availability, rpo, at, false);
    }

    /// Like [`ServiceHistory::observe`], for a poll in which some of the
    /// service's data is stale (a source failed): worse news still counts,
    /// but nothing improves, so a failed poll never closes an incident.
    pub fn observe_stale(&mut self, availability: Availability, rpo: Verdict, at: DateTime<Utc>) {
        self.observe_poll(availability, rpo, at, true);
    }

    fn observe_poll(
        &mut self,
        availability: Availability,
        rpo: Verdict,
        at: DateTime<Utc>,
        stale: bool,
    ) {
        match &mut self.rpo {
            Some(held) if stale && rpo < held.shown() => {}
            Some(held) => {
                held.observe(rpo, at);
            }
            None => self.rpo = Some(Held::new(rpo)),
        }
        let Some(rank) = availability.rank() else {
            return;
        };
        if stale
            && self
                .availability
                .as_ref()
                .is_some_and(|held| rank < held.shown())
        {
            return;
        }
        let (changed_at, basis) = match &mut self.availability {
            None => {
                self.availability = Some(Held::new(rank));
                self.since = Some((at, Basis::FirstObservation));
                (Some(at), Basis::FirstObservation)
            }
            Some(held) => (held.observe(rank, at), Basis::Transition),
        };
        if let Some(t) = changed_at {
            self.since = Some((t, basis));
        }
        let Some(shown) = self.availability() else {
            return;
        };
        let up = shown.0 == Availability::Up;
        match &mut self.incident {
            Some(incident) if !up => incident.seen_not_up = true,
            Some(incident) if incident.seen_not_up => {
                incident.end = Some(changed_at.unwrap_or(at));
                self.last_closed = self.incident.take();
            }
            Some(_) => {}
            None if !up => {
                self.incident = Some(Incident {
                    start: shown.1,
                    start_basis: shown.2,
                    declared: None,
                    end: None,
                    seen_not_up: true,
                });
            }
            None => {}
        }
    }

    /// The availability shown, since when and how that time was learnt.
    pub fn availability(&self) -> Option<(Availability, DateTime<Utc>, Basis)> {
        let held = self.availability.as_ref()?;
        let (since, basis) = self.since?;
        Some((Availability::from_rank(held.shown()), since, basis))
    }

    /// A better availability waiting out its hysteresis, and polls held.
    pub fn pending_availability(&self) -> Option<(Availability, u32)> {
        self.availability
            .as_ref()?
            .pending()
            .map(|(r, n)| (Availability::from_rank(r), n))
    }

    pub fn rpo(&self) -> Option<&Held<Verdict>> {
        self.rpo.as_ref()
    }

    /// The open incident.
    pub fn incident(&self) -> Option<&Incident> {
        self.incident.as_ref()
    }

    /// The incident that closed last.
    pub fn last_closed(&self) -> Option<&Incident> {
        self.last_closed.as_ref()
    }

    /// An operator declares an incident that began at `start`: it opens
    /// one, or moves an open one's start earlier; either way who and why
    /// are kept.
    pub fn declare(
        &mut self,
        start: DateTime<Utc>,
        who: &str,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<&Incident, DeclareError> {
        check_declaration(start, who, why, now)?;
        let declaration = Declaration {
            who: who.trim().to_string(),
            why: why.trim().to_string(),
            at: now,
        };
        let not_up = self
            .availability()
            .is_some_and(|(a, _, _)| a != Availability::Up);
        let incident = self.incident.get_or_insert(Incident {
            start,
            start_basis: Basis::Declared,
            declared: None,
            end: None,
            seen_not_up: not_up,
        });
        if start <= incident.start {
            incident.start = start;
            incident.start_basis = Basis::Declared;
        }
        incident.declared = Some(declaration);
        Ok(incident)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn feed(h: &mut ServiceHistory, states: &[Availability], from: i64) {
        for (i, s) in states.iter().enumerate() {
            h.observe(*s, Verdict::Ok, at(from + i as i64));
        }
    }

    use Availability::{Degraded, Down, Unknown, Up};

    #[test]
    fn leaving_up_opens_an_incident_at_that_poll_and_coming_back_closes_it() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up, Up, Down, Down, Degraded], 0);
        let incident = h.incident().expect("open");
        assert_eq!(incident.start, at(2));
        assert_eq!(incident.start_basis, Basis::Transition);
        assert_eq!(
            h.availability().unwrap().0,
            Down,
            "better news waits a poll"
        );
        feed(&mut h, &[Degraded, Up], 5);
        assert_eq!(
            h.availability().unwrap(),
            (Degraded, at(4), Basis::Transition)
        );
        assert!(h.incident().is_some(), "one UP poll is not recovery");
        feed(&mut h, &[Up], 7);
        assert!(h.incident().is_none());
        let closed = h.last_closed().unwrap();
        assert_eq!((closed.start, closed.end), (at(2), Some(at(6))));
        assert_eq!(h.availability().unwrap(), (Up, at(6), Basis::Transition));
    }

    #[test]
    fn down_at_the_first_poll_counts_from_it_as_a_lower_bound() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Down], 10);
        let incident = h.incident().unwrap();
        assert_eq!(incident.start, at(10));
        assert_eq!(incident.start_basis, Basis::FirstObservation);
    }

    #[test]
    fn unknown_polls_keep_the_incident_open() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up, Down, Unknown, Unknown, Unknown], 0);
        assert_eq!(h.incident().unwrap().start, at(1));
        assert_eq!(h.availability().unwrap().0, Down);
    }

    #[test]
    fn stale_polls_worsen_but_never_improve() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up, Down], 0);
        for t in 2..6 {
            h.observe_stale(Up, Verdict::Ok, at(t));
        }
        assert_eq!(h.availability().unwrap().0, Down);
        assert!(h.incident().is_some());
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up], 0);
        h.observe_stale(Down, Verdict::Ok, at(1));
        assert_eq!(h.incident().unwrap().start, at(1));
    }

    #[test]
    fn a_flapping_check_does_not_open_and_close_incidents() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up, Down, Up, Down, Up, Down, Up, Up], 0);
        assert!(h.incident().is_none());
        assert_eq!(
            h.last_closed().unwrap().start,
            at(1),
            "one incident, not three"
        );
    }

    #[test]
    fn a_declared_start_moves_an_open_incident_earlier_and_keeps_who_and_why() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up, Down], 100);
        let i = h
            .declare(at(40), "alice@host", "customers reported errors", at(102))
            .unwrap();
        assert_eq!((i.start, i.start_basis), (at(40), Basis::Declared));
        assert_eq!(i.declared.as_ref().unwrap().who, "alice@host");
        let i = h.declare(at(90), "bob", "later guess", at(103)).unwrap();
        assert_eq!(i.start, at(40), "a later start does not shorten the clock");
    }

    #[test]
    fn a_declared_incident_on_an_up_service_waits_for_its_outage_to_end() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up], 0);
        h.declare(at(0), "alice", "users cannot pay", at(1))
            .unwrap();
        feed(&mut h, &[Up, Up, Up], 1);
        assert!(h.incident().is_some());
        feed(&mut h, &[Down, Up, Up], 4);
        assert!(h.incident().is_none());
    }

    #[test]
    fn bad_declarations_are_refused_and_change_nothing() {
        let mut h = ServiceHistory::default();
        feed(&mut h, &[Up], 0);
        assert!(matches!(
            h.declare(at(60), "a", "b", at(1)),
            Err(DeclareError::InFuture { .. })
        ));
        assert!(matches!(
            h.declare(at(1) - ChronoDuration::days(8), "a", "b", at(1)),
            Err(DeclareError::TooOld { .. })
        ));
        assert_eq!(
            h.declare(at(0), "a", "  ", at(1)),
            Err(DeclareError::Missing("a reason"))
        );
        assert_eq!(
            h.declare(at(0), "", "b", at(1)),
            Err(DeclareError::Missing("who declares it"))
        );
        assert!(h.incident().is_none());
    }

    #[test]
    fn incident_times_read_as_operators_type_them() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T14:30:20Z")
            .unwrap()
            .with_timezone(&Utc);
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(parse_start("-10m", now), Ok(utc("2026-11-26T14:20:20Z")));
        assert_eq!(
            parse_start(" - 1h 5m ", now),
            Ok(utc("2026-11-26T13:25:20Z"))
        );
        assert_eq!(parse_start("14:05", now), Ok(utc("2026-11-26T14:05:00Z")));
        assert_eq!(
            parse_start("2026-11-26T15:05:00+01:00", now),
            Ok(utc("2026-11-26T14:05:00Z"))
        );
        for bad in [
            "",
            "soon",
            "25:00",
            "14:5x",
            "-",
            "-10 parsecs",
            "-99999999999999d",
        ] {
            assert_eq!(
                parse_start(bad, now),
                Err(BadStartTime(bad.trim().to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_declared_run_start_is_checked_like_a_declaration() {
        let now = at(100);
        let ok = IncidentStart::declared(at(40), " ann ", " users see 500s ", now).unwrap();
        assert_eq!(ok.basis, Basis::Declared);
        assert_eq!(ok.declared_by.as_deref(), Some("ann"));
        assert_eq!(ok.reason.as_deref(), Some("users see 500s"));
        assert_eq!(
            IncidentStart::declared(at(101), "ann", "why", now)
                .unwrap_err()
                .to_string(),
            "the incident start 2023-11-14 22:15:01Z is in the future (now 2023-11-14 22:15:00Z)"
        );
        assert!(matches!(
            IncidentStart::declared(
                now - ChronoDuration::days(7) - ChronoDuration::seconds(1),
                "ann",
                "why",
                now
            ),
            Err(DeclareError::TooOld { .. })
        ));
        assert_eq!(
            IncidentStart::declared(at(40), "ann", "", now),
            Err(DeclareError::Missing("a reason"))
        );
    }
}
