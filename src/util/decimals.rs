//! How many decimals a float keeps in the JSON outputs, so the summary and the records show
//! `412.381`, not `412.38100000000003`. Microsecond resolution is all a measurement has: times
//! in milliseconds and rates keep three decimals (`three`), seconds and shares keep six (`six`).
//! The derived output types apply these as `serialize_with`; nothing else rounds for output.

use serde::{Serialize, Serializer};

/// `v` rounded to `places` decimals; a value too large to scale is kept as it is.
pub fn round(v: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    let r = (v * scale).round() / scale;
    if r.is_finite() { r } else { v }
}

/// A float, an optional float or a list of floats, written rounded without a copy.
pub trait Round {
    fn serialize_rounded<S: Serializer>(&self, places: i32, s: S) -> Result<S::Ok, S::Error>;
}

impl Round for f64 {
    fn serialize_rounded<S: Serializer>(&self, places: i32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round(*self, places))
    }
}

impl<T: Round> Round for Option<T> {
    fn serialize_rounded<S: Serializer>(&self, places: i32, s: S) -> Result<S::Ok, S::Error> {
        match self {
            None => s.serialize_none(),
            Some(v) => s.serialize_some(&Places(v, places)),
        }
    }
}

impl<T: Round> Round for Vec<T> {
    fn serialize_rounded<S: Serializer>(&self, places: i32, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|v| Places(v, places)))
    }
}

impl<T: Round, const N: usize> Round for [T; N] {
    fn serialize_rounded<S: Serializer>(&self, places: i32, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|v| Places(v, places)))
    }
}

/// One value and its decimals, for the elements of an option or a list.
struct Places<'a, T>(&'a T, i32);

impl<T: Round> Serialize for Places<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_rounded(self.1, s)
    }
}

/// `serialize_with` for milliseconds (to the microsecond), rates and percentages.
pub fn three<T: Round, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.serialize_rounded(3, s)
}

/// `serialize_with` for seconds (to the microsecond) and shares of 1.
pub fn six<T: Round, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.serialize_rounded(6, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        #[serde(serialize_with = "three")]
        ms: f64,
        #[serde(serialize_with = "three")]
        maybe: Option<f64>,
        #[serde(serialize_with = "three")]
        none: Option<f64>,
        #[serde(serialize_with = "three")]
        gaps: Vec<f64>,
        #[serde(serialize_with = "six")]
        secs: f64,
    }

    #[test]
    fn floats_lose_their_binary_tails() {
        let s = Sample {
            ms: 412.38100000000003,
            maybe: Some(0.1 + 0.2),
            none: None,
            gaps: vec![1.2344, 2.0 / 3.0],
            secs: 1.0 / 3.0,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"ms":412.381,"maybe":0.3,"none":null,"gaps":[1.234,0.667],"secs":0.333333}"#
        );
        assert_eq!(round(f64::MAX, 6), f64::MAX);
        assert_eq!(round(19.9996, 3), 20.0);
    }
}
