//! `llmload report`: rebuilds a run's statistics from `--records` files, so a run that was
//! killed (even with SIGKILL) still gets its summary. Each line becomes a `Measurement` again
//! (`Record::to_measurement`) and goes through the same `RunStats::add` as a live run: one
//! code path for statistics, and, when asked, through the same per-second series. A file is
//! parsed in chunks of whole lines on every CPU at once, each chunk into statistics of its own,
//! merged in file order (`+=`): the same numbers, warnings and first error as one pass. It also
//! finds the API and URL the records name. It does not print
//! or format; `commands` does, with the live run's code.

use crate::error::Error;
use crate::export::records::Record;
use crate::measure::Measurement;
use crate::output::warnings::Warning;
use crate::search::Variable;
use crate::shard::Shard;
use crate::slo::Slo;
use crate::stats::breakdown::Ended;
use crate::stats::{Breakdown, RunStats, SeriesBuilder};
use crate::summary::RunOutput;
use crate::util::files::{self, cap};
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant, SystemTime};

/// A records line longer than this is not one llmload wrote (a 100k-token stream is ~1 MiB).
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// Bytes a worker parses at a time: about 4,000 records of 64 tokens, so merging a chunk's
/// statistics costs nothing next to parsing it, and the chunks in flight stay a few MiB a thread.
const CHUNK_BYTES: usize = 4 << 20;

/// A run rebuilt from its records.
pub struct Rebuilt {
    pub run: RunOutput,
    /// The API name and endpoint URL the records name (the first, where files disagree);
    /// `None` for records written before they carried them.
    pub origin: Option<Origin>,
}

/// The API and endpoint URL a run tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub api: String,
    pub url: String,
}

/// Reads every file and merges them into one run, handing each record read to `each` (for
/// `--csv`) in file order. Files are taken as parts of one run that ran at the same time (the
/// shards of a run, several load generators, or a run and its retry). Records that carry their
/// wall-clock start (`start_unix_ms`) go on one timeline, from the earliest file's run start: the
/// wall time runs from the first start to the last end of all of them, and the series is by the
/// wall clock. Older records (without it) each start over at their file's start, and the wall
/// time is the longest file's. Records of different runs (`run_id`) are refused; a shard of the
/// run that no file holds is named in a warning. `series`: also rebuild the run second by second,
/// each request in the second its start and its end fell in. `slo`: judge every request against
/// it, as a live run does. `each`, when given, sees every record in file order. The lines of a
/// file are parsed on every CPU at once, a chunk each, and merged in order.
pub fn rebuild(
    paths: &[String],
    series: bool,
    slo: Option<&Slo>,
    each: Option<&mut dyn FnMut(&Record)>,
) -> Result<Rebuilt, Error> {
    rebuild_split(paths, None, series, slo, each, Split::machine())
}

/// `rebuild` of the records of one run only, `run_id`: one level of a sweep, whose records file
/// holds every level's (`sweep_levels`). The others are skipped as if they were not there: the
/// run's timeline starts at its own first record's run start.
pub fn rebuild_run(
    paths: &[String],
    run_id: &str,
    series: bool,
    slo: Option<&Slo>,
    each: Option<&mut dyn FnMut(&Record)>,
) -> Result<Rebuilt, Error> {
    rebuild_split(paths, Some(run_id), series, slo, each, Split::machine())
}

/// `rebuild` of the records of `only` (every record when `None`), each file read in `split`'s
/// chunks and threads.
fn rebuild_split(
    paths: &[String],
    only: Option<&str>,
    series: bool,
    slo: Option<&Slo>,
    mut each: Option<&mut dyn FnMut(&Record)>,
    split: Split,
) -> Result<Rebuilt, Error> {
    let base = Instant::now();
    let mut stats = RunStats::judged_by(slo);
    let mut breakdown = Breakdown::default();
    // One file is in about end order (written as requests ended); several each start over.
    let mut seconds = series.then(|| SeriesBuilder::new(paths.len() == 1));
    let (mut wall, mut warnings, mut newest) = (Duration::ZERO, Vec::new(), None::<SystemTime>);
    // The first origin and the file that named it; the first file that named another.
    let (mut origin, mut other) = (None::<(Origin, &str)>, None::<(Origin, &str)>);
    let runs = first_records(paths, only)?;
    let epoch = runs.epoch_ms;
    let (mut first, mut last, mut all_stamped) = (None::<Instant>, None::<Instant>, true);
    let mut shards = Shards::default();
    for path in paths {
        let file = files::open("report", path, cap::RECORDS)?;
        newest = newest.max(file.get_ref().metadata().and_then(|m| m.modified()).ok());
        let timeline = Timeline { base, epoch_ms: epoch };
        let sink = Sink {
            stats: &mut stats,
            series: seconds.as_mut(),
            breakdown: &mut breakdown,
            each: each.as_deref_mut(),
            only,
        };
        let part = read(file, timeline, sink, MAX_RECORD_BYTES, split)
            .map_err(|p| Error::file("report", path, p))?;
        wall = wall.max(part.span);
        (first, last) = (min_some(first, part.first), part.last.max(last));
        all_stamped &= part.all_stamped;
        runs.check(path, &part.run_ids)?;
        shards.add(path, &part.shards)?;
        for o in part.origins {
            match &origin {
                None => origin = Some((o, path)),
                Some((first, _)) if *first != o && other.is_none() => other = Some((o, path)),
                Some(_) => {}
            }
        }
        if part.partial_last_line {
            warnings.push(Warning::CutRecord { file: path.clone() }.into());
        }
    }
    if stats.total() == 0 {
        return Err(Error::Usage(format!(
            "{} hold no records: give the file(s) a run wrote with --records",
            paths.join(", ")
        )));
    }
    if let Some(w) = shards.missing() {
        warnings.push(w.into());
    }
    let started_at = match (epoch, all_stamped, first, last) {
        // All on one timeline: the span of all of them, from the earliest run start.
        (Some(ms), true, Some(f), Some(l)) => {
            wall = l.saturating_duration_since(f);
            let start =
                chrono::DateTime::from_timestamp_micros((ms * 1e3).round() as i64).unwrap_or_default();
            start.with_timezone(&chrono::Local) + chrono::Duration::from_std(f - base).unwrap_or_default()
        }
        // The records hold no clock time; the run ended about when its newest file was last written.
        _ => {
            let ended = newest.map_or_else(chrono::Local::now, chrono::DateTime::<chrono::Local>::from);
            ended - chrono::Duration::from_std(wall).unwrap_or_default()
        }
    };
    if let (Some((first, first_path)), Some((o, path))) = (&origin, &other) {
        let first = format!("{first_path}: {} at {}", first.api, first.url);
        let second = format!("{path}: {} at {}", o.api, o.url);
        warnings.push(Warning::MixedRuns { first, second }.into());
    }
    let run = RunOutput {
        stats,
        wall,
        window: wall, // the records say nothing of a deadline: their span is the window
        started_at,
        warnings,
        records_error: None,
        interrupted: false,
        interrupted_after: None,
        stats_lost: false,
        series: seconds.map_or_else(Vec::new, |s| s.rows()),
        breakdown,
        server: Vec::new(), // records hold requests only: the server's side is the live run's
        steady: None,       // nor where the load reached its level and stopped growing
    };
    Ok(Rebuilt { run, origin: origin.map(|(o, _)| o) })
}

/// How a record's request ended, for the breakdown by key and prompt.
fn ended(r: &Record) -> Ended {
    match r.outcome.as_str() {
        "ok" => Ended::Ok(r.ttft_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))),
        "cancelled" => Ended::Cancelled,
        _ => Ended::Failed,
    }
}

fn min_some(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where records go on the rebuilt run's timeline.
#[derive(Debug, Clone, Copy)]
struct Timeline {
    /// The instant the run's start maps to.
    base: Instant,
    /// The earliest run start by the wall clock (ms since the epoch), when records carry it:
    /// records that do are placed by `start_unix_ms`, the others by `start_ms`.
    epoch_ms: Option<f64>,
}

/// What each file's first record says of its run, read before the whole files are: the run
/// every file must share, and the earliest wall-clock run start.
struct Runs {
    /// The first run id met and the file it is in.
    first: Option<(String, String)>,
    epoch_ms: Option<f64>,
}

/// Reads each file's first record (of run `only`, when given): a run id that differs from the
/// first file's is refused before anything else is read, and the earliest run start is the
/// timeline's start.
fn first_records(paths: &[String], only: Option<&str>) -> Result<Runs, Error> {
    let mut runs = Runs { first: None, epoch_ms: None };
    for path in paths {
        let mut r = BufReader::new(files::open("report", path, cap::RECORDS)?);
        let Some(rec) = first_record(&mut r, path, only)? else { continue };
        if let Some(id) = &rec.run_id {
            runs.check(path, std::slice::from_ref(id))?;
            if runs.first.is_none() {
                runs.first = Some((id.clone(), path.clone()));
            }
        }
        // Each record's run start by the wall clock: its start by the clock less its start in the run.
        if let Some(unix) = rec.start_unix_ms {
            let run_start = unix - rec.start_ms;
            runs.epoch_ms = Some(runs.epoch_ms.map_or(run_start, |e| e.min(run_start)));
        }
    }
    Ok(runs)
}

/// The first record in `r` (of run `only`, when given), if there is one. Blank lines are
/// skipped; a first line that is no record is `read`'s error to report.
fn first_record(r: &mut impl BufRead, path: &str, only: Option<&str>) -> Result<Option<Record>, Error> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r.by_ref().take(MAX_RECORD_BYTES).read_until(b'\n', &mut line);
        if n.map_err(|e| Error::file("report", path, format!("cannot be read ({e})")))? == 0 {
            return Ok(None);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(only) = only else { return Ok(serde_json::from_slice::<Record>(&line).ok()) };
        // A record of another run is skipped without parsing the rest of it.
        if serde_json::from_slice::<RunId>(&line).is_ok_and(|id| id.run_id.as_deref() == Some(only)) {
            return Ok(serde_json::from_slice::<Record>(&line).ok());
        }
    }
}

/// A record's run id, and nothing else of it.
#[derive(serde::Deserialize)]
struct RunId {
    #[serde(default)]
    run_id: Option<String>,
}

/// The levels of a sweep, as its records name them.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepLevels {
    /// The sweep's run id: each level's is `<this>:<label>`.
    pub run_id: String,
    /// Each level once, in the order its first record was met (the order the sweep ran them).
    pub levels: Vec<SweepLevel>,
}

/// One level of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepLevel {
    /// The run id its records carry.
    pub run_id: String,
    /// `c8`, `r12.500`: as the sweep labelled it.
    pub label: String,
    pub variable: Variable,
    pub value: f64,
    /// The run ids of its runs when the sweep repeated each level (`--repeat`), in the order
    /// run; empty when it did not.
    pub runs: Vec<String>,
}

/// The levels of the sweep whose records `paths` hold, or `None` when they are not a sweep's:
/// a sweep's records each carry the run id `<sweep>:<label>`, the same sweep for all and a
/// level label (`c8`, `r12.5`) each. Only a file whose first record's run id is a level's is
/// read through (every line, its run id alone parsed); a line that is no record is skipped
/// here, for `rebuild` to report.
pub fn sweep_levels(paths: &[String]) -> Result<Option<SweepLevels>, Error> {
    let Some(ids) = run_ids(paths, |id| level_of(id).is_some())? else { return Ok(None) };
    let mut sweep: Option<SweepLevels> = None;
    for run_id in ids {
        let Some((prefix, level)) = level_of(&run_id) else { return Ok(None) };
        let s = sweep.get_or_insert_with(|| SweepLevels { run_id: prefix.to_string(), levels: Vec::new() });
        if s.run_id != prefix {
            return Ok(None);
        }
        let repeat = (level.run_id != run_id).then_some(run_id);
        match s.levels.iter_mut().find(|l| l.run_id == level.run_id) {
            Some(l) => l.runs.extend(repeat),
            None => s.levels.push(SweepLevel { runs: repeat.into_iter().collect(), ..level }),
        }
    }
    Ok(sweep)
}

/// The runs of a repeated test (`run --repeat`) whose records `paths` hold, in the order run,
/// or `None` when they are not one's: each record carries the run id `<test>:rep<k>`, the same
/// test for all.
pub fn repeat_runs(paths: &[String]) -> Result<Option<Vec<String>>, Error> {
    let Some(ids) = run_ids(paths, |id| repeat_of(id).is_some())? else { return Ok(None) };
    let test = ids.first().and_then(|id| repeat_of(id)).map(|(test, _)| test.to_string());
    let same = ids.iter().all(|id| repeat_of(id).is_some_and(|(t, _)| Some(t) == test.as_deref()));
    Ok(same.then_some(ids).filter(|ids| !ids.is_empty()))
}

/// The test's run id and the run's number in a repeated run's id (`<test>:rep<k>`).
fn repeat_of(run_id: &str) -> Option<(&str, u32)> {
    let (test, k) = run_id.rsplit_once(":rep")?;
    Some((test, k.parse().ok().filter(|&k| k > 0)?)).filter(|(t, _)| !t.is_empty())
}

/// Every run id the records `paths` hold, each once, in the order first met; `None` as soon as
/// one fails `fits`. Only a file whose first record's run id fits is read through (every line,
/// its run id alone parsed); a line that is no record is skipped here, for `rebuild` to report.
fn run_ids(paths: &[String], fits: impl Fn(&str) -> bool) -> Result<Option<Vec<String>>, Error> {
    let mut ids: Vec<String> = Vec::new();
    for path in paths {
        let mut r = BufReader::new(files::open("report", path, cap::RECORDS)?);
        let Some(first) = first_record(&mut r, path, None)? else { continue };
        let mut next = Some(first.run_id);
        let mut line = Vec::new();
        loop {
            let run_id = match next.take() {
                Some(id) => id,
                None => {
                    line.clear();
                    let n = r.by_ref().take(MAX_RECORD_BYTES).read_until(b'\n', &mut line);
                    if n.map_err(|e| Error::file("report", path, format!("cannot be read ({e})")))? == 0 {
                        break;
                    }
                    let Ok(RunId { run_id }) = serde_json::from_slice::<RunId>(&line) else { continue };
                    run_id
                }
            };
            let Some(id) = run_id.filter(|id| fits(id)) else { return Ok(None) };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(Some(ids))
}

/// The sweep's run id and the level a level's run id (`<sweep>:<label>`, or a repeat of it,
/// `<sweep>:<label>:rep<k>`) names.
fn level_of(run_id: &str) -> Option<(&str, SweepLevel)> {
    let level_id = repeat_of(run_id).map_or(run_id, |(level, _)| level);
    let (prefix, label) = level_id.rsplit_once(':')?;
    let (variable, value) = Variable::parse_label(label)?;
    let level = SweepLevel {
        run_id: level_id.to_string(),
        label: label.to_string(),
        variable,
        value,
        runs: Vec::new(),
    };
    (!prefix.is_empty()).then_some((prefix, level))
}

impl Runs {
    /// Refuses the run ids found in `path` unless they are the first file's.
    fn check(&self, path: &str, ids: &[String]) -> Result<(), Error> {
        if let [a, b, ..] = ids {
            return Err(Error::Usage(format!(
                "{path} holds records of two runs (run_id {a} and {b}): give each run's records file on its own"
            )));
        }
        match (&self.first, ids.first()) {
            (Some((first, first_path)), Some(id)) if first != id => Err(Error::Usage(format!(
                "the records come from different runs: {first_path} has run_id {first}, {path} has run_id {id}; report each run on its own (shards of one run share a run id: start them with the same --start-at or --run-id)"
            ))),
            _ => Ok(()),
        }
    }
}

/// The shards the files hold, each once.
#[derive(Default)]
struct Shards {
    /// Each shard and the file holding it.
    seen: std::collections::BTreeMap<Shard, String>,
}

impl Shards {
    fn add(&mut self, path: &str, shards: &[Shard]) -> Result<(), Error> {
        for &s in shards {
            if let Some((&other, other_path)) = self.seen.iter().find(|(o, _)| o.count != s.count) {
                return Err(Error::Usage(format!(
                    "{other_path} holds shard {other} and {path} shard {s} of the same run: its shards must agree on their count"
                )));
            }
            match self.seen.get(&s) {
                Some(other) if other != path => {
                    return Err(Error::Usage(format!(
                        "{other} and {path} both hold shard {s}: give each shard's records file once"
                    )));
                }
                Some(_) => {}
                None => {
                    self.seen.insert(s, path.to_string());
                }
            }
        }
        Ok(())
    }

    /// The warning naming the shards no file held, if some did and some did not.
    fn missing(&self) -> Option<Warning> {
        let count = self.seen.keys().next()?.count;
        let missing: Vec<String> = (0..count)
            .filter(|&i| !self.seen.contains_key(&Shard { index: i, count }))
            .map(|i| format!("{i}/{count}"))
            .collect();
        let given = self.seen.len();
        (!missing.is_empty()).then_some(Warning::MissingShards { missing, given, count })
    }
}

/// What one file added.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    /// First start to last end.
    span: Duration,
    /// The first start and the last end, on the rebuilt run's timeline.
    first: Option<Instant>,
    last: Option<Instant>,
    /// Whether every record carried its wall-clock start.
    all_stamped: bool,
    partial_last_line: bool,
    /// The distinct origins its records name, in order; at most two (a second says they differ).
    origins: Vec<Origin>,
    /// The distinct run ids, in order; at most two.
    run_ids: Vec<String>,
    /// The distinct shards its records name, in order.
    shards: Vec<Shard>,
    /// The last shard text met, parsed already (a file's records name one shard).
    shard_text: Option<String>,
}

impl Part {
    fn new() -> Part {
        Part {
            span: Duration::ZERO,
            first: None,
            last: None,
            all_stamped: true,
            partial_last_line: false,
            origins: Vec::new(),
            run_ids: Vec::new(),
            shards: Vec::new(),
            shard_text: None,
        }
    }

    /// Adds what the records after this part's noted (`later`): as if they had been noted here.
    fn append(&mut self, later: &Part) {
        (self.first, self.last) = (min_some(self.first, later.first), later.last.max(self.last));
        self.all_stamped &= later.all_stamped;
        self.partial_last_line |= later.partial_last_line;
        for s in &later.shards {
            self.shard(*s);
        }
        for id in &later.run_ids {
            self.run_id(id);
        }
        for o in &later.origins {
            if self.origins.len() < 2 && !self.origins.contains(o) {
                self.origins.push(o.clone());
            }
        }
    }

    fn shard(&mut self, s: Shard) {
        if !self.shards.contains(&s) {
            self.shards.push(s);
        }
    }

    fn run_id(&mut self, id: &str) {
        if self.run_ids.len() < 2 && !self.run_ids.iter().any(|r| r == id) {
            self.run_ids.push(id.to_string());
        }
    }
}

/// How `read` splits a file: up to `threads` workers each parse `chunk` bytes (whole lines) at
/// a time, and the chunks are merged in file order.
#[derive(Debug, Clone, Copy)]
struct Split {
    chunk: usize,
    threads: usize,
}

impl Split {
    /// `CHUNK_BYTES` at a time, on every CPU the process may use.
    fn machine() -> Split {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Split { chunk: CHUNK_BYTES, threads }
    }
}

/// Where one file's records go: the run's statistics, its series and breakdown, and `each`.
struct Sink<'a, 'f> {
    stats: &'a mut RunStats,
    series: Option<&'a mut SeriesBuilder>,
    breakdown: &'a mut Breakdown,
    each: Option<&'a mut (dyn FnMut(&Record) + 'f)>,
    /// Only the records of this run go anywhere; the others are skipped.
    only: Option<&'a str>,
}

/// What every worker needs to parse a chunk.
struct Context {
    timeline: Timeline,
    max_line: u64,
    /// Empty statistics and series part that judge and bucket as the run's do.
    stats: RunStats,
    series: Option<SeriesBuilder>,
    /// Keep each record for `each`.
    keep: bool,
    /// Skip every record of another run than this.
    only: Option<String>,
}

/// What a worker made of one chunk of whole lines: its own statistics, series part and
/// breakdown entries, merged into the run's in file order, and why it stopped early, if it did.
struct Chunk {
    /// The chunk's bytes, handed back to read the next one into.
    bytes: Vec<u8>,
    stats: RunStats,
    series: Option<SeriesBuilder>,
    /// Each counted record's prompt, key and end, in order: the breakdown gives its TTFT
    /// histograms to the first indexes it meets, so it takes them in file order.
    ended: Vec<(usize, Option<usize>, Ended)>,
    /// The records themselves, for `each` (only when there is one).
    records: Vec<Record>,
    /// Lines read, blank ones and the one it stopped at included.
    lines: u64,
    part: Part,
    /// The error at its last line read, if it stopped at one.
    fault: Option<Fault>,
}

/// Why a chunk stopped before its end.
#[derive(Debug)]
enum Fault {
    TooLong,
    NotARecord(String),
    /// An error that names no line (a shard that is no shard).
    Plain(String),
}

/// `max_line`: the longest line accepted (`MAX_RECORD_BYTES`; smaller in tests). The file is
/// read here, a chunk at a time (whole lines), parsed by `split.threads` workers at once, and
/// their chunks are merged into `sink` in file order: the same statistics, series, breakdown,
/// `each` calls and first error (which line, why) as reading every line here in order.
fn read(
    r: impl Read,
    timeline: Timeline,
    sink: Sink<'_, '_>,
    max_line: u64,
    split: Split,
) -> Result<Part, String> {
    let ctx = Context {
        timeline,
        max_line,
        stats: sink.stats.fresh(),
        series: sink.series.as_deref().map(SeriesBuilder::part),
        keep: sink.each.is_some(),
        only: sink.only.map(str::to_string),
    };
    let threads = split.threads.max(1);
    let (work, todo) = crossbeam_channel::unbounded::<(u64, Vec<u8>)>();
    let (done, parsed) = crossbeam_channel::unbounded::<(u64, std::thread::Result<Chunk>)>();
    std::thread::scope(|scope| {
        for i in 0..threads {
            let (todo, done, ctx) = (todo.clone(), done.clone(), &ctx);
            let worker = move || {
                for (seq, bytes) in todo {
                    let chunk = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(bytes, ctx)));
                    if done.send((seq, chunk)).is_err() {
                        break;
                    }
                }
            };
            if let Err(e) =
                std::thread::Builder::new().name(format!("report-{i}")).spawn_scoped(scope, worker)
                && i == 0
            {
                return Err(format!("cannot be read (no thread to parse it: {e})"));
            }
        }
        drop((todo, done));
        let reader = Reader { r, carry: Vec::new(), chunk: split.chunk.max(1), max_line, done: false };
        let merged = merge_in_order(reader, sink, &work, &parsed, 2 * threads as u64, max_line);
        drop(work);
        merged
    })
}

/// Sends the file's chunks to the workers, at most `ahead` waiting, and merges what they make
/// of them into `sink` in order, stopping at the first error.
fn merge_in_order(
    mut reader: Reader<impl Read>,
    mut sink: Sink<'_, '_>,
    work: &crossbeam_channel::Sender<(u64, Vec<u8>)>,
    parsed: &crossbeam_channel::Receiver<(u64, std::thread::Result<Chunk>)>,
    ahead: u64,
    max_line: u64,
) -> Result<Part, String> {
    let (mut sent, mut merged, mut lines) = (0u64, 0u64, 0u64);
    let (mut waiting, mut spare) = (std::collections::BTreeMap::new(), Vec::new());
    let (mut file, mut read_error) = (Part::new(), None);
    loop {
        while read_error.is_none() && sent - merged < ahead {
            let next = reader.next(spare.pop().unwrap_or_default(), &mut read_error);
            let Some(bytes) = next else { break };
            // The workers live until `work` is dropped.
            work.send((sent, bytes)).map_err(|_| "cannot be read (its parsers stopped)".to_string())?;
            sent += 1;
        }
        if merged == sent {
            break;
        }
        let (seq, chunk) = parsed.recv().map_err(|_| "cannot be read (its parsers stopped)".to_string())?;
        waiting.insert(seq, chunk.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        while let Some(mut c) = waiting.remove(&merged) {
            merged += 1;
            if let Some(each) = sink.each.as_deref_mut() {
                c.records.iter().for_each(&mut *each);
            }
            *sink.stats += &c.stats;
            if let (Some(s), Some(p)) = (sink.series.as_deref_mut(), c.series.take()) {
                s.append(p);
            }
            for &(prompt, key, ended) in &c.ended {
                sink.breakdown.record(prompt, key, ended);
            }
            file.append(&c.part);
            lines += c.lines;
            match c.fault {
                None => {}
                Some(Fault::TooLong) => {
                    return Err(format!(
                        "line {lines} is longer than {max_line} bytes: give files written by --records"
                    ));
                }
                Some(Fault::NotARecord(e)) => {
                    return Err(format!(
                        "line {lines} is not an llmload record ({e}): give files written by --records"
                    ));
                }
                Some(Fault::Plain(e)) => return Err(e),
            }
            spare.push(c.bytes);
        }
    }
    if let Some(e) = read_error {
        return Err(format!("cannot be read ({e})"));
    }
    if let (Some(first), Some(last)) = (file.first, file.last) {
        file.span = last.saturating_duration_since(first);
    }
    Ok(file)
}

/// Reads a file a chunk of whole lines at a time.
struct Reader<R> {
    r: R,
    /// The start of a line the last chunk cut.
    carry: Vec<u8>,
    chunk: usize,
    max_line: u64,
    done: bool,
}

impl<R: Read> Reader<R> {
    /// The next chunk, read into `buf`: whole lines, at least `chunk` bytes unless the file ends
    /// first (its last line may have no newline), or one line longer than `max_line` (the end:
    /// its parser says so). `None` at the end, or after a read failed (`error`, once the lines
    /// read before it are sent).
    fn next(&mut self, mut buf: Vec<u8>, error: &mut Option<std::io::Error>) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        buf.clear();
        buf.append(&mut self.carry);
        let mut target = self.chunk.max(buf.len() + 1);
        loop {
            let want = target - buf.len();
            let read = self.r.by_ref().take(want as u64).read_to_end(&mut buf);
            let line_end = memchr::memrchr(b'\n', &buf);
            match read {
                Err(e) => {
                    (*error, self.done) = (Some(e), true);
                    buf.truncate(line_end.map_or(0, |i| i + 1));
                }
                Ok(n) if n < want => self.done = true,
                Ok(_) => match line_end {
                    Some(i) => self.carry.extend_from_slice(&buf[i + 1..]),
                    None if buf.len() as u64 > self.max_line => self.done = true,
                    // A line longer than a chunk: read on.
                    None => {
                        target += self.chunk;
                        continue;
                    }
                },
            }
            if let (Some(i), false) = (line_end, self.done) {
                buf.truncate(i + 1);
            }
            return (!buf.is_empty()).then_some(buf);
        }
    }
}

/// Parses the lines of one chunk (the file's last may lack its newline).
fn parse(bytes: Vec<u8>, ctx: &Context) -> Chunk {
    let mut c = Chunk {
        bytes: Vec::new(),
        stats: ctx.stats.clone(),
        series: ctx.series.clone(),
        ended: Vec::new(),
        records: Vec::new(),
        lines: 0,
        part: Part::new(),
        fault: None,
    };
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let (line, complete) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..=i], true),
            None => (rest, false),
        };
        rest = &rest[line.len()..];
        c.lines += 1;
        if line.len() as u64 > ctx.max_line {
            c.fault = Some(Fault::TooLong);
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (m, rec) = match measurement(line, ctx.timeline) {
            Ok(parsed) => parsed,
            // SIGKILL can land between a line's bytes; only the last line may be cut.
            Err(_) if !complete => {
                c.part.partial_last_line = true;
                break;
            }
            Err(e) => {
                c.fault = Some(Fault::NotARecord(e));
                break;
            }
        };
        if let Some(only) = &ctx.only
            && rec.run_id.as_ref() != Some(only)
        {
            continue;
        }
        // A warm-up request is in no statistic, the breakdown's neither.
        if !rec.warmup {
            c.ended.push((rec.prompt_index, rec.key_index, ended(&rec)));
        }
        c.part.all_stamped &= rec.start_unix_ms.is_some();
        let noted = note(&mut c.part, &rec);
        if ctx.keep {
            c.records.push(rec);
        }
        if let Err(e) = noted {
            c.fault = Some(Fault::Plain(e));
            break;
        }
        c.part.first = Some(c.part.first.map_or(m.t0, |f| f.min(m.t0)));
        c.part.last = Some(c.part.last.map_or(m.end_at, |l| l.max(m.end_at)));
        c.stats.add(&m);
        if let Some(s) = &mut c.series {
            s.add(&m, ctx.timeline.base);
        }
    }
    c.bytes = bytes;
    c
}

/// The record on `line` and its measurement on the timeline.
fn measurement(line: &[u8], timeline: Timeline) -> Result<(Measurement, Record), String> {
    let mut rec = serde_json::from_slice::<Record>(line).map_err(|e| e.to_string())?;
    // On the wall-clock timeline, a record starts where its wall-clock start falls.
    let (in_run, scheduled, session) = (rec.start_ms, rec.scheduled_ms, rec.session_start_ms);
    if let (Some(epoch), Some(unix)) = (timeline.epoch_ms, rec.start_unix_ms) {
        rec.start_ms = (unix - epoch).max(0.0);
        // Its intended start moves with it.
        rec.scheduled_ms = scheduled.map(|s| s + rec.start_ms - in_run);
        rec.session_start_ms = session.map(|s| s + rec.start_ms - in_run);
    }
    let m = rec.to_measurement(timeline.base);
    (rec.start_ms, rec.scheduled_ms, rec.session_start_ms) = (in_run, scheduled, session);
    Ok((m?, rec))
}

/// Notes the origin, run id and shard `rec` names in `part`.
fn note(part: &mut Part, rec: &Record) -> Result<(), String> {
    if let Some(s) = &rec.shard
        && part.shard_text.as_ref() != Some(s)
    {
        part.shard(s.parse().map_err(|e| format!("shard {s:?} is not INDEX/COUNT ({e})"))?);
        part.shard_text = Some(s.clone());
    }
    if let Some(id) = &rec.run_id {
        part.run_id(id);
    }
    if part.origins.len() < 2
        && let (Some(api), Some(url)) = (&rec.api, &rec.url)
        && !part.origins.iter().any(|o| o.api == *api && o.url == *url)
    {
        part.origins.push(Origin { api: api.clone(), url: url.clone() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::records;
    use crate::measure::{ErrorKind, Outcome};
    use crate::stats::SeriesRow;

    const URL: &str = "http://h/v1/chat-messages";

    /// `read` over `bytes` as `rebuild` calls it.
    fn read_bytes(
        bytes: &[u8],
        timeline: Timeline,
        stats: &mut RunStats,
        series: Option<&mut SeriesBuilder>,
        max_line: u64,
    ) -> Result<Part, String> {
        let sink = Sink { stats, series, breakdown: &mut Breakdown::default(), each: None, only: None };
        read(bytes, timeline, sink, max_line, Split::machine())
    }

    /// The records line of `m` in a run that started at `base`.
    fn line(m: &Measurement, base: Instant, api: &str) -> Vec<u8> {
        records::line(&Record::from_measurement(m, m.t0.duration_since(base), api, URL))
    }

    fn measurement(base: Instant, start_ms: u64, tokens: u64) -> Measurement {
        let t0 = base + Duration::from_millis(start_ms);
        let mut m = Measurement::new(1, 2, Some(0), t0);
        m.status = Some(200);
        m.headers_at = Some(t0 + Duration::from_micros(1_500));
        m.first_event_at = Some(t0 + Duration::from_micros(2_250));
        m.text_at = (0..tokens).map(|i| t0 + Duration::from_micros(50_000 + 10_123 * i)).collect();
        m.first_answer_at = m.text_at.first().copied();
        m.end_at = t0 + Duration::from_millis(200);
        m.usage_output_tokens = Some(tokens);
        m
    }

    #[test]
    fn records_rebuild_the_same_statistics() {
        let base = Instant::now();
        let mut live = RunStats::default();
        let mut live_series = SeriesBuilder::new(true);
        let mut file = Vec::new();
        for i in 0..20 {
            let mut m = measurement(base, 100 * i, 1 + i % 7);
            if i % 5 == 0 {
                m.outcome = Outcome::Failed { kind: ErrorKind::Http(503), message: "busy".into() };
                m.attempts = 3;
            }
            if i % 6 == 0 {
                m.usage_output_tokens = None;
                m.counted_tokens = 4;
                m.warnings.push("malformed event: x".into());
            }
            // One timed read each (records keep only a request's largest lag), some on the user
            // clock; no send lag (records do not keep it).
            if i % 4 == 0 {
                m.user_reads = 1;
            } else {
                m.read_lags_us = vec![30 + i as u32];
            }
            // Dify's own numbers come in seconds with more digits than a microsecond.
            m.server_latency_s = Some(0.123_456_789 * (1 + i) as f64);
            m.server_ttft_s = Some(0.011_111_111);
            live.add(&m);
            live_series.add(&m, base);
            file.extend(line(&m, base, "dify-chat"));
        }
        let mut rebuilt = RunStats::default();
        let mut rebuilt_series = SeriesBuilder::new(true);
        let part = read_bytes(
            &file[..],
            Timeline { base: Instant::now(), epoch_ms: None },
            &mut rebuilt,
            Some(&mut rebuilt_series),
            MAX_RECORD_BYTES,
        )
        .unwrap();
        assert_eq!(rebuilt, live);
        assert_eq!(rebuilt_series.rows(), live_series.rows());
        assert_eq!(rebuilt_series.rows().len(), 3, "requests end up to 2.1 s after the start");
        assert_eq!(rebuilt.server_latency.count(), 16);
        assert_eq!((rebuilt.read_lag.count(), rebuilt.user_reads), (15, 5));
        assert_eq!(part.span, Duration::from_millis(1900 + 200));
        assert!(!part.partial_last_line);
        assert_eq!(part.origins, [Origin { api: "dify-chat".into(), url: URL.into() }]);
    }

    #[test]
    fn a_cut_last_line_is_skipped_and_a_bad_line_is_an_error() {
        let base = Instant::now();
        let mut file = line(&measurement(base, 0, 3), base, "dify-chat");
        let second = line(&measurement(base, 5, 3), base, "dify-chat");
        file.extend_from_slice(&second[..second.len() / 2]);
        let mut stats = RunStats::default();
        let part =
            read_bytes(&file[..], Timeline { base, epoch_ms: None }, &mut stats, None, MAX_RECORD_BYTES)
                .unwrap();
        assert_eq!((stats.ok, part.partial_last_line), (1, true));
        let err = read_bytes(
            &b"{\"not\":\"a record\"}\n"[..],
            Timeline { base, epoch_ms: None },
            &mut RunStats::default(),
            None,
            MAX_RECORD_BYTES,
        )
        .err()
        .unwrap();
        assert!(err.starts_with("line 1 is not an llmload record"), "{err}");
        let err = read_bytes(&b"\n{\"outcome\":\"boom\",\"worker\":0,\"prompt_index\":0,\"key_index\":null,\"status\":null,\"error\":null,\"ttfb_ms\":null,\"ttfe_ms\":null,\"ttft_ms\":null,\"ttfa_ms\":null,\"tpot_ms\":null,\"e2e_ms\":1.0,\"output_tokens\":0,\"token_source\":\"usage\",\"text_events\":0,\"warnings\":[]}\n"[..], Timeline { base, epoch_ms: None }, &mut RunStats::default(), None, MAX_RECORD_BYTES).err().unwrap();
        assert!(err.contains("line 2") && err.contains("unknown outcome \"boom\""), "{err}");
        // A line longer than the limit in the middle of a file is an error, not a cut last line.
        let mut long = line(&measurement(base, 0, 3), base, "dify-chat");
        long.extend(line(&measurement(base, 5, 3), base, "dify-chat"));
        let err =
            read_bytes(&long[..], Timeline { base, epoch_ms: None }, &mut RunStats::default(), None, 64)
                .err()
                .unwrap();
        assert_eq!(err, "line 1 is longer than 64 bytes: give files written by --records");
    }

    /// A file of `n` requests that end out of order (every 9th started 15 s before its
    /// neighbours, so it ends in a second one pass has closed), with failures of several
    /// messages, cancels, warm-ups, blank lines, two APIs, two shards and more prompts than the
    /// breakdown gives histograms to.
    fn mixed(base: Instant, n: u64) -> (Vec<u8>, Vec<Measurement>) {
        let (mut file, mut all) = (Vec::new(), Vec::new());
        for i in 0..n {
            let start = if i % 9 == 4 { (300 * i).saturating_sub(15_000) } else { 300 * i };
            let mut m = measurement(base, start, 1 + i % 5);
            m.prompt_index = ((i * 37) % 401) as usize;
            m.key_index = (i % 3 != 0).then_some((i % 4) as usize);
            // One read on the user clock (what a record without a read lag rebuilds).
            m.user_reads = 1;
            match i % 11 {
                3 => m.outcome = Outcome::Failed { kind: ErrorKind::Http(503), message: format!("busy {i}") },
                5 => m.outcome = Outcome::Cancelled,
                7 => m.warmup = true,
                _ => {}
            }
            let api = if i < n / 2 { "dify-chat" } else { "openai-chat" };
            let start = m.t0.duration_since(base);
            let mut r = Record::from_measurement(&m, start, api, URL);
            let shard = Some(if i % 2 == 0 { "0/2" } else { "1/2" }.to_string());
            records::Stamp { run_id: "r".into(), shard, start_unix_ms: 1e12 }.apply(&mut r, start);
            file.extend(records::line(&r));
            if i % 13 == 0 {
                file.extend_from_slice(b"\n  \n");
            }
            all.push(m);
        }
        (file, all)
    }

    /// What reading `file` in `split` gave: the result, the statistics, series, breakdown and
    /// the records `each` saw.
    type Read = (Result<Part, String>, RunStats, Vec<SeriesRow>, Breakdown, Vec<Record>);

    fn read_split(file: &[u8], base: Instant, max_line: u64, split: Split) -> Read {
        let (mut stats, mut series, mut breakdown) =
            (RunStats::default(), SeriesBuilder::new(true), Breakdown::default());
        let mut seen = Vec::new();
        let mut each = |r: &Record| seen.push(r.clone());
        let sink = Sink {
            stats: &mut stats,
            series: Some(&mut series),
            breakdown: &mut breakdown,
            each: Some(&mut each),
            only: None,
        };
        let part = read(file, Timeline { base, epoch_ms: None }, sink, max_line, split);
        (part, stats, series.rows(), breakdown, seen)
    }

    /// Every way of cutting `file` into chunks and threads reads what one pass does.
    fn same_in_every_split(file: &[u8], base: Instant, max_line: u64) -> Read {
        let one = read_split(file, base, max_line, Split { chunk: 1 << 30, threads: 1 });
        for (chunk, threads) in [(1, 3), (333, 1), (4_096, 3), (100_000, 2)] {
            let got = read_split(file, base, max_line, Split { chunk, threads });
            let at = format!("chunks of {chunk} bytes on {threads} threads");
            assert_eq!(got.0, one.0, "{at}");
            assert!(got.1 == one.1, "statistics differ, {at}");
            assert!(got.2 == one.2, "series differs, {at}");
            assert!(got.3 == one.3, "breakdown differs, {at}");
            assert!(got.4 == one.4, "records seen differ, {at}");
        }
        one
    }

    #[test]
    fn a_file_read_in_chunks_on_threads_gives_what_one_pass_does() {
        let base = Instant::now();
        let (file, all) = mixed(base, 300);
        let (part, stats, series, breakdown, seen) = same_in_every_split(&file, base, MAX_RECORD_BYTES);
        // One pass is what one process counted.
        let (mut live, mut live_series) = (RunStats::default(), SeriesBuilder::new(true));
        for m in &all {
            live.add(m);
            live_series.add(m, base);
        }
        assert!(stats == live && series == live_series.rows(), "one pass differs from the live run");
        let part = part.unwrap();
        let apis: Vec<&str> = part.origins.iter().map(|o| o.api.as_str()).collect();
        assert_eq!(
            (apis, part.run_ids, part.shards.len()),
            (vec!["dify-chat", "openai-chat"], vec!["r".to_string()], 2)
        );
        assert_eq!(seen.len(), 300);
        let untracked = breakdown.prompts.by_index.values().filter(|s| s.ttft.is_none()).count();
        assert!(untracked > 0, "more prompts than the breakdown tracks");
        assert!(!part.partial_last_line);

        // A cut last line is skipped, the same in every split.
        let mut cut = file.clone();
        cut.extend_from_slice(&file[..400]);
        let (part, stats, ..) = same_in_every_split(&cut, base, MAX_RECORD_BYTES);
        assert!(part.unwrap().partial_last_line);
        assert_eq!(stats.total() + stats.warmup, 300);

        // A malformed line, a line too long and a shard that is none stop at the same line
        // with the same message, after the same records.
        let lines: Vec<&[u8]> = file.split_inclusive(|&b| b == b'\n').collect();
        let longest = lines.iter().map(|l| l.len()).max().unwrap() as u64;
        let with = |n: usize, bad: &[u8]| [&lines[..n].concat(), bad, &lines[n..].concat()].concat();
        let (err, .., seen) =
            same_in_every_split(&with(150, b"{\"not\":\"a record\"}\n"), base, MAX_RECORD_BYTES);
        assert_eq!(
            err.err().unwrap(),
            "line 151 is not an llmload record (missing field `worker` at line 1 column 18): give files written by --records"
        );
        let before = lines[..150].iter().filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
        assert_eq!(seen.len(), before, "the records before it");
        let long = [&b"{\"worker\":0"[..], &vec![b' '; longest as usize], b"}\n"].concat();
        let (err, ..) = same_in_every_split(&with(100, &long), base, longest);
        assert_eq!(
            err.err().unwrap(),
            format!("line 101 is longer than {longest} bytes: give files written by --records")
        );
        let text = String::from_utf8(lines[0].to_vec()).unwrap().replace("\"0/2\"", "\"x\"");
        let (err, ..) = same_in_every_split(&with(7, text.as_bytes()), base, MAX_RECORD_BYTES);
        assert!(err.err().unwrap().starts_with("shard \"x\" is not INDEX/COUNT"));
    }

    #[test]
    fn files_rebuilt_in_chunks_on_threads_give_what_one_pass_does() {
        let (b0, epoch) = (Instant::now(), 1_748_779_200_000.0);
        let b1 = b0 + Duration::from_millis(1_500);
        let (mut f0, mut f1) = (Vec::new(), Vec::new());
        for i in 0..200 {
            f0.extend(stamped(&measurement(b0, 40 * i, 2 + i % 3), b0, "r", "0/2", epoch));
            f1.extend(stamped(&measurement(b1, 35 * i, 9), b1, "r", "1/2", epoch + 1_500.0));
        }
        // Shard 1's file ends in a cut line.
        let half = f1[..f1.len() / 300].to_vec();
        f1.extend(half);
        let paths = files("splits", &[f0, f1]);
        let run = |split| {
            let mut seen = Vec::new();
            let mut each = |r: &Record| seen.push(r.clone());
            let r = rebuild_split(&paths, None, true, None, Some(&mut each), split).unwrap().run;
            let warnings: Vec<String> = r.warnings.iter().map(|w| w.en.clone()).collect();
            (r.stats, r.series, r.breakdown, warnings, r.wall, r.started_at, seen)
        };
        let one = run(Split { chunk: 1 << 30, threads: 1 });
        assert_eq!(one.3.len(), 1, "{:?}", one.3);
        assert!(one.3[0].contains("splits/shard-1.jsonl"), "{:?}", one.3);
        for split in [Split { chunk: 1, threads: 2 }, Split { chunk: 700, threads: 3 }, Split::machine()] {
            assert!(run(split) == one, "{split:?}");
        }
    }

    #[test]
    fn origins_are_the_distinct_runs_named_in_order() {
        let base = Instant::now();
        let mut file = Vec::new();
        for api in ["dify-chat", "dify-chat", "openai-chat", "anthropic", "dify-chat"] {
            file.extend(line(&measurement(base, 0, 3), base, api));
        }
        // Records written before they named their run add none.
        let mut old: serde_json::Value =
            serde_json::from_slice(&line(&measurement(base, 0, 3), base, "x")).unwrap();
        old.as_object_mut().unwrap().retain(|k, _| k != "api" && k != "url");
        file.extend(format!("{old}\n").into_bytes());
        let mut stats = RunStats::default();
        let part =
            read_bytes(&file[..], Timeline { base, epoch_ms: None }, &mut stats, None, MAX_RECORD_BYTES)
                .unwrap();
        assert_eq!(stats.ok, 6);
        let apis: Vec<&str> = part.origins.iter().map(|o| o.api.as_str()).collect();
        assert_eq!(apis, ["dify-chat", "openai-chat"]);
    }

    /// The records line of `m`, stamped as shard `shard` of `run` whose start was `epoch_ms`.
    #[test]
    fn a_sweeps_records_give_its_levels_and_each_level_alone() {
        let (b, epoch) = (Instant::now(), 1_748_779_200_000.0);
        let level = |run: &str, n: u64, run_start: f64| -> Vec<u8> {
            (0..n).flat_map(|i| stamped(&measurement(b, 100 * i, 4), b, run, "0/1", run_start)).collect()
        };
        let sweep = [level("s-1:c1", 3, epoch), level("s-1:r2.500", 2, epoch + 5_000.0)].concat();
        let paths = files("sweep-levels", &[sweep]);
        let found = sweep_levels(&paths).unwrap().unwrap();
        let got: Vec<(&str, &str, Variable, f64)> =
            found.levels.iter().map(|l| (l.run_id.as_str(), l.label.as_str(), l.variable, l.value)).collect();
        assert_eq!(found.run_id, "s-1");
        assert_eq!(
            got,
            [("s-1:c1", "c1", Variable::Concurrency, 1.0), ("s-1:r2.500", "r2.500", Variable::Rate, 2.5)]
        );
        // A level alone: its records only, on its own timeline (from its own run start).
        let r = rebuild_run(&paths, "s-1:r2.500", false, None, None).unwrap().run;
        assert_eq!(r.stats.total(), 2);
        assert_eq!(r.started_at.timestamp_millis(), (epoch + 5_000.0) as i64);
        assert_eq!(rebuild_run(&paths, "s-1:c1", false, None, None).unwrap().run.stats.total(), 3);
        // Not a sweep's: a run's own id, or levels of two sweeps.
        let plain = files("sweep-levels-plain", &[level("r", 2, epoch)]);
        assert_eq!(sweep_levels(&plain).unwrap(), None);
        let two =
            files("sweep-levels-two", &[[level("s-1:c1", 2, epoch), level("t-2:c2", 2, epoch)].concat()]);
        assert_eq!(sweep_levels(&two).unwrap(), None);
    }

    fn stamped(m: &Measurement, base: Instant, run: &str, shard: &str, epoch_ms: f64) -> Vec<u8> {
        let start = m.t0.duration_since(base);
        let mut r = Record::from_measurement(m, start, "dify-chat", URL);
        let stamp = records::Stamp { run_id: run.into(), shard: Some(shard.into()), start_unix_ms: epoch_ms };
        stamp.apply(&mut r, start);
        records::line(&r)
    }

    fn files(name: &str, contents: &[Vec<u8>]) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("llmload-rebuild-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = dir.join(format!("shard-{i}.jsonl"));
                std::fs::write(&p, c).unwrap();
                p.to_string_lossy().into_owned()
            })
            .collect()
    }

    #[test]
    fn shards_merge_on_the_wall_clock_as_one_process_would_count_them() {
        // Shard 1's run started 1.5 s after shard 0's; one process would have seen all 12 requests.
        let (b0, epoch) = (Instant::now(), 1_748_779_200_000.0);
        let b1 = b0 + Duration::from_millis(1_500);
        let (mut live, mut live_series) = (RunStats::default(), SeriesBuilder::new(false));
        let (mut f0, mut f1) = (Vec::new(), Vec::new());
        for i in 0..6 {
            let (mut m0, mut m1) = (measurement(b0, 300 * i, 2 + i), measurement(b1, 250 * i, 9));
            // One read each on the user clock (what a record without a read lag rebuilds).
            (m0.user_reads, m1.user_reads) = (1, 1);
            f0.extend(stamped(&m0, b0, "r", "0/2", epoch));
            f1.extend(stamped(&m1, b1, "r", "1/2", epoch + 1_500.0));
            for m in [m0, m1] {
                live.add(&m);
                live_series.add(&m, b0);
            }
        }
        let rebuilt = rebuild(&files("merge", &[f1, f0]), true, None, None).unwrap();
        assert!(rebuilt.run.stats == live, "the merged statistics differ from one process's");
        assert!(rebuilt.run.series == live_series.rows(), "the merged series differs from one process's");
        // From shard 0's first start to shard 1's last end (1.5 s + 1.25 s + 0.2 s).
        assert_eq!(rebuilt.run.wall, Duration::from_millis(2_950));
        assert_eq!(rebuilt.run.started_at.timestamp_millis(), 1_748_779_200_000);
        assert!(rebuilt.run.warnings.is_empty(), "{:?}", rebuilt.run.warnings);
    }

    #[test]
    fn other_runs_are_refused_and_missing_shards_named() {
        let base = Instant::now();
        let m = measurement(base, 0, 3);
        let paths = files("runs", &[stamped(&m, base, "a", "0/2", 0.0), stamped(&m, base, "b", "1/2", 0.0)]);
        let err = rebuild(&paths, false, None, None).err().unwrap().to_string();
        assert_eq!(
            err,
            format!(
                "the records come from different runs: {} has run_id a, {} has run_id b; report each run on its own (shards of one run share a run id: start them with the same --start-at or --run-id)",
                paths[0], paths[1]
            )
        );
        // Two runs in one file.
        let mut both = stamped(&m, base, "a", "0/1", 0.0);
        both.extend(stamped(&m, base, "b", "0/1", 0.0));
        let one = files("two-in-one", &[both]);
        let err = rebuild(&one, false, None, None).err().unwrap().to_string();
        assert!(
            err.ends_with(
                "holds records of two runs (run_id a and b): give each run's records file on its own"
            ),
            "{err}"
        );
        // Shards 0 and 2 of 4: 1 and 3 are named.
        let paths =
            files("missing", &[stamped(&m, base, "r", "0/4", 0.0), stamped(&m, base, "r", "2/4", 0.0)]);
        let rebuilt = rebuild(&paths, false, None, None).unwrap();
        let warnings: Vec<&str> = rebuilt.run.warnings.iter().map(|w| w.en.as_str()).collect();
        assert_eq!(
            warnings,
            [
                "shards 1/4, 3/4 of the run are missing: the totals cover 2 of 4 shards; give every shard's records file"
            ]
        );
        // The same shard twice would count its requests twice.
        let twice = files("twice", &[stamped(&m, base, "r", "1/2", 0.0), stamped(&m, base, "r", "1/2", 0.0)]);
        let err = rebuild(&twice, false, None, None).err().unwrap().to_string();
        assert!(err.ends_with("both hold shard 1/2: give each shard's records file once"), "{err}");
        let counts =
            files("counts", &[stamped(&m, base, "r", "0/2", 0.0), stamped(&m, base, "r", "1/3", 0.0)]);
        let err = rebuild(&counts, false, None, None).err().unwrap().to_string();
        assert!(err.ends_with("of the same run: its shards must agree on their count"), "{err}");
    }
}
