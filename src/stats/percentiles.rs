//! `--percentiles`: which percentiles a summary reports (`50,90,99,99.9`), checked, and how each
//! is named (`p99.9`) in the JSON, the tables and a threshold. It does not compute them (the
//! histogram does, with its ≤ 0.1 % error) nor decide where they are shown.

use std::fmt;

/// The most percentiles one summary reports: each is a column of every table.
pub const MAX: usize = 10;

/// The percentiles reported without `--percentiles`, and always computed (the verdict, sweep
/// tables, the capacity search and the HTML charts read p50 and p99).
pub const STANDARD: [f64; 4] = [50.0, 90.0, 95.0, 99.0];

/// Percentiles in (0, 100), ascending, no two equal, at most `MAX` (a fixed array, so a
/// `Distribution` holding them stays a plain `Copy` value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    len: u8,
    at: [f64; MAX],
}

impl Default for Percentiles {
    /// The standard four: p50, p90, p95, p99.
    fn default() -> Self {
        let mut at = [0.0; MAX];
        at[..STANDARD.len()].copy_from_slice(&STANDARD);
        Percentiles { len: STANDARD.len() as u8, at }
    }
}

impl Percentiles {
    /// `50,90,99,99.9` (a leading `p` on an item is allowed), sorted and without repeats; or
    /// what is wrong and how to write it.
    pub fn parse(text: &str) -> Result<Percentiles, String> {
        let mut list: Vec<f64> = Vec::new();
        for item in text.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(
                    "it has an empty item: give numbers separated by commas, as in 50,90,99,99.9".into()
                );
            }
            let number = item.strip_prefix('p').unwrap_or(item);
            let p: f64 = number.parse().ok().filter(|p: &f64| p.is_finite()).ok_or_else(|| {
                format!("{item:?} is not a number: give percentiles as numbers, as in 50,90,99,99.9")
            })?;
            if p <= 0.0 || p >= 100.0 {
                return Err(format!(
                    "{item} is not between 0 and 100 (both excluded): min and max are always reported; give e.g. 99.9 for the 99.9th percentile"
                ));
            }
            list.push(p);
        }
        list.sort_by(f64::total_cmp);
        list.dedup();
        if list.len() > MAX {
            return Err(format!("it asks for {} percentiles: give at most {MAX}", list.len()));
        }
        let mut at = [0.0; MAX];
        at[..list.len()].copy_from_slice(&list);
        Ok(Percentiles { len: list.len() as u8, at })
    }

    /// The percentiles, ascending (0–100).
    pub fn as_slice(&self) -> &[f64] {
        &self.at[..self.len as usize]
    }

    /// Whether these are the standard four (the JSON then keeps its default keys).
    pub fn is_standard(&self) -> bool {
        self.as_slice() == STANDARD
    }

    pub fn contains(&self, p: f64) -> bool {
        self.as_slice().contains(&p)
    }
}

/// The percentiles as `--percentiles` takes them: `50,99.9`.
impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.as_slice().iter().enumerate() {
            write!(f, "{}{p}", if i == 0 { "" } else { "," })?;
        }
        Ok(())
    }
}

/// A percentile's name in the JSON, the tables and thresholds: `p50`, `p99.9` (the shortest
/// decimal that reads back as the same number, so `99.90` is `p99.9`).
pub fn name(p: f64) -> String {
    format!("p{p}")
}

/// The percentile a statistic's name gives (`p99.9` → 99.9), when it names one in (0, 100).
pub fn of_name(stat: &str) -> Option<f64> {
    let p: f64 = stat.strip_prefix('p')?.parse().ok()?;
    (p > 0.0 && p < 100.0).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_sorted_deduplicated_and_named() {
        let p = Percentiles::parse(" 99.90, 50 ,p90,99.9,99 ").unwrap();
        assert_eq!(p.as_slice(), [50.0, 90.0, 99.0, 99.9]);
        assert_eq!(p.to_string(), "50,90,99,99.9");
        let names: Vec<String> = p.as_slice().iter().map(|&p| name(p)).collect();
        assert_eq!(names, ["p50", "p90", "p99", "p99.9"]);
        assert_eq!((name(99.99), name(0.1), name(12.5)), ("p99.99".into(), "p0.1".into(), "p12.5".into()));
        assert!(!p.is_standard() && p.contains(99.9) && !p.contains(95.0));
        assert!(Percentiles::default().is_standard());
        assert!(Percentiles::parse("99,95,90,50").unwrap().is_standard());
        assert_eq!(Percentiles::parse("1,2,3,4,5,6,7,8,9,10,10").unwrap().as_slice().len(), 10);
    }

    #[test]
    fn bad_lists_say_what_to_write() {
        let e = |t: &str| Percentiles::parse(t).unwrap_err();
        assert!(e("").starts_with("it has an empty item"), "{}", e(""));
        assert!(e("50,,99").starts_with("it has an empty item"));
        assert!(e("50,abc").starts_with("\"abc\" is not a number"), "{}", e("50,abc"));
        assert!(e("nan").starts_with("\"nan\" is not a number"));
        assert!(e("100").starts_with("100 is not between 0 and 100"), "{}", e("100"));
        assert!(e("0").starts_with("0 is not between 0 and 100"));
        assert!(e("-5").starts_with("-5 is not between 0 and 100"));
        assert!(e("999").contains("give e.g. 99.9"));
        assert_eq!(e("1,2,3,4,5,6,7,8,9,10,11"), "it asks for 11 percentiles: give at most 10");
    }

    #[test]
    fn names_read_back() {
        for p in [50.0, 99.9, 99.99, 0.5] {
            assert_eq!(of_name(&name(p)), Some(p));
        }
        assert_eq!((of_name("p100"), of_name("p0"), of_name("mean"), of_name("p")), (None, None, None, None));
    }
}
