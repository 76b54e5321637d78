//! The load-model flags: closed loop (`-c`, one request after another per worker) or open loop
//! (`--rate` with `--arrival`, `--burstiness`, `--seed`, `--max-concurrency`), and `--warmup`.
//! `--seed` also draws synthetic prompt and output lengths, so it stands without `--rate` when
//! `--prompt-tokens` or `--output-tokens` is given.
//! Every combination that cannot mean what the user wants is refused here, naming the flags.

use super::duration;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::workload::{Arrival, OpenLoop, Warmup};
use std::time::Duration;

/// The most requests a second `--rate` accepts: far above what one client can time (the
/// dispatcher's own ceiling is in benches/README.md).
const MAX_RATE: f64 = 100_000.0;
/// `--max-concurrency`'s default: the largest worker pool tested.
pub const DEFAULT_MAX_CONCURRENCY: usize = 10_000;

/// The open-loop load, or `None` for a closed loop; errors name the flags that clash.
pub fn open_loop(a: &RunArgs) -> Result<Option<OpenLoop>, Error> {
    let Some(rate) = a.rate else {
        for (flag, given) in [
            ("--arrival", a.arrival.is_some()),
            ("--burstiness", a.burstiness.is_some()),
            // --seed also orders a --dataset and draws synthetic lengths and prefixes.
            (
                "--seed",
                a.seed.is_some()
                    && a.dataset.is_none()
                    && a.prompt_tokens.is_none()
                    && a.output_tokens.is_none(),
            ),
            // --trace is an open loop at the trace's instants.
            ("--max-concurrency", a.max_concurrency.is_some() && a.trace.is_none()),
        ] {
            if given && flag == "--seed" {
                return Err(Error::Usage(
                    "--seed draws the --rate schedule and synthetic lengths: give --rate, --prompt-tokens or --output-tokens too, or leave --seed out"
                        .into(),
                ));
            }
            if given {
                return Err(Error::Usage(format!(
                    "{flag} shapes an open-loop load: give --rate too (requests a second), or leave {flag} out"
                )));
            }
        }
        return Ok(None);
    };
    if let Some(c) = a.concurrency.or(a.threads) {
        let flag = if a.concurrency.is_some() { "--concurrency" } else { "--threads" };
        return Err(Error::Usage(format!(
            "--rate {rate} and {flag} {c} are two load models: --rate starts requests on a schedule \
             (cap those in flight with --max-concurrency), {flag} keeps that many in flight; give one"
        )));
    }
    if !(rate > 0.0 && rate <= MAX_RATE) {
        return Err(Error::flag(
            "--rate",
            rate.to_string(),
            format!("must be above 0 and at most {MAX_RATE}"),
        ));
    }
    let arrival = match a.arrival.as_deref().unwrap_or("poisson") {
        "constant" => Arrival::Constant,
        "poisson" => Arrival::Poisson,
        "gamma" => Arrival::Gamma(a.burstiness.unwrap_or(1.0)),
        other => return Err(Error::flag("--arrival", other, format!("give {}", Arrival::CHOICES))),
    };
    match (a.burstiness, arrival) {
        (Some(_), Arrival::Constant | Arrival::Poisson) => {
            return Err(Error::Usage(format!(
                "--burstiness is the shape of --arrival gamma, not of {}: add --arrival gamma",
                arrival.name()
            )));
        }
        (Some(k), _) if !(k > 0.0 && k.is_finite()) => {
            return Err(Error::flag("--burstiness", k.to_string(), "must be above 0 (1 is Poisson)"));
        }
        _ => {}
    }
    Ok(Some(OpenLoop { rate, arrival, seed: a.seed.unwrap_or(1) }))
}

/// `--max-concurrency`, for an open loop, within `max`.
pub fn max_concurrency(a: &RunArgs, max: usize) -> Result<usize, Error> {
    match a.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY) {
        0 => Err(Error::flag("--max-concurrency", "0", "must be at least 1")),
        m if m > max => Err(Error::flag("--max-concurrency", m.to_string(), format!("at most {max}"))),
        m => Ok(m),
    }
}

/// `--warmup`: a time with its unit (`30s`), or a bare count of requests; it must leave part
/// of the run (`-d`, `-n`) to measure.
pub fn warmup(a: &RunArgs, run_for: Option<Duration>) -> Result<Option<Warmup>, Error> {
    let Some(given) = a.warmup.as_deref() else { return Ok(None) };
    let w = match given.trim().parse::<u64>() {
        Ok(n) => Warmup::Requests(n),
        Err(_) => Warmup::Time(duration("--warmup", given).map_err(|_| {
            Error::flag("--warmup", given, "give a time with its unit (30s, 2m) or a count of requests (100)")
        })?),
    };
    match w {
        Warmup::Requests(0) | Warmup::Time(Duration::ZERO) => {
            Err(Error::flag("--warmup", given, "must be more than 0, or leave it out"))
        }
        Warmup::Requests(n) if a.requests.is_some_and(|total| n >= total) => Err(Error::flag(
            "--warmup",
            given,
            format!("would cover all {} requests of -n: lower it, or raise -n", a.requests.unwrap_or(0)),
        )),
        Warmup::Time(d) if run_for.is_some_and(|r| d >= r) => {
            Err(Error::flag("--warmup", given, "would cover the whole --duration: lower it, or run longer"))
        }
        w => Ok(Some(w)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut RunArgs)) -> RunArgs {
        let mut a = RunArgs::default();
        f(&mut a);
        a
    }

    fn refused(f: impl FnOnce(&mut RunArgs)) -> String {
        let a = args(f);
        match open_loop(&a).and_then(|_| warmup(&a, Some(Duration::from_secs(10))).map(|_| ())) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("accepted"),
        }
    }

    #[test]
    fn rates_arrivals_and_seeds() {
        let a = args(|a| (a.rate, a.arrival, a.burstiness) = (Some(20.0), Some("gamma".into()), Some(0.5)));
        assert_eq!(
            open_loop(&a).unwrap(),
            Some(OpenLoop { rate: 20.0, arrival: Arrival::Gamma(0.5), seed: 1 })
        );
        let a = args(|a| (a.rate, a.seed) = (Some(5.0), Some(7)));
        assert_eq!(open_loop(&a).unwrap(), Some(OpenLoop { rate: 5.0, arrival: Arrival::Poisson, seed: 7 }));
        assert_eq!(open_loop(&RunArgs::default()).unwrap(), None);
        assert_eq!(max_concurrency(&a, 10_000).unwrap(), DEFAULT_MAX_CONCURRENCY);
    }

    #[test]
    fn every_clash_is_named() {
        assert!(refused(|a| a.rate = Some(0.0)).contains("--rate \"0\" is invalid: must be above 0"));
        assert!(refused(|a| a.rate = Some(-3.0)).contains("must be above 0"));
        assert!(
            refused(|a| (a.rate, a.concurrency) = (Some(5.0), Some(8)))
                .contains("--rate 5 and --concurrency 8")
        );
        assert!(refused(|a| (a.rate, a.threads) = (Some(5.0), Some(8))).contains("and --threads 8"));
        assert!(
            refused(|a| a.arrival = Some("poisson".into())).starts_with("--arrival shapes an open-loop load")
        );
        assert!(refused(|a| a.max_concurrency = Some(4)).contains("give --rate too"));
        assert!(
            refused(|a| a.seed = Some(4))
                .starts_with("--seed draws the --rate schedule and synthetic lengths")
        );
        assert_eq!(
            open_loop(&args(|a| (a.seed, a.prompt_tokens) = (Some(4), Some("9".into())))).unwrap(),
            None
        );
        assert_eq!(
            open_loop(&args(|a| (a.seed, a.output_tokens) = (Some(4), Some("9".into())))).unwrap(),
            None
        );
        let b = refused(|a| (a.rate, a.burstiness) = (Some(5.0), Some(0.5)));
        assert!(b.contains("--burstiness is the shape of --arrival gamma, not of poisson"), "{b}");
        let b = refused(|a| (a.rate, a.arrival, a.burstiness) = (Some(5.0), Some("gamma".into()), Some(0.0)));
        assert!(b.contains("--burstiness \"0\" is invalid"), "{b}");
        assert!(
            refused(|a| (a.rate, a.arrival) = (Some(5.0), Some("burst".into())))
                .contains("constant, poisson or gamma")
        );
        assert!(refused(|a| a.warmup = Some("10s".into())).contains("would cover the whole --duration"));
        assert!(
            refused(|a| (a.warmup, a.requests) = (Some("50".into()), Some(50))).contains("all 50 requests")
        );
        assert!(refused(|a| a.warmup = Some("soon".into())).contains("a count of requests"));
        assert!(refused(|a| a.warmup = Some("0".into())).contains("must be more than 0"));
    }

    #[test]
    fn warmups_by_time_or_count() {
        let w = |s: &str| warmup(&args(|a| a.warmup = Some(s.into())), None).unwrap();
        assert_eq!(w("30s"), Some(Warmup::Time(Duration::from_secs(30))));
        assert_eq!(w("100"), Some(Warmup::Requests(100)));
        assert_eq!(warmup(&RunArgs::default(), None).unwrap(), None);
    }
}
