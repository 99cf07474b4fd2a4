//! `drconsole runbook run` without the TUI: the run's progress as lines on
//! stdout, the operator's answers as lines on stdin, Ctrl-C to stop.
//!
//! ```text
//! [00:00]  1. down done (region us-east-1: unhealthy)
//!   Fail over
//!     rds FailoverGlobalCluster (us-west-2)
//!     { "GlobalClusterIdentifier": "orders-global", ... }
//!   type `orders-global` to make this call (n declines): orders-global
//! [00:04]  2. failover done in 00:04 (FailoverGlobalCluster accepted)
//! [00:04]  3. writable waiting
//! run complete: RTO 00:41 (objective 15:00)
//! ```
//!
//! Every answer names the prompt it was given at, and a prompt is printed
//! once: a line can only ever answer the question that was on the screen
//! when it was typed (see [`Answers`]). Everything printed passes through
//! [`printable`], as runbook and provider text may hold escape sequences.

use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::engine::{Prompt, RunView};
use super::journal::{RunOutcome, StepState};
use super::runner::{self, Input, RunEnd, RunHandle, RunSpec, RunStatus};
use crate::format::printable;
use crate::provider::Provider;

/// Longest line read from stdin; the rest of a longer one is discarded.
const MAX_LINE: u64 = 4096;

/// One line the operator entered, and when it was read.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub at: Instant,
}

impl Line {
    pub fn now(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            at: Instant::now(),
        }
    }
}

/// How the lines on stdin relate to the prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// A person at a terminal. A line answers the prompt that was on the
    /// screen when it was read and no other: one typed before a prompt was
    /// shown, or after its answer, is ignored and said so. Between prompts
    /// (during a wait, say) `skip REASON` and `abort REASON` act on the
    /// step being worked on.
    Typed,
    /// Answers prepared in a file or pipe: each line answers the next
    /// prompt, in order, and none is read between prompts.
    Scripted,
}

/// Where the operator's lines and interrupts come from.
pub struct Operator {
    /// Lines, or a problem reading them; closed at the end of input.
    pub lines: mpsc::Receiver<Result<Line, String>>,
    /// One message per Ctrl-C.
    pub interrupts: mpsc::Receiver<()>,
    pub answers: Answers,
}

impl Operator {
    /// This process's stdin and SIGINT. Stdin is read on a thread of its
    /// own: tokio's stdin cannot cancel a read, which would hold the
    /// runtime open at exit until the operator pressed Enter. Must be
    /// called within the runtime.
    pub fn terminal() -> Operator {
        use std::io::IsTerminal;

        let answers = if std::io::stdin().is_terminal() {
            Answers::Typed
        } else {
            Answers::Scripted
        };
        let (lines_tx, lines) = mpsc::channel(64);
        std::thread::spawn(move || read_lines(std::io::stdin().lock(), &lines_tx));
        let (interrupts_tx, interrupts) = mpsc::channel(4);
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if interrupts_tx.send(()).await.is_err() {
                    break;
                }
            }
        });
        Operator {
            lines,
            interrupts,
            answers,
        }
    }
}

/// Reads lines until the end of input, an I/O error, or nobody listens.
/// Bytes that are not UTF-8 are replaced rather than ending the input.
fn read_lines(mut input: impl BufRead, tx: &mpsc::Sender<Result<Line, String>>) {
    loop {
        let mut buf = Vec::new();
        let item = match (&mut input).take(MAX_LINE).read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) if buf.ends_with(b"\n") || buf.len() < MAX_LINE as usize => {
                let text = String::from_utf8_lossy(&buf);
                Ok(Line::now(text.trim_end_matches(['\n', '\r'])))
            }
            Ok(_) => {
                if let Err(e) = skip_line(&mut input) {
                    let _ = tx.blocking_send(Err(format!("cannot read input: {e}")));
                    return;
                }
                Err(format!("ignored a line longer than {MAX_LINE} bytes"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.blocking_send(Err(format!("cannot read input: {e}")));
                return;
            }
        };
        if tx.blocking_send(item).is_err() {
            return;
        }
    }
}

/// Discards input up to and including the next line break.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// Runs a runbook with `operator` answering its prompts; progress to `out`.
/// An action needs an explicit `y` (or its target typed, for `confirm:
/// typed`). The end of input at an open prompt, or Ctrl-C, leaves the run
/// resumable; the last line printed says how the run ended.
pub async fn run_headless<W: Write>(
    spec: RunSpec,
    provider: Provider,
    operator: Operator,
    out: W,
) -> anyhow::Result<RunEnd> {
    drive(runner::start(spec, provider)?, operator, out).await
}

/// [`run_headless`] for a run already started (a shared run is opened and
/// claimed before it is driven).
pub async fn drive<W: Write>(
    handle: RunHandle,
    operator: Operator,
    out: W,
) -> anyhow::Result<RunEnd> {
    let RunHandle {
        inputs,
        status,
        task,
    } = handle;
    let session = Session {
        out,
        printer: Printer::default(),
        inputs: Some(inputs),
        status,
        task,
        lines: operator.lines,
        interrupts: operator.interrupts,
        answers: operator.answers,
        sent: 0,
        shown: None,
        scripted: VecDeque::new(),
        input_ended: false,
    };
    session.run().await
}

/// The prompt on the screen.
struct Shown {
    prompt: Prompt,
    /// When its question was last printed: lines read before are not
    /// answers to it.
    at: Instant,
    /// An answer has been sent and the run has not yet said what came of it.
    answered: bool,
}

struct Session<W> {
    out: W,
    printer: Printer,
    /// None once the operator has left (end of input, Ctrl-C): the run
    /// then detaches, leaving its journal to resume.
    inputs: Option<mpsc::Sender<Input>>,
    status: watch::Receiver<RunStatus>,
    task: JoinHandle<anyhow::Result<RunEnd>>,
    lines: mpsc::Receiver<Result<Line, String>>,
    interrupts: mpsc::Receiver<()>,
    answers: Answers,
    /// Inputs sent; compared with [`RunStatus::handled`].
    sent: u64,
    shown: Option<Shown>,
    /// Scripted lines not yet used by a prompt.
    scripted: VecDeque<Line>,
    input_ended: bool,
}

impl<W: Write> Session<W> {
    async fn run(mut self) -> anyhow::Result<RunEnd> {
        loop {
            let status = self.status.borrow_and_update().clone();
            self.printer.show(&status, &mut self.out)?;
            if status.view.outcome.is_some() {
                break;
            }
            self.follow_prompt(&status)?;
            self.answer_from_script().await?;
            self.leave_if_unanswerable()?;
            tokio::select! {
                biased;
                Some(()) = self.interrupts.recv() => self.interrupted(&status)?,
                changed = self.status.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                line = self.lines.recv(), if !self.input_ended => match line {
                    None => self.input_ended = true,
                    Some(Err(problem)) => say(&mut self.out, &format!("! {problem}"))?,
                    Some(Ok(line)) => match self.answers {
                        Answers::Scripted => self.scripted.push_back(line),
                        Answers::Typed => self.typed(line, &status.view).await?,
                    },
                },
            }
        }
        drop(self.inputs.take());
        let last = match self.task.await {
            Ok(end) => end?,
            // Stopped by a second Ctrl-C: as after a crash, the journal
            // says where to resume.
            Err(e) if e.is_cancelled() => RunEnd::Detached {
                journal: self.status.borrow().journal.clone(),
            },
            Err(e) => anyhow::bail!("the run's task failed: {e}"),
        };
        let status = self.status.borrow().clone();
        self.printer.show(&status, &mut self.out)?;
        let line = match &last {
            RunEnd::Finished(RunOutcome::Completed { elapsed }) => {
                match status.view.restored_line() {
                    Some(restored) => format!("run complete: {restored}"),
                    None => format!(
                        "run complete: RTO {} (objective {})",
                        clock(*elapsed),
                        clock(status.view.rto_objective)
                    ),
                }
            }
            RunEnd::Finished(RunOutcome::Aborted { reason, elapsed }) => {
                format!("run aborted after {}: {reason}", clock(*elapsed))
            }
            RunEnd::Detached { journal } => {
                format!("run left unfinished; its journal is {}", journal.display())
            }
        };
        say(&mut self.out, &line)?;
        Ok(last)
    }

    /// Prints a prompt the run has newly opened, or asks again after the
    /// run refused an answer to the prompt on the screen.
    fn follow_prompt(&mut self, status: &RunStatus) -> std::io::Result<()> {
        if status.handled < self.sent {
            // The run has not yet taken the last answer: what it shows may
            // be the very prompt that answer has left.
            return Ok(());
        }
        let Some(open) = &status.view.prompt else {
            self.shown = None;
            return Ok(());
        };
        match &mut self.shown {
            Some(shown) if shown.prompt.id() == open.id() => {
                if shown.answered {
                    // Taken, yet still open: refused (the notice says why).
                    shown.answered = false;
                    ask_again(open, &mut self.out)?;
                    shown.at = Instant::now();
                }
            }
            _ => {
                ask(open, &mut self.out)?;
                self.shown = Some(Shown {
                    prompt: open.clone(),
                    at: Instant::now(),
                    answered: false,
                });
            }
        }
        Ok(())
    }

    async fn answer_from_script(&mut self) -> std::io::Result<()> {
        while let Some(shown) = self.shown.as_ref().filter(|s| !s.answered) {
            let Some(line) = self.scripted.pop_front() else {
                break;
            };
            let prompt = shown.prompt.clone();
            // Nothing echoes a piped answer: show it after its question.
            say(&mut self.out, &line.text)?;
            self.reply(&prompt, line.text.trim()).await?;
        }
        Ok(())
    }

    /// With no more input to come, a prompt waiting for an answer can never
    /// be answered: leave the run to be resumed.
    fn leave_if_unanswerable(&mut self) -> std::io::Result<()> {
        let waiting = self.shown.as_ref().is_some_and(|s| !s.answered);
        let no_more = self.input_ended && self.scripted.is_empty();
        if waiting && no_more && self.inputs.is_some() {
            self.end_question_line()?;
            say(
                &mut self.out,
                "end of input: nothing can answer this prompt",
            )?;
            self.inputs = None;
        }
        Ok(())
    }

    /// Ends the line a question left the cursor on, when nothing (no typed
    /// answer echoed by the terminal) has.
    fn end_question_line(&mut self) -> std::io::Result<()> {
        if self.shown.as_ref().is_some_and(|s| !s.answered) {
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// The first Ctrl-C stops the run where its journal can resume it; the
    /// second stops it at once.
    fn interrupted(&mut self, status: &RunStatus) -> std::io::Result<()> {
        if self.inputs.take().is_none() {
            say(&mut self.out, "stopping now")?;
            self.task.abort();
            return Ok(());
        }
        // The terminal echoed `^C` where the cursor was.
        writeln!(self.out)?;
        say(
            &mut self.out,
            "interrupted: stopping the run, to resume later",
        )?;
        if let Some(step) = current_step(&status.view)
            && matches!(step.1, StepState::Running | StepState::Verifying)
        {
            say(
                &mut self.out,
                &format!(
                    "  step `{}` finishes what it is doing first; Ctrl-C again stops at once (a call it was making is then checked, not repeated, when the run resumes)",
                    step.0
                ),
            )?;
        }
        Ok(())
    }

    /// A line typed at a terminal, where `view` is on the screen.
    async fn typed(&mut self, line: Line, view: &RunView) -> std::io::Result<()> {
        let text = line.text.trim();
        let prompt = match &self.shown {
            Some(shown) if !shown.answered && line.at >= shown.at => Some(shown.prompt.clone()),
            _ => None,
        };
        match prompt {
            Some(prompt) => self.reply(&prompt, text).await,
            None => self.between_prompts(text, line.at, view).await,
        }
    }

    /// Answers the prompt on the screen.
    async fn reply(&mut self, prompt: &Prompt, text: &str) -> std::io::Result<()> {
        match answer(prompt, text) {
            Some(input) => {
                if let Some(shown) = &mut self.shown {
                    shown.answered = true;
                }
                self.send(input).await;
            }
            None => {
                say(&mut self.out, &format!("not understood: `{text}`"))?;
                ask_again(prompt, &mut self.out)?;
            }
        }
        Ok(())
    }

    /// A line typed when no prompt was waiting for it: only `skip REASON`
    /// and `abort REASON` mean something, for the step being worked on.
    async fn between_prompts(
        &mut self,
        text: &str,
        at: Instant,
        view: &RunView,
    ) -> std::io::Result<()> {
        let (word, reason) = text.split_once(' ').unwrap_or((text, ""));
        match (word, current_step(view)) {
            ("", _) => {}
            ("abort", _) => {
                self.send(Input::Abort {
                    reason: reason.into(),
                })
                .await;
            }
            ("skip", Some((step, _))) => {
                let step = step.to_string();
                self.send(Input::Skip {
                    step,
                    reason: reason.into(),
                })
                .await;
            }
            _ => {
                let why = match (&self.shown, current_step(view)) {
                    (Some(shown), _) if shown.answered => {
                        format!("step `{}` is already answered", shown.prompt.id().step)
                    }
                    (Some(shown), _) if at < shown.at => "it was typed before the question".into(),
                    (_, Some((step, state))) => format!(
                        "nothing is asked while step `{step}` is {} (skip REASON or abort REASON act on it)",
                        state.label()
                    ),
                    (_, None) => "nothing is asked now".into(),
                };
                say(&mut self.out, &format!("ignored `{text}`: {why}"))?;
                if let Some(shown) = self.shown.as_mut().filter(|s| !s.answered) {
                    ask_again(&shown.prompt, &mut self.out)?;
                    shown.at = Instant::now();
                }
            }
        }
        Ok(())
    }

    async fn send(&mut self, input: Input) {
        if let Some(inputs) = &self.inputs
            && inputs.send(input).await.is_ok()
        {
            self.sent += 1;
        }
    }
}

/// The step being worked on and its state.
fn current_step(view: &RunView) -> Option<(&str, &StepState)> {
    let step = view.steps.get(view.current?)?;
    Some((&step.id, &step.run.state))
}

/// Writes one line, made printable.
fn say(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "{}", printable(text))
}

/// Shows the steps that changed and the run's notices, one line each.
#[derive(Default)]
struct Printer {
    shown: Vec<(StepState, Option<String>)>,
    notice: Option<String>,
    handled: u64,
}

impl Printer {
    fn show(&mut self, status: &RunStatus, out: &mut impl Write) -> std::io::Result<()> {
        let rto = clock(status.view.rto_elapsed(status.now));
        for (i, step) in status.view.steps.iter().enumerate() {
            let now = (step.run.state.clone(), step.run.observed.clone());
            if self.shown.get(i) == Some(&now) {
                continue;
            }
            let first_time = self.shown.len() <= i;
            if first_time && step.run.state == StepState::Pending {
                self.shown.push(now);
                continue;
            }
            let detail = match &step.run.state {
                StepState::Failed { error } => format!(": {error}"),
                StepState::Skipped { reason } => format!(": {reason}"),
                _ => step
                    .run
                    .observed
                    .as_ref()
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default(),
            };
            let elapsed = match (&step.run.state, step.elapsed(status.now), step.budget) {
                (StepState::Done, Some(e), Some(b)) => {
                    format!(" in {} of {}", clock(e), clock(b))
                }
                (StepState::Done, Some(e), None) => format!(" in {}", clock(e)),
                _ => String::new(),
            };
            say(
                out,
                &format!(
                    "[{rto}] {:>2}. {} {}{elapsed}{detail}",
                    i + 1,
                    step.id,
                    step.run.state.label()
                ),
            )?;
            if first_time {
                self.shown.push(now);
            } else {
                self.shown[i] = now;
            }
        }
        // A refusal repeated word for word is still news.
        let input_taken = status.handled != self.handled;
        self.handled = status.handled;
        if status.notice != self.notice || input_taken {
            if let Some(n) = &status.notice {
                say(out, &format!("[{rto}] ! {n}"))?;
            }
            self.notice = status.notice.clone();
        }
        Ok(())
    }
}

/// Prints a prompt: what it is about, then its question.
fn ask(prompt: &Prompt, out: &mut impl Write) -> std::io::Result<()> {
    match prompt {
        Prompt::Tick {
            title,
            instructions,
            ..
        } => {
            say(out, &format!("  {title}"))?;
            for line in instructions.lines() {
                say(out, &format!("  {line}"))?;
            }
        }
        Prompt::ConfirmAction {
            title,
            call,
            note,
            assessment,
            overridden,
            ..
        } => {
            say(out, &format!("  {title}"))?;
            if let Some(n) = note {
                say(out, &format!("  {n}"))?;
            }
            for line in call.to_string().lines() {
                say(out, &format!("    {line}"))?;
            }
            say(
                out,
                &format!(
                    "  facts observed at {}:",
                    assessment.observed_at.format("%H:%M:%SZ")
                ),
            )?;
            for fact in &assessment.facts {
                let mark = if fact.concern { "!" } else { "-" };
                say(out, &format!("    {mark} {}: {}", fact.subject, fact.text))?;
            }
            for v in &assessment.violations {
                say(
                    out,
                    &format!("  BLOCKED by rule `{}`: {}", v.rule.label(), v.message),
                )?;
            }
            if let Some(reason) = overridden {
                say(out, &format!("  rules overridden: {reason}"))?;
            }
        }
        Prompt::Failed { title, error, .. } => {
            say(out, &format!("  {title} failed: {error}"))?;
        }
    }
    ask_again(prompt, out)
}

/// Prints the prompt's question alone, the cursor left after it.
fn ask_again(prompt: &Prompt, out: &mut impl Write) -> std::io::Result<()> {
    let question = match prompt {
        Prompt::Tick { .. } => "  done? [y] / skip REASON / abort REASON: ".to_string(),
        Prompt::ConfirmAction {
            assessment,
            overridden: None,
            ..
        } if assessment.blocked() => {
            "  override REASON to go ahead anyway / n declines / skip REASON / abort REASON: "
                .to_string()
        }
        Prompt::ConfirmAction {
            target,
            typed: true,
            ..
        } => format!("  type `{target}` to make this call (n declines): "),
        Prompt::ConfirmAction { typed: false, .. } => "  make this call? [y/n]: ".to_string(),
        Prompt::Failed { .. } => "  retry / skip REASON / abort REASON: ".to_string(),
    };
    write!(out, "{}", printable(&question))?;
    out.flush()
}

/// The input a reply to `prompt` stands for; None when it is not understood.
fn answer(prompt: &Prompt, reply: &str) -> Option<Input> {
    let to = prompt.id();
    let (word, rest) = reply.split_once(' ').unwrap_or((reply, ""));
    match word {
        "skip" => {
            return Some(Input::Skip {
                step: to.step,
                reason: rest.into(),
            });
        }
        "abort" => {
            return Some(Input::Abort {
                reason: rest.into(),
            });
        }
        "override" if matches!(prompt, Prompt::ConfirmAction { .. }) => {
            return Some(Input::Override {
                to,
                reason: rest.into(),
            });
        }
        _ => {}
    }
    match prompt {
        Prompt::Tick { .. } => matches!(reply, "y" | "yes" | "").then_some(Input::Tick { to }),
        Prompt::ConfirmAction { typed: true, .. } => match reply {
            "n" | "no" => Some(Input::Decline { to }),
            typed => Some(Input::Confirm {
                to,
                typed: Some(typed.to_string()),
            }),
        },
        Prompt::ConfirmAction { typed: false, .. } => match reply {
            "y" | "yes" => Some(Input::Confirm { to, typed: None }),
            "n" | "no" => Some(Input::Decline { to }),
            _ => None,
        },
        Prompt::Failed { .. } => matches!(reply, "retry" | "r").then_some(Input::Retry { to }),
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<Result<String, String>> {
        let (tx, mut rx) = mpsc::channel(16);
        read_lines(input, &tx);
        drop(tx);
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|item| item.map(|line| line.text))
            .collect()
    }

    #[test]
    fn lines_are_read_whatever_the_bytes() {
        let mut input = b"y\r\nn\xffo\n".to_vec();
        input.extend(vec![b'z'; MAX_LINE as usize * 3]);
        input.extend(b"\nabort enough");
        assert_eq!(
            read_all(&input),
            vec![
                Ok("y".to_string()),
                Ok("n\u{fffd}o".to_string()),
                Err(format!("ignored a line longer than {MAX_LINE} bytes")),
                Ok("abort enough".to_string()),
            ]
        );
    }
}
