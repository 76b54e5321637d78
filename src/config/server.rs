//! `--server-metrics URL` (repeatable) and `--scrape-interval`: which servers' Prometheus pages
//! the run reads, and how often. Only the checks; the scraping is the engine's.

use super::duration;
use crate::error::Error;
use std::time::Duration;

/// The default time between two scrapes of the same page, and each scrape's timeout.
const EVERY: Duration = Duration::from_secs(1);

/// What the run scrapes: each page's URL, in the order given, and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapePlan {
    pub urls: Vec<String>,
    /// The time between two scrapes; also each scrape's timeout (at least a second), so a slow
    /// page makes the next scrape late by that at most.
    pub every: Duration,
}

/// The plan of `--server-metrics` and `--scrape-interval`; `None` without a URL.
pub fn plan(urls: &[String], interval: Option<&str>) -> Result<Option<ScrapePlan>, Error> {
    let every = interval.map(|d| duration("--scrape-interval", d)).transpose()?;
    if urls.is_empty() {
        return match interval {
            Some(d) => Err(Error::flag(
                "--scrape-interval",
                d,
                "it sets how often --server-metrics pages are read: give --server-metrics URL too",
            )),
            None => Ok(None),
        };
    }
    let every = every.unwrap_or(EVERY);
    if every < Duration::from_millis(100) || every > Duration::from_secs(60) {
        return Err(Error::flag(
            "--scrape-interval",
            interval.unwrap_or_default(),
            "give a time from 100ms to 60s (default 1s)",
        ));
    }
    let mut seen = Vec::new();
    for u in urls {
        let url = page_url(u)?;
        if seen.contains(&url) {
            return Err(Error::flag("--server-metrics", u, "is given twice: give each page once"));
        }
        seen.push(url);
    }
    Ok(Some(ScrapePlan { urls: seen, every }))
}

/// The page's full URL: `http://` added to a bare `host:port`, `/metrics` to a URL without a
/// path (where every serving stack serves its metrics).
fn page_url(given: &str) -> Result<String, Error> {
    let fix =
        "give the metrics page's URL, e.g. http://127.0.0.1:8000/metrics (vLLM serves it on its API port)";
    let s = given.trim();
    let with_scheme = if s.contains("://") { s.to_string() } else { format!("http://{s}") };
    let Some(rest) = with_scheme.strip_prefix("http://").or_else(|| with_scheme.strip_prefix("https://"))
    else {
        return Err(Error::flag(
            "--server-metrics",
            given,
            format!("only http:// and https:// are read: {fix}"),
        ));
    };
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(Error::flag("--server-metrics", given, format!("no host: {fix}")));
    }
    Ok(if path.is_empty() { format!("{}/metrics", with_scheme.trim_end_matches('/')) } else { with_scheme })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(given: &[&str]) -> Vec<String> {
        given.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_bare_host_gets_a_scheme_and_the_metrics_path() {
        let p =
            plan(&urls(&["127.0.0.1:8000", "http://h:9/", "https://h/custom/path"]), None).unwrap().unwrap();
        assert_eq!(p.urls, ["http://127.0.0.1:8000/metrics", "http://h:9/metrics", "https://h/custom/path"]);
        assert_eq!(p.every, Duration::from_secs(1));
        assert_eq!(plan(&[], None).unwrap(), None);
        let p = plan(&urls(&["h:1"]), Some("250ms")).unwrap().unwrap();
        assert_eq!(p.every, Duration::from_millis(250));
    }

    #[test]
    fn bad_pages_and_intervals_name_the_flag_and_the_fix() {
        let cases: &[(&[&str], Option<&str>, &str)] = &[
            (&["ftp://h/metrics"], None, "only http:// and https://"),
            (&["http:///metrics"], None, "no host"),
            (&["h:1", "http://h:1/metrics"], None, "given twice"),
            (&["h:1"], Some("10ms"), "from 100ms to 60s"),
            (&["h:1"], Some("soon"), "--scrape-interval"),
            (&[], Some("1s"), "give --server-metrics URL too"),
        ];
        for (u, every, want) in cases {
            let e = plan(&urls(u), *every).unwrap_err().to_string();
            assert!(e.contains(want), "{u:?} {every:?}: {e}");
        }
    }
}
