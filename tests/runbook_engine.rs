//! The runbook engine driven directly: no terminal, no provider, no clock.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use drconsole::domain::action::{Action, ChangeStatus, Receipt};
use drconsole::domain::incident::{Basis, IncidentStart};
use drconsole::domain::snapshot::{ErrorKind, Snapshot, SourceError};
use drconsole::runbook::engine::{Command, Engine, Event, Prompt, PromptId, Refusal, ResumeError};
use drconsole::runbook::format::Runbook;
use drconsole::runbook::http::HttpResponse;
use drconsole::runbook::journal::{Entry, Record, RecoveredRun, RunMeta, RunOutcome, StepState};
use drconsole::runbook::vars::Variables;
use support::runbook::{orders, runbook, world};

/// The step the run is on, which a skip must name.
fn current(engine: &Engine) -> String {
    let view = engine.view();
    view.steps[view.current.expect("a step is current")]
        .id
        .clone()
}

/// The prompt open now, which an answer must name.
fn at(engine: &Engine) -> PromptId {
    engine.prompt().expect("a prompt is open").id()
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

fn meta() -> RunMeta {
    RunMeta {
        run_id: "r1".into(),
        runbook: "test runbook".into(),
        file: PathBuf::from("test.yaml"),
        service: "orders".into(),
        operator: "alice".into(),
        session: "s1".into(),
        host: "laptop".into(),
        incident: None,
    }
}

fn vars() -> Variables {
    [("dr", "us-west-2"), ("app", "http://app")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn start(rb: Runbook) -> (Engine, Vec<Command>) {
    Engine::start(rb, orders(), false, meta(), vars(), t(0))
}

fn entries(cmds: &[Command]) -> Vec<&Entry> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Journal(r) => Some(&r.entry),
            _ => None,
        })
        .collect()
}

fn records(cmds: &[Command]) -> Vec<Record> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Journal(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// Answers the fresh observation an action step asks for before its
/// confirmation; `writer_moves` are the journaled earlier moves.
fn assessed(
    engine: &mut Engine,
    step: &str,
    snapshot: Snapshot,
    writer_moves: Vec<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Vec<Command> {
    engine
        .handle(
            Event::Assessed {
                step: step.into(),
                snapshot,
                observed_at: at,
                writer_moves,
            },
            at,
        )
        .unwrap()
}

fn states(engine: &Engine) -> Vec<String> {
    engine
        .view()
        .steps
        .iter()
        .map(|s| s.run.state.label().to_string())
        .collect()
}

const FAILOVER: &str = r#"  - id: down
    title: Primary is down
    check:
      - region_health: { region: us-east-1, is: unhealthy }
  - id: failover
    title: Fail over
    expect_within: 2m
    action:
      type: failover-global-cluster
      region: ${dr}
      global_cluster: orders-global
      target_cluster: orders-secondary
      allow_data_loss: true
    confirm: typed
  - id: writable
    title: Writable
    wait:
      until:
        - cluster_role: { cluster: orders-secondary, is: writer }
      timeout: 5m
      poll: 10s
  - id: login
    title: Login
    http:
      method: POST
      url: ${app}/auth/login
      capture: { token: /token }
  - id: write
    title: Write
    http:
      method: POST
      url: ${app}/api/test/write
      headers: { Authorization: "Bearer ${token}" }
  - id: rto
    title: RTO
    notify: recovered in ${run_elapsed}
"#;

#[test]
fn a_failover_runs_from_check_to_notify() {
    let (mut engine, cmds) = start(runbook(FAILOVER));
    assert!(matches!(entries(&cmds)[0], Entry::RunStarted { .. }));
    assert_eq!(
        cmds.last(),
        Some(&Command::Observe {
            step: "down".into(),
            after: Duration::ZERO,
            change_id: None
        })
    );

    let cmds = engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(5),
        )
        .unwrap();
    // Nothing is asked before a fresh look at the facts that matter.
    assert_eq!(states(&engine)[..2], ["done", "running"]);
    assert!(engine.prompt().is_none());
    assert_eq!(
        cmds.last(),
        Some(&Command::Assess {
            step: "failover".into(),
            global_cluster: Some("orders-global".into())
        })
    );
    let cmds = assessed(&mut engine, "failover", world(false, false), vec![], t(6));
    assert_eq!(states(&engine)[..2], ["done", "awaiting confirmation"]);
    assert!(!cmds.iter().any(|c| matches!(c, Command::Execute { .. })));
    let Some(Prompt::ConfirmAction {
        call,
        target,
        typed,
        assessment,
        ..
    }) = engine.prompt()
    else {
        panic!("{:?}", engine.prompt())
    };
    assert_eq!(call.operation, "FailoverGlobalCluster");
    assert_eq!(call.region, "us-west-2", "parameters are substituted");
    assert_eq!(
        call.params["TargetDbClusterIdentifier"],
        "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary",
        "the target is sent as the member's ARN"
    );
    assert_eq!((target.as_str(), typed), ("orders-global", true));
    assert!(!assessment.blocked(), "{assessment:?}");
    assert_eq!(assessment.facts[0].subject, "us-east-1 (writer region)");

    let cmds = engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(20),
        )
        .unwrap();
    // The intent is journaled before the call is made.
    let intent = cmds
        .iter()
        .position(|c| {
            matches!(
                c,
                Command::Journal(Record {
                    entry: Entry::Intent { .. },
                    ..
                })
            )
        })
        .unwrap();
    let execute = cmds
        .iter()
        .position(|c| matches!(c, Command::Execute { .. }))
        .unwrap();
    assert!(intent < execute);
    assert_eq!(states(&engine)[1], "running");

    let cmds = engine
        .handle(
            Event::ActionAccepted {
                step: "failover".into(),
                receipt: Receipt {
                    summary: "failover started".into(),
                    ..Receipt::default()
                },
            },
            t(30),
        )
        .unwrap();
    assert_eq!(states(&engine)[2], "waiting");
    assert!(matches!(cmds.last(), Some(Command::Observe { after, .. }) if after.is_zero()));

    // Not yet writable: poll again after the poll interval.
    let cmds = engine
        .handle(
            Event::Observed {
                step: "writable".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(31),
        )
        .unwrap();
    assert!(
        matches!(cmds.last(), Some(Command::Observe { after, .. }) if *after == Duration::from_secs(10))
    );
    let cmds = engine
        .handle(
            Event::Observed {
                step: "writable".into(),
                snapshot: world(false, true),
                change: None,
            },
            t(90),
        )
        .unwrap();
    let Some(Command::Http { spec, .. }) = cmds.last() else {
        panic!("{cmds:?}")
    };
    assert_eq!(spec.url, "http://app/auth/login");

    let cmds = engine
        .handle(
            Event::HttpDone {
                step: "login".into(),
                result: Ok(HttpResponse {
                    status: 200,
                    body: r#"{"token":"t0k"}"#.into(),
                }),
            },
            t(95),
        )
        .unwrap();
    let Some(Command::Http { spec, .. }) = cmds.last() else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        spec.headers["Authorization"], "Bearer t0k",
        "captured token is used"
    );

    let cmds = engine
        .handle(
            Event::HttpDone {
                step: "write".into(),
                result: Ok(HttpResponse {
                    status: 201,
                    body: String::new(),
                }),
            },
            t(125),
        )
        .unwrap();
    let notified = entries(&cmds).into_iter().find_map(|e| match e {
        Entry::Notified { message, .. } => Some(message.clone()),
        _ => None,
    });
    assert_eq!(notified.as_deref(), Some("recovered in 2m05s"));
    let done = RunOutcome::Completed {
        elapsed: Duration::from_secs(125),
    };
    assert_eq!(cmds.last(), Some(&Command::Finished(done.clone())));
    assert_eq!(engine.outcome(), Some(&done));
    assert!(states(&engine).iter().all(|s| s == "done"));

    let view = engine.view();
    assert_eq!(view.steps[2].timeout, Some(Duration::from_secs(300)));
    assert_eq!(view.steps[1].timeout, None);
    let failover = &view.steps[1];
    assert_eq!(failover.elapsed(t(999)), Some(Duration::from_secs(25)));
    assert!(!failover.over_budget(t(999)));
    assert_eq!(view.rto_elapsed(t(999)), Duration::from_secs(125));
    assert_eq!(
        engine.handle(
            Event::Retry {
                to: PromptId {
                    step: "rto".into(),
                    seq: 99,
                },
            },
            t(200)
        ),
        Err(Refusal::Ended),
        "a finished run takes no more input"
    );
}

fn at_failover() -> Engine {
    let (mut engine, _) = start(runbook(FAILOVER));
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    assessed(&mut engine, "failover", world(false, false), vec![], t(1));
    engine
}

#[test]
fn typed_confirmation_must_match_and_declining_fails_the_step() {
    let mut engine = at_failover();
    for wrong in [None, Some("orders"), Some("")] {
        let r = engine.handle(
            Event::Confirm {
                to: at(&engine),
                typed: wrong.map(String::from),
            },
            t(2),
        );
        assert_eq!(
            r,
            Err(Refusal::TypedMismatch {
                expected: "orders-global".into()
            })
        );
    }
    assert_eq!(states(&engine)[1], "awaiting confirmation");
    assert_eq!(
        engine
            .handle(Event::Tick { to: at(&engine) }, t(2))
            .unwrap_err()
            .to_string(),
        "cannot tick now: step `failover` is awaiting confirmation"
    );

    let cmds = engine
        .handle(Event::Decline { to: at(&engine) }, t(3))
        .unwrap();
    assert!(matches!(entries(&cmds)[0], Entry::Declined { .. }));
    assert!(matches!(
        engine.prompt(),
        Some(Prompt::Failed { ref error, .. }) if error == "declined by the operator"
    ));
    engine
        .handle(Event::Retry { to: at(&engine) }, t(4))
        .unwrap();
    assessed(&mut engine, "failover", world(false, false), vec![], t(4));
    assert!(matches!(
        engine.prompt(),
        Some(Prompt::ConfirmAction { .. })
    ));
    let cmds = engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some(" orders-global ".into()),
            },
            t(5),
        )
        .unwrap();
    assert!(matches!(cmds.last(), Some(Command::Execute { .. })));
}

#[test]
fn a_failed_check_explains_itself_and_a_skip_needs_a_reason() {
    let (mut engine, _) = start(runbook(FAILOVER));
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(true, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!()
    };
    assert_eq!(
        error,
        "expected region us-east-1 is unhealthy, observed region us-east-1 is healthy"
    );
    assert_eq!(
        engine.handle(
            Event::Skip {
                step: "down".into(),
                reason: "  ".into()
            },
            t(2)
        ),
        Err(Refusal::ReasonRequired)
    );
    let cmds = engine
        .handle(
            Event::Skip {
                step: "down".into(),
                reason: "checks are flapping; status page confirms outage".into(),
            },
            t(2),
        )
        .unwrap();
    assert_eq!(
        entries(&cmds)[..2],
        [
            &Entry::Skipped {
                step: "down".into(),
                operator: "alice".into(),
                reason: "checks are flapping; status page confirms outage".into()
            },
            &Entry::Step {
                step: "down".into(),
                state: StepState::Skipped {
                    reason: "checks are flapping; status page confirms outage".into()
                }
            }
        ]
    );
    assert_eq!(states(&engine)[..2], ["skipped", "running"]);
}

fn at_wait() -> Engine {
    let mut engine = at_failover();
    engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(2),
        )
        .unwrap();
    engine
        .handle(
            Event::ActionAccepted {
                step: "failover".into(),
                receipt: Receipt::default(),
            },
            t(10),
        )
        .unwrap();
    engine
}

#[test]
fn a_wait_times_out_by_observation_or_by_time_alone() {
    let mut engine = at_wait();
    let not_yet = || Event::Observed {
        step: "writable".into(),
        snapshot: world(false, false),
        change: None,
    };
    engine.handle(not_yet(), t(100)).unwrap();
    assert_eq!(states(&engine)[2], "waiting");
    engine.handle(Event::TimePassed, t(309)).unwrap();
    assert_eq!(states(&engine)[2], "waiting");
    engine.handle(Event::TimePassed, t(310)).unwrap();
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!()
    };
    assert_eq!(
        error,
        "timed out after 5m: last observed cluster orders-secondary is secondary"
    );

    let mut engine = at_wait();
    engine.handle(not_yet(), t(400)).unwrap();
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!()
    };
    assert!(
        error.starts_with("timed out after 5m: expected cluster orders-secondary is writer"),
        "{error}"
    );
    // Retry starts a fresh wait with a fresh deadline.
    let cmds = engine
        .handle(Event::Retry { to: at(&engine) }, t(401))
        .unwrap();
    assert!(matches!(cmds.last(), Some(Command::Observe { .. })));
    assert_eq!(states(&engine)[2], "waiting");
    assert_eq!(engine.view().steps[2].run.attempts, 2);
}

#[test]
fn answers_for_a_step_the_run_has_left_are_ignored() {
    let mut engine = at_wait();
    let before = engine.view();
    let cmds = engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(true, false),
                change: None,
            },
            t(50),
        )
        .unwrap();
    assert!(cmds.is_empty());
    let cmds = engine
        .handle(
            Event::ActionAccepted {
                step: "failover".into(),
                receipt: Receipt::default(),
            },
            t(50),
        )
        .unwrap();
    assert!(cmds.is_empty());
    assert_eq!(engine.view(), before);
}

#[test]
fn an_answer_applies_only_to_the_prompt_it_was_given_at() {
    const TWO_ACTIONS: &str = r#"  - id: first
    title: Disable the first check
    action: { type: update-health-check, health_check_id: hc-orders-use1, disabled: true }
  - id: second
    title: Disable the second check
    action: { type: update-health-check, health_check_id: hc-orders-usw2, disabled: true }
"#;
    let (mut engine, _) = start(runbook(TWO_ACTIONS));
    assessed(&mut engine, "first", world(false, false), vec![], t(0));
    let first = at(&engine);
    assert_eq!(first.step, "first");
    engine
        .handle(
            Event::Confirm {
                to: first.clone(),
                typed: None,
            },
            t(1),
        )
        .unwrap();
    engine
        .handle(
            Event::ActionAccepted {
                step: "first".into(),
                receipt: Receipt::default(),
            },
            t(2),
        )
        .unwrap();
    assessed(&mut engine, "second", world(false, false), vec![], t(2));
    let before = engine.view();
    assert_eq!(at(&engine).step, "second");
    // The same `y` again, say typed twice: the second action is not confirmed.
    for late in [
        Event::Confirm {
            to: first.clone(),
            typed: None,
        },
        Event::Decline { to: first.clone() },
        Event::Retry { to: first.clone() },
        Event::Tick { to: first.clone() },
    ] {
        assert_eq!(
            engine.handle(late, t(3)),
            Err(Refusal::StalePrompt {
                step: "first".into()
            })
        );
    }
    assert_eq!(
        engine.handle(
            Event::Skip {
                step: "first".into(),
                reason: "done by hand".into()
            },
            t(3)
        ),
        Err(Refusal::NotCurrent {
            step: "first".into()
        })
    );
    assert_eq!(engine.view(), before, "nothing changed");
    assert_eq!(
        Refusal::StalePrompt {
            step: "first".into()
        }
        .to_string(),
        "not applied: the prompt of step `first` it answered is no longer open"
    );
}

#[test]
fn a_step_asked_again_is_a_new_prompt() {
    let mut engine = at_wait();
    let not_yet = Event::Observed {
        step: "writable".into(),
        snapshot: world(false, false),
        change: None,
    };
    engine.handle(not_yet.clone(), t(400)).unwrap();
    let first_failure = at(&engine);
    engine
        .handle(
            Event::Retry {
                to: first_failure.clone(),
            },
            t(401),
        )
        .unwrap();
    engine.handle(not_yet, t(800)).unwrap();
    let second_failure = at(&engine);
    assert_eq!(second_failure.step, first_failure.step);
    assert_ne!(second_failure, first_failure);
    assert_eq!(
        engine.handle(Event::Retry { to: first_failure }, t(801)),
        Err(Refusal::StalePrompt {
            step: "writable".into()
        }),
        "a retry typed at the first failure does not retry the second"
    );
    engine
        .handle(Event::Retry { to: second_failure }, t(802))
        .unwrap();
    assert_eq!(states(&engine)[2], "waiting");
}

#[test]
fn an_action_that_timed_out_is_verified_before_any_retry() {
    let mut engine = at_failover();
    engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(2),
        )
        .unwrap();
    assert!(
        matches!(
            engine.handle(
                Event::Abort {
                    reason: String::new()
                },
                t(3)
            ),
            Err(Refusal::NotNow { .. })
        ),
        "no abort while the call is in flight"
    );
    let cmds = engine
        .handle(
            Event::ActionFailed {
                step: "failover".into(),
                error: SourceError::new(ErrorKind::Timeout, "no answer in 30s"),
            },
            t(40),
        )
        .unwrap();
    assert!(matches!(
        entries(&cmds)[0],
        Entry::ActionFailed {
            outcome_unknown: true,
            ..
        }
    ));
    let cmds = engine
        .handle(Event::Retry { to: at(&engine) }, t(41))
        .unwrap();
    assert!(
        matches!(cmds.last(), Some(Command::Verify { .. })),
        "{cmds:?}"
    );
    assert!(!cmds.iter().any(|c| matches!(c, Command::Execute { .. })));
    engine
        .handle(
            Event::Verified {
                step: "failover".into(),
                applied: true,
            },
            t(42),
        )
        .unwrap();
    assert_eq!(states(&engine)[..3], ["done", "done", "waiting"]);
}

#[test]
fn a_rejected_action_is_retried_with_a_new_confirmation() {
    let mut engine = at_failover();
    engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(2),
        )
        .unwrap();
    engine
        .handle(
            Event::ActionFailed {
                step: "failover".into(),
                error: SourceError::new(ErrorKind::InvalidState, "cluster is not a secondary"),
            },
            t(3),
        )
        .unwrap();
    let cmds = engine
        .handle(Event::Retry { to: at(&engine) }, t(4))
        .unwrap();
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::Execute { .. } | Command::Verify { .. }))
    );
    assert!(matches!(cmds.last(), Some(Command::Assess { .. })));
    assessed(&mut engine, "failover", world(false, false), vec![], t(5));
    assert!(matches!(
        engine.prompt(),
        Some(Prompt::ConfirmAction { .. })
    ));
}

/// The journal of a run that died between the intent and the outcome.
fn crashed_at_failover() -> Vec<Record> {
    let (mut engine, mut cmds) = start(runbook(FAILOVER));
    cmds.extend(
        engine
            .handle(
                Event::Observed {
                    step: "down".into(),
                    snapshot: world(false, false),
                    change: None,
                },
                t(1),
            )
            .unwrap(),
    );
    cmds.extend(assessed(
        &mut engine,
        "failover",
        world(false, false),
        vec![],
        t(1),
    ));
    cmds.extend(
        engine
            .handle(
                Event::Confirm {
                    to: at(&engine),
                    typed: Some("orders-global".into()),
                },
                t(2),
            )
            .unwrap(),
    );
    records(&cmds)
}

fn resume(records: &[Record]) -> (Engine, Vec<Command>) {
    let run = RecoveredRun::from_records(&PathBuf::from("j.jsonl"), records).unwrap();
    assert_eq!(run.open_intents.len(), 1);
    Engine::resume(runbook(FAILOVER), orders(), false, &run, "bob", "s2", t(60)).unwrap()
}

#[test]
fn resume_verifies_an_open_intent_and_does_not_repeat_an_applied_action() {
    let (mut engine, cmds) = resume(&crashed_at_failover());
    assert!(matches!(entries(&cmds)[0], Entry::Resumed { .. }));
    let Some(Command::Verify { action, .. }) = cmds.last() else {
        panic!("{cmds:?}")
    };
    assert!(matches!(action, Action::FailoverGlobalCluster { .. }));
    assert_eq!(states(&engine)[..2], ["done", "verifying"]);
    assert!(engine.prompt().is_none());
    assert_eq!(
        engine.view().rto_elapsed(t(60)),
        Duration::from_secs(60),
        "the RTO clock keeps the original start"
    );
    let cmds = engine
        .handle(
            Event::Verified {
                step: "failover".into(),
                applied: true,
            },
            t(61),
        )
        .unwrap();
    assert!(!cmds.iter().any(|c| matches!(c, Command::Execute { .. })));
    assert_eq!(states(&engine)[..3], ["done", "done", "waiting"]);
}

#[test]
fn resume_asks_again_before_making_a_call_that_never_took_effect() {
    let (mut engine, _) = resume(&crashed_at_failover());
    engine
        .handle(
            Event::Verified {
                step: "failover".into(),
                applied: false,
            },
            t(61),
        )
        .unwrap();
    assert!(
        engine.prompt().is_none(),
        "the facts are looked at again first"
    );
    assessed(&mut engine, "failover", world(false, false), vec![], t(61));
    let Some(Prompt::ConfirmAction { note, .. }) = engine.prompt() else {
        panic!()
    };
    assert!(note.unwrap().contains("did not take effect"));
    let cmds = engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(62),
        )
        .unwrap();
    assert!(matches!(cmds.last(), Some(Command::Execute { .. })));
}

#[test]
fn resume_refuses_finished_runs_and_other_runbooks() {
    let mut records = crashed_at_failover();
    let path = PathBuf::from("j.jsonl");
    let run = RecoveredRun::from_records(&path, &records).unwrap();
    let other = runbook("  - id: x\n    title: X\n    notify: hi\n");
    let mut renamed = other.clone();
    renamed.name = "another".into();
    assert!(matches!(
        Engine::resume(renamed, orders(), false, &run, "b", "s", t(9)),
        Err(ResumeError::OtherRunbook { .. })
    ));
    assert!(matches!(
        Engine::resume(other, orders(), false, &run, "b", "s", t(9)),
        Err(ResumeError::UnknownStep(_))
    ));
    let changed = runbook(&FAILOVER.replace(
        "    action:\n      type: failover-global-cluster\n      region: ${dr}\n      global_cluster: orders-global\n      target_cluster: orders-secondary\n      allow_data_loss: true\n    confirm: typed\n",
        "    notify: no longer an action\n",
    ));
    assert!(matches!(
        Engine::resume(changed, orders(), false, &run, "b", "s", t(9)),
        Err(ResumeError::NotAnAction(step)) if step == "failover"
    ));
    records.push(Record {
        at: t(9),
        entry: Entry::Finished {
            outcome: RunOutcome::Aborted {
                reason: "x".into(),
                elapsed: Duration::from_secs(9),
            },
            elapsed_s: None,
            since_outage: None,
            since_outage_s: None,
        },
    });
    let run = RecoveredRun::from_records(&path, &records).unwrap();
    assert!(matches!(
        Engine::resume(runbook(FAILOVER), orders(), false, &run, "b", "s", t(9)),
        Err(ResumeError::Finished)
    ));
}

#[test]
fn a_read_only_session_never_asks_to_confirm_an_action() {
    let (mut engine, _) = Engine::start(runbook(FAILOVER), orders(), true, meta(), vars(), t(0));
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!()
    };
    assert!(error.contains("read-only"), "{error}");
    assert!(matches!(
        engine.handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into())
            },
            t(2)
        ),
        Err(Refusal::NotNow { .. })
    ));
}

#[test]
fn a_read_only_session_sends_only_requests_that_read() {
    let rb = runbook(
        "  - id: health
    title: Health
    http: { url: \"http://127.0.0.1:9/health\", expect: { status: 200 } }
  - id: write
    title: Write
    http: { method: POST, url: \"http://127.0.0.1:9/api/test/write\", expect: { status: 200 } }
",
    );
    let (mut engine, cmds) = Engine::start(rb, orders(), true, meta(), vars(), t(0));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Http { step, .. } if step == "health")),
        "a GET is sent: {cmds:?}"
    );
    let cmds = engine
        .handle(
            Event::HttpDone {
                step: "health".into(),
                result: Ok(HttpResponse {
                    status: 200,
                    body: String::new(),
                }),
            },
            t(1),
        )
        .unwrap();
    assert!(
        !cmds.iter().any(|c| matches!(c, Command::Http { .. })),
        "no POST is sent: {cmds:?}"
    );
    let Some(Prompt::Failed { step, error, .. }) = engine.prompt() else {
        panic!("the POST step fails instead")
    };
    assert_eq!(step, "write");
    assert!(error.contains("read-only"), "{error}");
}

const DNS: &str = "  - id: upsert
    title: Point DNS at DR
    action:
      type: upsert-record
      zone_id: Z0DEMO00000001
      name: api.example.com.
      record: { kind: cname, value: api.us-west-2.example.com, ttl: 60 }
  - id: insync
    title: Wait for INSYNC
    wait: { until: [dns_change_insync], timeout: 2m, poll: 5s }
  - id: ticked
    title: Tell the team
    manual: Post in ${dr}
";

/// A console killed while waiting for INSYNC: the resumed run still waits
/// on the change the journaled upsert started, instead of failing for want
/// of a change id.
#[test]
fn a_resumed_dns_wait_still_knows_its_change() {
    let (mut engine, mut cmds) = start(runbook(DNS));
    cmds.extend(assessed(
        &mut engine,
        "upsert",
        world(false, false),
        vec![],
        t(1),
    ));
    cmds.extend(
        engine
            .handle(
                Event::Confirm {
                    to: at(&engine),
                    typed: None,
                },
                t(1),
            )
            .unwrap(),
    );
    cmds.extend(
        engine
            .handle(
                Event::ActionAccepted {
                    step: "upsert".into(),
                    receipt: Receipt {
                        change_id: Some("C123".into()),
                        ..Receipt::default()
                    },
                },
                t(2),
            )
            .unwrap(),
    );
    let run = RecoveredRun::from_records(&PathBuf::from("j.jsonl"), &records(&cmds)).unwrap();
    assert_eq!(run.change_id.as_deref(), Some("C123"));
    let (_, resumed) =
        Engine::resume(runbook(DNS), orders(), false, &run, "bob", "s2", t(60)).unwrap();
    assert!(
        resumed.iter().any(|c| matches!(
            c,
            Command::Observe { step, change_id: Some(id), .. } if step == "insync" && id == "C123"
        )),
        "{resumed:?}"
    );
}

#[test]
fn waiting_for_dns_uses_the_change_id_of_the_upsert() {
    let (mut engine, _) = start(runbook(DNS));
    assessed(&mut engine, "upsert", world(false, false), vec![], t(1));
    engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: None,
            },
            t(1),
        )
        .unwrap();
    let cmds = engine
        .handle(
            Event::ActionAccepted {
                step: "upsert".into(),
                receipt: Receipt {
                    change_id: Some("C123".into()),
                    ..Receipt::default()
                },
            },
            t(2),
        )
        .unwrap();
    assert_eq!(
        cmds.last(),
        Some(&Command::Observe {
            step: "insync".into(),
            after: Duration::ZERO,
            change_id: Some("C123".into())
        })
    );
    engine
        .handle(
            Event::Observed {
                step: "insync".into(),
                snapshot: world(false, true),
                change: Some(ChangeStatus::Pending),
            },
            t(3),
        )
        .unwrap();
    assert_eq!(
        engine.view().steps[1].run.observed.as_deref(),
        Some("change C123 is PENDING")
    );
    engine
        .handle(
            Event::Observed {
                step: "insync".into(),
                snapshot: world(false, true),
                change: Some(ChangeStatus::Insync),
            },
            t(30),
        )
        .unwrap();
    let Some(Prompt::Tick { instructions, .. }) = engine.prompt() else {
        panic!()
    };
    assert_eq!(instructions, "Post in us-west-2");
    let cmds = engine
        .handle(Event::Tick { to: at(&engine) }, t(40))
        .unwrap();
    assert!(matches!(
        entries(&cmds)[0],
        Entry::Confirmed { typed: false, .. }
    ));
    assert!(matches!(
        cmds.last(),
        Some(Command::Finished(RunOutcome::Completed { .. }))
    ));
}

#[test]
fn a_dns_wait_with_no_change_id_fails_at_once_instead_of_waiting_out_its_timeout() {
    let records = {
        let (mut engine, mut cmds) = start(runbook(DNS));
        cmds.extend(assessed(
            &mut engine,
            "upsert",
            world(false, false),
            vec![],
            t(1),
        ));
        cmds.extend(
            engine
                .handle(
                    Event::Confirm {
                        to: at(&engine),
                        typed: None,
                    },
                    t(1),
                )
                .unwrap(),
        );
        records(&cmds)
    };
    let run = RecoveredRun::from_records(&PathBuf::from("j"), &records).unwrap();
    let (mut engine, _) =
        Engine::resume(runbook(DNS), orders(), false, &run, "b", "s", t(5)).unwrap();
    engine
        .handle(
            Event::Verified {
                step: "upsert".into(),
                applied: true,
            },
            t(6),
        )
        .unwrap();
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!()
    };
    assert!(error.contains("no Route 53 change id"), "{error}");
}

#[test]
fn abort_ends_the_run_with_its_reason_and_elapsed_time() {
    let mut engine = at_failover();
    let cmds = engine
        .handle(
            Event::Abort {
                reason: "primary came back".into(),
            },
            t(90),
        )
        .unwrap();
    let outcome = RunOutcome::Aborted {
        reason: "primary came back".into(),
        elapsed: Duration::from_secs(90),
    };
    assert_eq!(cmds.last(), Some(&Command::Finished(outcome.clone())));
    assert_eq!(engine.view().outcome, Some(outcome));
    assert!(engine.prompt().is_none());
}

#[test]
fn steps_over_their_budget_are_flagged() {
    let mut engine = at_failover();
    let view = engine.view();
    assert!(!view.steps[1].over_budget(t(100)));
    assert!(view.steps[1].over_budget(t(122)));
    engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(2),
        )
        .unwrap();
    engine
        .handle(
            Event::ActionAccepted {
                step: "failover".into(),
                receipt: Receipt::default(),
            },
            t(50),
        )
        .unwrap();
    let view = engine.view();
    assert_eq!(view.steps[1].elapsed(t(500)), Some(Duration::from_secs(49)));
    assert!(
        !view.steps[1].over_budget(t(500)),
        "a settled step's clock stops"
    );
}

#[test]
fn a_follower_sees_the_run_as_journaled() {
    let records = crashed_at_failover();
    let run = RecoveredRun::from_records(&PathBuf::from("j"), &records).unwrap();
    let view = drconsole::runbook::engine::RunView::from_journal(&runbook(FAILOVER), &run);
    let shown: Vec<&str> = view.steps.iter().map(|s| s.run.state.label()).collect();
    assert_eq!(
        shown,
        [
            "done", "running", "pending", "pending", "pending", "pending"
        ]
    );
    assert_eq!(view.current, Some(1));
    assert!(view.prompt.is_none() && view.read_only);
    assert_eq!(view.steps[1].run.started_at, Some(t(1)));
    assert_eq!(view.rto_elapsed(t(30)), Duration::from_secs(30));
}

#[test]
fn a_wait_whose_deadline_is_past_the_calendar_fails_instead_of_panicking() {
    let mut rb = runbook(
        "  - id: w\n    title: W\n    wait: { until: [{ cluster_available: { cluster: orders-secondary } }], timeout: 5m }\n",
    );
    // A runbook built in code is not bounded by the parser.
    let drconsole::runbook::format::StepKind::Wait(wait) = &mut rb.steps[0].kind else {
        panic!()
    };
    wait.timeout = Duration::from_secs(300_000 * 365 * 24 * 3600);
    let (engine, _) = start(rb);
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!("{:?}", engine.view())
    };
    assert!(error.contains("past the end of the calendar"), "{error}");
}

const CAPTURES: &str = r#"  - id: login
    title: Login
    http:
      method: POST
      url: ${app}/auth/login
      capture: { token: /token, code: /code }
  - id: write
    title: Write
    http:
      method: POST
      url: ${app}/api/test/write
      headers: { Authorization: "Bearer ${token}" }
  - id: tell
    title: Tell
    notify: "token ${token}, code ${code}"
"#;

const SECRET: &str = "s3cr3t-bearer-token";

/// The journal of a run that captured a token and died before using it.
fn logged_in() -> (Engine, Vec<Record>) {
    let (mut engine, mut cmds) = start(runbook(CAPTURES));
    cmds.extend(
        engine
            .handle(
                Event::HttpDone {
                    step: "login".into(),
                    result: Ok(HttpResponse {
                        status: 200,
                        body: format!(r#"{{"token":"{SECRET}","code":"200"}}"#),
                    }),
                },
                t(5),
            )
            .unwrap(),
    );
    (engine, records(&cmds))
}

#[test]
fn captured_values_are_used_but_never_journaled() {
    let (mut engine, mut journaled) = logged_in();
    let Some(Entry::Captured { name, chars, .. }) = journaled
        .iter()
        .map(|r| &r.entry)
        .find(|e| matches!(e, Entry::Captured { name, .. } if name == "token"))
    else {
        panic!("{journaled:?}")
    };
    assert_eq!((name.as_str(), *chars), ("token", SECRET.len()));
    let cmds = engine
        .handle(
            Event::HttpDone {
                step: "write".into(),
                result: Err(format!("the server rejected Bearer {SECRET}")),
            },
            t(6),
        )
        .unwrap();
    journaled.extend(records(&cmds));
    let cmds = engine
        .handle(
            Event::Skip {
                step: at(&engine).step,
                reason: "checked by hand".into(),
            },
            t(7),
        )
        .unwrap();
    journaled.extend(records(&cmds));
    assert_eq!(
        engine.view().steps[2].run.observed.as_deref(),
        Some(format!("token {SECRET}, code 200").as_str()),
        "the screen shows what was sent"
    );
    let notified = entries(&cmds).into_iter().find_map(|e| match e {
        Entry::Notified { message, .. } => Some(message.clone()),
        _ => None,
    });
    assert_eq!(
        notified.as_deref(),
        Some("token ${token}, code 200"),
        "short values are no secret and stay readable"
    );
    let text = serde_json::to_string(&journaled).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("rejected Bearer ${token}"), "{text}");
}

#[test]
fn a_resumed_run_says_which_step_captured_a_value_it_no_longer_has() {
    let (_, journaled) = logged_in();
    let run = RecoveredRun::from_records(&PathBuf::from("j.jsonl"), &journaled).unwrap();
    let (engine, cmds) =
        Engine::resume(runbook(CAPTURES), orders(), false, &run, "bob", "s2", t(60)).unwrap();
    assert!(!cmds.iter().any(|c| matches!(c, Command::Http { .. })));
    assert_eq!(states(&engine), ["done", "failed", "pending"]);
    let Some(Prompt::Failed { step, error, .. }) = engine.prompt() else {
        panic!("{:?}", engine.prompt())
    };
    assert_eq!(step, "write");
    assert!(
        error.starts_with("`${token}` was captured by step `login` before this run was resumed"),
        "{error}"
    );
}

const FOREIGN: &str = r#"  - id: failover
    title: Fail over
    action:
      type: failover-global-cluster
      region: us-west-2
      global_cluster: orders-global
      target_cluster: ${target}
"#;

#[test]
fn an_action_whose_parameters_reach_another_service_is_refused_unsent() {
    let mut params = vars();
    params.insert(
        "target".into(),
        "arn:aws:rds:us-west-2:123456789012:cluster:payments-secondary".into(),
    );
    let (mut engine, cmds) = Engine::start(runbook(FOREIGN), orders(), false, meta(), params, t(0));
    let mut all = cmds;
    all.extend(
        engine
            .handle(Event::Retry { to: at(&engine) }, t(1))
            .unwrap(),
    );
    assert!(
        !all.iter().any(|c| matches!(
            c,
            Command::Execute { .. }
                | Command::Journal(Record {
                    entry: Entry::Intent { .. },
                    ..
                })
        )),
        "{all:?}"
    );
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!("{:?}", engine.prompt())
    };
    assert!(
        error.starts_with("refused: cluster `arn:aws:rds:us-west-2:123456789012:cluster:payments-secondary` is not part of service `orders`"),
        "{error}"
    );
}

#[test]
fn a_resumed_intent_on_another_services_resource_is_never_sent() {
    let tampered: Vec<Record> = crashed_at_failover()
        .into_iter()
        .map(|mut r| {
            if let Entry::Intent { action, .. } = &mut r.entry {
                *action = Action::FailoverGlobalCluster {
                    region: "us-west-2".into(),
                    global_cluster: "billing-global".into(),
                    target_cluster: "orders-secondary".into(),
                    allow_data_loss: true,
                };
            }
            r
        })
        .collect();
    let (mut engine, _) = resume(&tampered);
    let cmds = engine
        .handle(
            Event::Verified {
                step: "failover".into(),
                applied: false,
            },
            t(61),
        )
        .unwrap();
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::Execute { .. } | Command::Assess { .. }))
    );
    assert!(
        matches!(engine.prompt(), Some(Prompt::Failed { error, .. }) if error.contains("global cluster `billing-global` is not part of service `orders`"))
    );
}

/// Any runbook `check` passes runs without panicking: every event the
/// engine asks for is answered until it ends, with a clock far ahead.
mod fuzz {
    use drconsole::runbook::{format, validate};
    use proptest::prelude::*;

    use super::*;

    /// Mostly plausible values, so that many runbooks pass `check`, mixed
    /// with hostile ones: past the calendar (`300000y`) and past any clock.
    fn duration() -> impl Strategy<Value = String> {
        let unit = |units: Vec<&'static str>| prop::sample::select(units);
        prop_oneof![
            8 => (1u64..60, unit(vec!["s", "m", "h", "ms"])),
            1 => (1u64..1_000_000_000, unit(vec!["d", "y"])),
            1 => (any::<u64>(), unit(vec!["ms", "s", "m", "h", "d", "y"])),
        ]
        .prop_map(|(n, unit)| format!("{n}{unit}"))
    }

    fn step() -> impl Strategy<Value = String> {
        let wait = (duration(), duration()).prop_map(|(timeout, poll)| {
            format!("    wait: {{ until: [{{ cluster_role: {{ cluster: orders-secondary, is: writer }} }}], timeout: {timeout}, poll: {poll} }}\n")
        });
        let http = (duration(), any::<u16>(), duration()).prop_map(|(timeout, status, max)| {
            format!("    expect_within: {max}\n    http: {{ url: \"http://app/x\", timeout: {timeout}, expect: {{ status: {status} }}, capture: {{ t: /t }} }}\n")
        });
        let lag = duration().prop_map(|max| {
            format!("    check: [{{ replication_lag_below: {{ resource: orders-secondary, max: {max} }} }}]\n")
        });
        // An upsert, then a wait for its change (`@` is this step's id).
        let upsert = (any::<u32>(), duration()).prop_map(|(ttl, timeout)| {
            format!("    action: {{ type: upsert-record, zone_id: Z0DEMO00000001, name: api.example.com., record: {{ kind: cname, value: x, ttl: {ttl} }} }}\n  - id: @-insync\n    title: Insync\n    wait: {{ until: [dns_change_insync], timeout: {timeout}, poll: 1s }}\n")
        });
        let failover = (
            prop::sample::select(vec!["us-west-2", "us-west-2", "us-east-1"]),
            prop::sample::select(vec!["orders-global", "orders-global", "billing-global"]),
            prop::sample::select(vec!["orders-secondary", "${t}"]),
        )
            .prop_map(|(region, global, target)| {
                format!("    action: {{ type: failover-global-cluster, region: {region}, global_cluster: {global}, target_cluster: \"{target}\" }}\n    confirm: typed\n")
            });
        prop_oneof![
            wait,
            http,
            lag,
            upsert,
            failover,
            Just("    manual: do it\n".to_string()),
            duration().prop_map(|d| format!(
                "    expect_within: {d}\n    notify: \"t=${{t}} in ${{run_elapsed}}\"\n"
            )),
        ]
    }

    fn runbook_text() -> impl Strategy<Value = String> {
        let rto = prop_oneof![4 => Just("1h".to_string()), 1 => duration()];
        (rto, prop::collection::vec(step(), 1..6)).prop_map(|(rto, steps)| {
            let mut text = format!(
                "name: fuzz\nservice: orders\nobjectives: {{ rto: {rto}, rpo: 5m }}\nowner: me\nlast_tested: 2026-11-01\nparameters:\n  t: {{ default: orders-secondary }}\nsteps:\n"
            );
            for (i, body) in steps.iter().enumerate() {
                let body = body.replace('@', &format!("s{i}"));
                text.push_str(&format!("  - id: s{i}\n    title: S{i}\n{body}"));
            }
            text
        })
    }

    fn answer(engine: &Engine, last: Option<&Command>) -> Event {
        match engine.prompt() {
            Some(prompt @ Prompt::Tick { .. }) => Event::Tick { to: prompt.id() },
            Some(Prompt::ConfirmAction {
                target, seq, step, ..
            }) => Event::Confirm {
                to: PromptId { step, seq },
                typed: Some(target),
            },
            Some(Prompt::Failed { step, .. }) => Event::Skip {
                step,
                reason: "fuzz".into(),
            },
            None => match last {
                Some(Command::Execute { step, .. }) => Event::ActionAccepted {
                    step: step.clone(),
                    receipt: Receipt {
                        change_id: Some("C1".into()),
                        ..Receipt::default()
                    },
                },
                Some(Command::Observe { step, .. }) => Event::Observed {
                    step: step.clone(),
                    snapshot: world(false, false),
                    change: Some(ChangeStatus::Pending),
                },
                Some(Command::Http { step, .. }) => Event::HttpDone {
                    step: step.clone(),
                    result: Ok(HttpResponse {
                        status: 200,
                        body: r#"{"t":"a-long-captured-value"}"#.into(),
                    }),
                },
                _ => Event::TimePassed,
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_runbook_that_passes_check_runs_without_panicking(text in runbook_text()) {
            let Ok(rb) = format::parse(std::path::Path::new("fuzz.yaml"), &text) else {
                return Ok(());
            };
            let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
            let env = support::runbook::env();
            if validate::validate(&rb, &env, today).iter().any(|d| d.is_error()) {
                return Ok(());
            }
            let (mut engine, cmds) = Engine::start(rb, orders(), false, meta(), vars(), t(0));
            let mut last = cmds.last().cloned();
            // Ten years a minute at a time would be slow: leap instead.
            for i in 0..60i64 {
                let now = t(i * 7 * 24 * 3600);
                let _ = engine.view().rto_elapsed(now);
                if engine.outcome().is_some() {
                    break;
                }
                let event = answer(&engine, last.as_ref());
                let cmds = engine.handle(event, now).unwrap_or_default();
                last = cmds.last().cloned().or(last);
            }
            let view = engine.view();
            for s in &view.steps {
                let _ = (s.elapsed(t(0)), s.over_budget(t(10)));
            }
        }
    }
}

/// A healthy world: the data-loss failover's own check is skipped, as an
/// operator in a hurry would, and the engine still holds the call.
fn at_failover_with_healthy_primary() -> Engine {
    let (mut engine, _) = start(runbook(FAILOVER));
    engine
        .handle(
            Event::Skip {
                step: current(&engine),
                reason: "sure it is down".into(),
            },
            t(1),
        )
        .unwrap();
    assessed(&mut engine, "failover", world(true, false), vec![], t(2));
    engine
}

#[test]
fn a_data_loss_failover_of_a_healthy_primary_needs_an_override_with_a_reason() {
    let mut engine = at_failover_with_healthy_primary();
    let Some(Prompt::ConfirmAction { assessment, .. }) = engine.prompt() else {
        panic!("{:?}", engine.prompt())
    };
    assert!(assessment.blocked());
    let confirm = Event::Confirm {
        to: at(&engine),
        typed: Some("orders-global".into()),
    };
    assert_eq!(
        engine.handle(confirm.clone(), t(3)),
        Err(Refusal::Blocked {
            rules: "data-loss failover of a healthy primary".into()
        })
    );
    assert_eq!(
        engine.handle(
            Event::Override {
                to: at(&engine),
                reason: "   ".into()
            },
            t(4)
        ),
        Err(Refusal::ReasonRequired)
    );
    let cmds = engine
        .handle(
            Event::Override {
                to: at(&engine),
                reason: "game day: failing over on purpose".into(),
            },
            t(5),
        )
        .unwrap();
    let [
        Entry::Overridden {
            operator,
            reason,
            assessment: journaled,
            ..
        },
    ] = entries(&cmds)[..]
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(operator, "alice");
    assert_eq!(reason, "game day: failing over on purpose");
    assert_eq!(journaled, &*assessment, "the facts shown are journaled");
    assert!(matches!(
        engine.prompt(),
        Some(Prompt::ConfirmAction {
            overridden: Some(_),
            ..
        })
    ));

    let confirm = Event::Confirm {
        to: at(&engine),
        typed: Some("orders-global".into()),
    };
    let cmds = engine.handle(confirm, t(6)).unwrap();
    assert!(matches!(
        entries(&cmds)[0],
        Entry::Confirmed { operator: Some(o), assessment: Some(_), .. } if o == "alice"
    ));
    assert!(matches!(cmds.last(), Some(Command::Execute { .. })));
}

#[test]
fn an_override_lasts_only_for_the_facts_it_was_given_on() {
    let mut engine = at_failover_with_healthy_primary();
    engine
        .handle(
            Event::Override {
                to: at(&engine),
                reason: "drill".into(),
            },
            t(3),
        )
        .unwrap();
    engine
        .handle(Event::Decline { to: at(&engine) }, t(4))
        .unwrap();
    engine
        .handle(Event::Retry { to: at(&engine) }, t(5))
        .unwrap();
    assessed(&mut engine, "failover", world(true, false), vec![], t(6));
    assert!(matches!(
        engine.handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into())
            },
            t(7)
        ),
        Err(Refusal::Blocked { .. })
    ));
}

/// The confirmation waits on the operator while polls go on: what it
/// shows, what the rules say and what is journaled follow the newest poll,
/// never an older one, and an override does not stretch to a rule it was
/// not given on.
#[test]
fn the_facts_and_rules_follow_the_polls_while_the_confirmation_waits() {
    let mut engine = at_failover_with_healthy_primary();
    let blocked = |engine: &Engine| match engine.prompt() {
        Some(Prompt::ConfirmAction { assessment, .. }) => assessment.blocked(),
        other => panic!("{other:?}"),
    };
    assert!(blocked(&engine));
    // The primary has gone down since the step began: nothing to override.
    assessed(&mut engine, "failover", world(false, false), vec![], t(10));
    assert!(!blocked(&engine));
    // A poll older than the facts shown changes nothing.
    assessed(&mut engine, "failover", world(true, false), vec![], t(9));
    assert!(!blocked(&engine));
    // Back up before the operator confirmed: the call is held again.
    assessed(&mut engine, "failover", world(true, false), vec![], t(11));
    assert!(blocked(&engine));
    let confirm = Event::Confirm {
        to: at(&engine),
        typed: Some("orders-global".into()),
    };
    assert!(matches!(
        engine.handle(confirm, t(12)),
        Err(Refusal::Blocked { .. })
    ));
    // Overridden on the healthy primary; the same rule on a newer poll
    // keeps the override, and the confirmation journals the newest facts.
    engine
        .handle(
            Event::Override {
                to: at(&engine),
                reason: "drill".into(),
            },
            t(13),
        )
        .unwrap();
    assessed(&mut engine, "failover", world(true, false), vec![], t(14));
    let cmds = engine
        .handle(
            Event::Confirm {
                to: at(&engine),
                typed: Some("orders-global".into()),
            },
            t(15),
        )
        .unwrap();
    assert!(matches!(
        entries(&cmds)[0],
        Entry::Confirmed { assessment: Some(a), .. } if a.observed_at == t(14)
    ));
}

#[test]
fn nothing_to_override_when_no_rule_is_broken() {
    let mut engine = at_failover();
    assert_eq!(
        engine.handle(
            Event::Override {
                to: at(&engine),
                reason: "because".into()
            },
            t(2)
        ),
        Err(Refusal::NothingToOverride)
    );
}

#[test]
fn a_second_failover_within_the_hour_is_blocked() {
    let (mut engine, _) = start(runbook(FAILOVER));
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    assessed(
        &mut engine,
        "failover",
        world(false, false),
        vec![t(1) - chrono::Duration::minutes(30)],
        t(2),
    );
    let Some(Prompt::ConfirmAction { assessment, .. }) = engine.prompt() else {
        panic!()
    };
    let rules: Vec<_> = assessment.violations.iter().map(|v| v.rule).collect();
    assert_eq!(rules, [drconsole::runbook::safety::Rule::RepeatFailover]);
}

#[test]
fn a_target_that_is_not_a_member_fails_the_step_and_sends_nothing() {
    let (mut engine, _) = start(runbook(FAILOVER));
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    let mut detached = world(false, false);
    detached.global_clusters[0]
        .members
        .retain(|m| m.cluster_id != "orders-secondary");
    let cmds = assessed(&mut engine, "failover", detached, vec![], t(2));
    assert!(!cmds.iter().any(|c| matches!(c, Command::Execute { .. })));
    let Some(Prompt::Failed { error, .. }) = engine.prompt() else {
        panic!("{:?}", engine.prompt())
    };
    assert_eq!(
        error,
        "cannot resolve `orders-secondary` to an ARN: it is not a member of global cluster `orders-global` (members: orders-primary); nothing was sent"
    );
}

#[test]
fn a_wait_can_be_skipped_with_a_reason_and_the_operator_is_journaled() {
    let mut engine = at_wait();
    assert_eq!(states(&engine)[2], "waiting");
    assert!(
        engine
            .view()
            .waiting_for
            .is_some_and(|w| w.contains("cluster orders-secondary")),
        "the run says what the wait waits for"
    );
    let cmds = engine
        .handle(
            Event::Skip {
                step: current(&engine),
                reason: "console shows it writable".into(),
            },
            t(20),
        )
        .unwrap();
    assert_eq!(
        entries(&cmds)[0],
        &Entry::Skipped {
            step: "writable".into(),
            operator: "alice".into(),
            reason: "console shows it writable".into()
        }
    );
    assert_eq!(states(&engine)[2], "skipped");
}

#[test]
fn writer_moves_are_read_from_every_journal_in_the_directory() {
    use drconsole::runbook::journal::{Journal, writer_moves};
    let dir = tempfile::tempdir().unwrap();
    let mut cmds = crashed_at_failover();
    let mut engine_cmds = {
        let mut engine = at_failover();
        let mut cmds = engine
            .handle(
                Event::Confirm {
                    to: at(&engine),
                    typed: Some("orders-global".into()),
                },
                t(2),
            )
            .unwrap();
        cmds.extend(
            engine
                .handle(
                    Event::ActionAccepted {
                        step: "failover".into(),
                        receipt: Receipt::default(),
                    },
                    t(9),
                )
                .unwrap(),
        );
        records(&cmds)
    };
    // One run whose failover was accepted, one that crashed before it was.
    let mut done = Journal::create(dir.path(), "orders", "done").unwrap();
    let mut start_record = records(&start(runbook(FAILOVER)).1);
    start_record.append(&mut engine_cmds);
    for r in &start_record {
        done.append(r).unwrap();
    }
    let mut crashed = Journal::create(dir.path(), "orders", "crashed").unwrap();
    for r in cmds.drain(..) {
        crashed.append(&r).unwrap();
    }
    assert_eq!(writer_moves(dir.path(), "orders-global"), [t(9)]);
    assert!(writer_moves(dir.path(), "billing-global").is_empty());
}

#[test]
fn the_anti_flapping_period_is_a_setting() {
    use drconsole::runbook::safety::SafetySettings;
    let (mut engine, _) = start(runbook(FAILOVER));
    engine.set_safety(SafetySettings {
        repeat_failover_within: Duration::from_secs(20 * 60),
    });
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    assessed(
        &mut engine,
        "failover",
        world(false, false),
        vec![t(1) - chrono::Duration::minutes(30)],
        t(2),
    );
    let Some(Prompt::ConfirmAction { assessment, .. }) = engine.prompt() else {
        panic!()
    };
    assert!(
        !assessment.blocked(),
        "a move 30 minutes ago is outside a 20-minute period: {assessment:?}"
    );
}

const ONE_TICK: &str = "  - id: ticked
    title: Tell the team
    manual: Post in ${dr}
";

#[test]
fn a_run_started_during_an_incident_counts_its_rto_from_the_outage() {
    let mut meta = meta();
    meta.incident = Some(IncidentStart {
        start: t(-120),
        basis: Basis::Transition,
        declared_by: None,
        reason: None,
    });
    let (mut engine, cmds) = Engine::start(runbook(ONE_TICK), orders(), false, meta, vars(), t(0));
    assert!(matches!(
        entries(&cmds)[0],
        Entry::RunStarted { meta, .. } if meta.incident.as_ref().map(|i| i.start) == Some(t(-120))
    ));
    assert_eq!(
        engine.view().rto_elapsed(t(8)),
        Duration::from_secs(128),
        "the clock on the run screen counts from the outage"
    );
    let cmds = engine
        .handle(Event::Tick { to: at(&engine) }, t(8))
        .unwrap();
    let finished = entries(&cmds)
        .into_iter()
        .find(|e| matches!(e, Entry::Finished { .. }))
        .cloned()
        .expect("finished");
    assert_eq!(
        finished,
        Entry::Finished {
            outcome: RunOutcome::Completed {
                elapsed: Duration::from_secs(8)
            },
            elapsed_s: Some(8.0),
            since_outage: Some(Duration::from_secs(128)),
            since_outage_s: Some(128.0),
        }
    );
    let view = engine.view();
    assert_eq!(view.rto_elapsed(t(999)), Duration::from_secs(128));
    assert_eq!(view.runbook_elapsed(t(999)), Duration::from_secs(8));
    assert_eq!(
        view.restored_line().as_deref(),
        Some("orders restored 2m08s after the outage began (RTO 15m) · runbook took 8s")
    );
    let json = serde_json::to_value(&finished).unwrap();
    assert_eq!(json["since_outage"], "2m 8s");
    assert_eq!(json["since_outage_s"], 128.0);
}

#[test]
fn a_run_without_an_incident_and_an_old_journal_count_from_the_run() {
    let (mut engine, _) = start(runbook(ONE_TICK));
    let cmds = engine
        .handle(Event::Tick { to: at(&engine) }, t(8))
        .unwrap();
    assert!(entries(&cmds).iter().any(|e| matches!(
        e,
        Entry::Finished {
            since_outage: None,
            elapsed_s: Some(_),
            ..
        }
    )));
    assert_eq!(engine.view().rto_elapsed(t(99)), Duration::from_secs(8));
    assert_eq!(engine.view().restored_line(), None);
    let old = r#"{"at":"2026-11-25T08:00:00Z","event":"run-started","run_id":"r1","runbook":"x","file":"x.yaml","service":"orders","operator":"a","session":"s","host":"h","params":{}}
{"at":"2026-11-25T08:00:09Z","event":"finished","outcome":"completed","elapsed":"9s"}"#;
    for line in old.lines() {
        let record: Record = serde_json::from_str(line).unwrap();
        if let Entry::RunStarted { meta, .. } = &record.entry {
            assert_eq!(meta.incident, None);
        }
    }
}

#[test]
fn a_two_person_action_goes_ahead_only_on_another_operators_approval() {
    let two_person = FAILOVER.replace("    confirm: typed\n", "    confirm: two-person\n");
    let (mut engine, _) = start(runbook(&two_person));
    engine
        .handle(
            Event::Observed {
                step: "down".into(),
                snapshot: world(false, false),
                change: None,
            },
            t(1),
        )
        .unwrap();
    assessed(&mut engine, "failover", world(false, false), vec![], t(1));
    let confirm = |engine: &mut Engine| {
        let to = at(engine);
        engine.handle(Event::Confirm { to, typed: None }, t(2))
    };
    // Without a shared store nobody else can approve: the step says so.
    assert_eq!(
        confirm(&mut engine),
        Err(Refusal::NeedsSharedStore {
            step: "failover".into()
        })
    );
    engine.set_shared(true);
    let cmds = confirm(&mut engine).unwrap();
    assert!(
        matches!(
            entries(&cmds)[..],
            [Entry::Confirmed { .. }, Entry::ApprovalRequested { step, operator }]
                if step == "failover" && operator == "alice"
        ),
        "{cmds:?}"
    );
    assert!(!cmds.iter().any(|c| matches!(c, Command::Execute { .. })));
    assert_eq!(engine.awaiting_approval(), Some("failover"));
    assert!(engine.prompt().is_none());
    let approved = |engine: &mut Engine, who: &str| {
        engine.handle(
            Event::Approved {
                step: "failover".into(),
                approver: who.into(),
                reason: "lag is 2s".into(),
            },
            t(3),
        )
    };
    assert_eq!(
        approved(&mut engine, "alice"),
        Err(Refusal::OwnApproval {
            step: "failover".into(),
            approver: "alice".into()
        })
    );
    assert_eq!(states(&engine)[1], "awaiting confirmation");
    let cmds = approved(&mut engine, "bob").unwrap();
    assert!(
        matches!(
            entries(&cmds)[..2],
            [Entry::Approved { approver, .. }, Entry::Intent { .. }] if approver == "bob"
        ),
        "{cmds:?}"
    );
    assert!(matches!(cmds.last(), Some(Command::Execute { .. })));
    assert_eq!(engine.awaiting_approval(), None);
    // A late duplicate approval does nothing.
    assert!(approved(&mut engine, "carol").is_err());
}

/// An aborted run's clocks stop where it ended: the step it was on does not
/// go on counting on screen.
#[test]
fn an_ended_run_says_when_it_ended() {
    let mut engine = at_failover();
    assert_eq!(engine.view().ended_at(), None);
    engine
        .handle(
            Event::Abort {
                reason: "not an outage".into(),
            },
            t(9),
        )
        .unwrap();
    assert_eq!(engine.view().ended_at(), Some(t(9)));
}
