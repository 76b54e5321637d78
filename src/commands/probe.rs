//! `llmload probe`: one request (or a recorded body, `--file`) read through the client's own read
//! loop, every SSE event printed as it arrives with what the adapter read from it, then a verdict
//! with the likely fix (each event shows the WHATWG last event ID the parser dispatched it with),
//! and, when `--api` recognises none of the events, which other adapter does. Rendering is `output::probe`'s.

use super::{print_out, say};
use crate::cli::ProbeArgs;
use crate::client::{Client, Request};
use crate::config::ProbePlan;
use crate::error::Error;
use crate::output::probe::{self as view, Found, Reading, Seen, Tally};
use crate::protocol::{Anthropic, Api, Dify, OpenAi, Protocol, Responses};
use crate::sse::{self, Event};
use crate::stop::StopSignal;
use std::time::Duration;

/// Events kept to try other adapters on when `--api` recognises none (bounded memory).
const KEPT_EVENTS: usize = 1000;

/// The adapters tried on a stream `--api` does not recognise, in the order a tie is broken (the
/// two OpenAI adapters read each other's chunks alike: chat, the commoner, goes first).
const OTHERS: [Api; 6] = [
    Api::OpenAiChat,
    Api::OpenAiCompletions,
    Api::OpenAiResponses,
    Api::DifyChat,
    Api::Anthropic,
    Api::DifyWorkflow,
];

/// `llmload probe`: its exit code (0 recognised, 1 read but no tokens, 2 usage or no stream).
pub fn probe(a: &ProbeArgs) -> Result<u8, Error> {
    let ProbePlan { config, recorded, guessed, json } = ProbePlan::from_args(a, &best_adapter)?;
    let settings = config.client.clone();
    let api = config.api.name();
    let protocol = settings.protocol.clone();
    let client = Client::new(settings);
    match (&recorded, guessed) {
        (Some((file, _)), true) => say(&format!(
            "--file {file}: read as {api} (the adapter that recognises the most events; give --api to choose)"
        )),
        (Some(_), false) => {}
        (None, _) => {
            if let Some(note) = &config.api_note {
                say(note.get(config.lang));
            }
            say(&format!("llmload probe → {api} {}", config.client.url));
        }
    }
    let mut watch =
        Watch { json, api, protocol: protocol.as_ref(), tally: Tally::default(), kept: Vec::new() };
    let m = match &recorded {
        Some((_, body)) => Box::new(client.read_recorded(&body[..], &mut |ev, _| watch.on_event(ev, None))),
        None => {
            let key = config.keys.as_ref().map(|k| (0, k.items()[0].as_str()));
            let request = Request {
                worker: 0,
                prompt_index: 0,
                index: 0,
                prompt: &config.prompts.items()[0],
                key,
                user: "llmload-probe",
                conversation_id: None,
                turn: 1,
            };
            client.execute_observed(&request, &StopSignal::default(), &mut |ev, at| {
                watch.on_event(ev, Some(at))
            })
        }
    };
    let suggestion = (watch.tally.recognised == 0).then(|| suggest(config.api, &watch.kept)).flatten();
    let found = Found {
        api,
        tally: watch.tally,
        status: m.status,
        outcome: &m.outcome,
        suggestion: suggestion.map(|s| s.name()),
        ends_at_close: protocol.ends_at_close(),
    };
    // Malformed events were shown with their reading; what else the read loop noticed is said.
    for w in m.warnings.iter().filter(|w| !w.contains("malformed event")) {
        say(&format!("warning: {w}"));
    }
    let (line, code) = view::verdict(&found);
    if json {
        say(&line);
    } else {
        print_out(&format!("{line}\n"));
    }
    Ok(code)
}

/// What the probe saw so far: the last event ID, the counts, and the first events.
struct Watch<'a> {
    json: bool,
    api: &'a str,
    protocol: &'a dyn Protocol,
    tally: Tally,
    kept: Vec<Event>,
}

impl Watch<'_> {
    /// Prints the event at once (a stalled stream shows how far it got) and counts it.
    fn on_event(&mut self, ev: &Event, offset: Option<Duration>) {
        let reading = Reading::of(self.protocol.interpret(ev));
        self.tally.add(&reading);
        let seen = Seen {
            index: self.tally.events,
            offset,
            event: if ev.event.is_empty() { "message".into() } else { ev.event.clone() },
            data: ev.data.clone(),
            id: ev.id.clone(),
            reading,
        };
        if self.kept.len() < KEPT_EVENTS {
            self.kept.push(ev.clone());
        }
        print_out(&if self.json { view::json_line(&seen) } else { view::text(&seen, self.api) });
    }
}

/// An adapter for `api`; `None` for `custom`, which needs its template.
fn adapter(api: Api) -> Option<Box<dyn Protocol>> {
    Some(match api {
        Api::DifyChat => Box::new(Dify::Chat),
        Api::DifyCompletion => Box::new(Dify::Completion),
        Api::DifyWorkflow => Box::new(Dify::Workflow),
        Api::OpenAiChat => Box::new(OpenAi::Chat),
        Api::OpenAiCompletions => Box::new(OpenAi::Completions),
        Api::OpenAiResponses => Box::new(Responses),
        Api::Anthropic => Box::new(Anthropic),
        Api::Custom => return None,
    })
}

/// How well `api` reads `events`: events with text, then events recognised.
fn score(api: Api, events: &[Event]) -> (usize, usize) {
    let Some(p) = adapter(api) else { return (0, 0) };
    let readings = events.iter().map(|ev| Reading::of(p.interpret(ev)));
    readings.fold((0, 0), |(text, known), r| {
        (text + usize::from(r.has_text()), known + usize::from(r.recognised))
    })
}

/// Another API than `tried` that recognises some of `events`: the one with the most text events,
/// then the most recognised.
fn suggest(tried: Api, events: &[Event]) -> Option<Api> {
    let mut best = None;
    for api in OTHERS.into_iter().filter(|&a| a != tried) {
        let s = score(api, events);
        if s.1 > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((api, s));
        }
    }
    best.map(|(api, _)| api)
}

/// The adapter that reads a recorded body best (`--file` without `--api`); OpenAI chat when none
/// recognises anything, so the verdict still names what was tried.
fn best_adapter(body: &[u8]) -> Api {
    let mut parser = sse::Parser::new(sse::Limits::default());
    let mut events = Vec::new();
    let _ = parser.feed(body, &mut |ev| {
        if events.len() < KEPT_EVENTS {
            events.push(ev.clone());
        }
    });
    suggest(Api::Custom, &events).unwrap_or(Api::OpenAiChat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> Event {
        Event { event: event.into(), data: data.into(), id: String::new() }
    }

    #[test]
    fn another_api_that_reads_the_events_is_suggested() {
        let openai = [
            ev("", r#"{"choices":[{"delta":{"role":"assistant"}}]}"#),
            ev("", r#"{"choices":[{"delta":{"content":"hi"}}]}"#),
            ev("", "[DONE]"),
        ];
        assert_eq!(suggest(Api::DifyChat, &openai), Some(Api::OpenAiChat));
        let anthropic = [ev(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
        )];
        assert_eq!(suggest(Api::OpenAiChat, &anthropic), Some(Api::Anthropic));
        let responses = [
            ev("response.created", r#"{"type":"response.created","response":{}}"#),
            ev("response.output_text.delta", r#"{"type":"response.output_text.delta","delta":"hi"}"#),
        ];
        assert_eq!(suggest(Api::OpenAiChat, &responses), Some(Api::OpenAiResponses));
        assert_eq!(suggest(Api::OpenAiChat, &[ev("", "plain words")]), None);
        let body =
            b"data: {\"event\":\"message\",\"answer\":\"hi\"}\n\ndata: {\"event\":\"message_end\"}\n\n";
        assert_eq!(best_adapter(body), Api::DifyChat);
    }
}
