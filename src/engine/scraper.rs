//! The scraper thread of `--server-metrics`: reads each server's Prometheus page once before
//! the run's start, once an interval while it runs, and once after its end, on its own thread
//! and its own connections, each read with its own timeout, so a slow or dead page never
//! delays the load. A failed scrape is counted and the run goes on. Each scrape's running,
//! waiting and KV numbers go to the reporter for the table; the whole history comes back at the
//! join for the summary and the series.

use super::reporter::{Msg, Outbox};
use super::{Pass, spawn};
use crate::client::{PageReader, Tls};
use crate::config::ScrapePlan;
use crate::summary::server::{PageRun, Released, Scraped};
use crossbeam_channel::{Receiver, Sender, at, select};
use std::collections::HashMap;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the scrapes around the run wait for the server to hold no more requests than it
/// held before: a preflight's request ending before the start, the run's cut and abandoned
/// streams after its end.
const SETTLE: Duration = Duration::from_secs(3);
/// The shortest timeout of one scrape: a short `--scrape-interval` still lets a busy server a
/// second to answer (the next scrape is then late by that much, never early).
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// The time between two scrapes while waiting for the server to settle.
const SETTLE_STEP: Duration = Duration::from_millis(100);

/// The scraper, running: its thread and the word that ends it.
pub(super) struct Scraper {
    pub(super) handle: JoinHandle<Vec<PageRun>>,
    end: Option<Sender<()>>,
}

/// One page as the thread keeps it: its run, and the index of each sample name it has seen.
struct Page {
    run: PageRun,
    index: HashMap<String, usize>,
}

/// Takes each page's first scrape now (before the start gate opens: nothing of the run has
/// been sent), then starts the thread that scrapes during the run.
pub(super) fn start(plan: &ScrapePlan, tls: &Tls, pass: Pass, tx: Outbox) -> std::io::Result<Scraper> {
    let reader = PageReader::new(tls, plan.every.max(MIN_TIMEOUT));
    let mut pages: Vec<Page> = plan
        .urls
        .iter()
        .map(|url| Page { run: PageRun { url: url.clone(), ..PageRun::default() }, index: HashMap::new() })
        .collect();
    for page in &mut pages {
        let deadline = Instant::now() + SETTLE;
        loop {
            let view = page.scrape(&reader).map(|(view, _)| view);
            // A failed scrape is tried again too: without this one, nothing is counted from it.
            let busy =
                view.as_ref().is_none_or(|v| v.running.unwrap_or(0.0) + v.waiting.unwrap_or(0.0) > 0.0);
            if !busy || Instant::now() >= deadline {
                page.run.before = view;
                break;
            }
            thread::sleep(SETTLE_STEP);
        }
    }
    let (end, ended) = crossbeam_channel::bounded::<()>(0);
    let every = plan.every;
    let handle = spawn("scraper", 1 << 20, move || {
        let Some(started) = pass.wait() else { return finish(pages, &reader, None) };
        during(&mut pages, &reader, started, every, &ended, tx);
        finish(pages, &reader, Some(Instant::now()))
    })?;
    Ok(Scraper { handle, end: Some(end) })
}

impl Scraper {
    /// Says the run has ended: the scrapes during it stop and the thread lets go of the
    /// reporter's outbox (the reporter ends once every sender has gone), then takes the last
    /// scrape of each page.
    pub(super) fn run_ended(&mut self) {
        self.end.take();
    }

    /// Every page's run, the last scrape taken once the server settled.
    pub(super) fn join(mut self) -> Vec<PageRun> {
        self.run_ended();
        self.handle.join().unwrap_or_default()
    }
}

/// Scrapes every page each `every` from `started` until `ended` disconnects. Takes the
/// reporter's outbox, and lets go of it on return, so the reporter ends with the run.
fn during(
    pages: &mut [Page],
    reader: &PageReader,
    started: Instant,
    every: Duration,
    ended: &Receiver<()>,
    tx: Outbox,
) {
    let mut next = started;
    loop {
        next = (next + every).max(Instant::now());
        select! {
            recv(at(next)) -> _ => {}
            recv(ended) -> _ => return,
        }
        let (mut running, mut waiting, mut kv, mut kv_pages) = (None::<f64>, None::<f64>, 0.0, 0);
        for page in pages.iter_mut() {
            let Some((view, values)) = page.scrape(reader) else { continue };
            let add = |sum: &mut Option<f64>, v: Option<f64>| {
                if let Some(v) = v {
                    *sum = Some(sum.unwrap_or(0.0) + v);
                }
            };
            add(&mut running, view.running);
            add(&mut waiting, view.waiting);
            if let Some(k) = view.kv_use {
                kv += k;
                kv_pages += 1;
            }
            let at_s = Instant::now().saturating_duration_since(started).as_secs_f64();
            page.run.during.push(Scraped { at_s, view, values });
        }
        let kv_use = (kv_pages > 0).then(|| kv / f64::from(kv_pages));
        let _ = tx.later.send(Msg::Server { running, waiting, kv_use });
    }
}

/// The last scrape of each page after the run's end (`ended_at`; `None`: it never started):
/// taken again while the server holds more requests than before the run, up to `SETTLE`.
fn finish(mut pages: Vec<Page>, reader: &PageReader, ended_at: Option<Instant>) -> Vec<PageRun> {
    let Some(ended_at) = ended_at else { return pages.into_iter().map(|p| p.run).collect() };
    for page in &mut pages {
        let held = |v: &crate::prom::View| Some(v.running? + v.waiting.unwrap_or(0.0));
        let before = page.run.before.as_ref().and_then(held);
        loop {
            let view = page.scrape(reader).map(|(view, _)| view);
            let now = view.as_ref().and_then(held);
            let waited = Instant::now().saturating_duration_since(ended_at);
            let settled = match (before, now) {
                (Some(b), Some(n)) => n <= b,
                (_, None) => view.is_some(), // no running count on the page: nothing to wait for
                (None, Some(_)) => true,
            };
            if settled || waited >= SETTLE {
                if let (Some(before), Some(after)) = (before, now) {
                    let waited_ms = waited.as_secs_f64() * 1e3;
                    page.run.released = Some(Released { before, after, waited_ms, released: settled });
                }
                page.run.after = view.or_else(|| page.run.during.last().map(|s| s.view.clone()));
                break;
            }
            thread::sleep(SETTLE_STEP);
        }
    }
    pages.into_iter().map(|p| p.run).collect()
}

impl Page {
    /// One scrape: the page's view and every sample's value by name index; a failure is
    /// counted, its first message kept.
    fn scrape(&mut self, reader: &PageReader) -> Option<(crate::prom::View, Vec<f64>)> {
        let parsed =
            reader.get(&self.run.url).and_then(|text| crate::prom::parse(&text).map_err(|e| e.to_string()));
        let page = match parsed {
            Ok(page) => page,
            Err(e) => {
                self.run.failed += 1;
                self.run.first_error.get_or_insert(e);
                return None;
            }
        };
        let mut values = vec![f64::NAN; self.run.names.len()];
        for family in &page.families {
            for s in &family.samples {
                let name = sample_name(&s.name, &s.labels);
                let i = *self.index.entry(name).or_insert_with_key(|name| {
                    self.run.names.push(name.clone());
                    self.run.names.len() - 1
                });
                if i >= values.len() {
                    values.resize(i + 1, f64::NAN);
                }
                values[i] = s.value;
            }
        }
        Some((crate::prom::view(&page), values))
    }
}

/// A sample's name with its labels, as Prometheus writes them: `name{a="x",b="y"}`.
fn sample_name(name: &str, labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return name.to_string();
    }
    let escape = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    format!("{name}{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_samples_name_carries_its_labels_escaped() {
        assert_eq!(sample_name("up", &[]), "up");
        let labels = vec![("a".to_string(), "x\"y".to_string()), ("b".to_string(), "1".to_string())];
        assert_eq!(sample_name("m_total", &labels), "m_total{a=\"x\\\"y\",b=\"1\"}");
    }
}
