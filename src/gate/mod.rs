//! Gates on a run's numbers: `--threshold` expressions (`ttft.p95<500ms`) checked against one
//! JSON summary, and `compare --fail-if` expressions (`ttft.p95>+10%`) checked against the change
//! between two. Pure: text in, parsed expressions or a sentence that points at the bad part and
//! says the fix; a JSON summary in, a verdict out. It reads summaries as JSON (`serde_json`), the
//! same for a live run, `llmload report` and the files `compare` reads, so a gate sees exactly
//! the numbers the JSON holds. The names it knows are in `subject`. Printing is `output`'s.

pub mod fail_if;
pub mod subject;
pub mod threshold;

pub use fail_if::FailIf;
pub use subject::{Kind, Subject};
pub use threshold::{Checked, Threshold};

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// `SUBJECT OP VALUE` split at its comparison: the subject, the operator and the value, each
/// trimmed; or what is wrong.
fn split(expr: &str, example: &str) -> Result<(Subject, Op, String), String> {
    let Some(at) = expr.find(['<', '>']) else {
        let fix = if expr.contains('=') {
            "= is not a comparison here: use <, <=, > or >="
        } else {
            "it has no comparison: use <, <=, > or >="
        };
        return Err(format!("{fix}, as in {example}"));
    };
    let (left, rest) = expr.split_at(at);
    if left.trim_end().ends_with(['!', '=']) {
        return Err(format!(
            "{left:?} ends in a stray character before the comparison: write it as {example}"
        ));
    }
    let (op, right) = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
        (b'<', Some(b'=')) => (Op::Le, &rest[2..]),
        (b'>', Some(b'=')) => (Op::Ge, &rest[2..]),
        (b'<', _) => (Op::Lt, &rest[1..]),
        _ => (Op::Gt, &rest[1..]),
    };
    let right = right.trim();
    if right.is_empty() {
        return Err(format!("nothing follows {}: give a value, as in {example}", op.symbol()));
    }
    if right.contains(['<', '>', '=']) {
        return Err(format!("{right:?} holds a second comparison: give one comparison, as in {example}"));
    }
    Ok((Subject::parse(left)?, op, right.to_string()))
}

/// `text` split into its number and its unit (`1.5s` → 1.5, "s"); `None` when it does not start
/// with a number.
fn number_and_unit(text: &str) -> Option<(f64, &str)> {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '+' || c == '-'))))
        .map_or(text.len(), |(i, _)| i);
    let n: f64 = text[..end].parse().ok().filter(|n: &f64| n.is_finite())?;
    Some((n, text[end..].trim()))
}

/// Milliseconds in a time unit, for `500ms`, `1.5s`, `800us`.
fn ms_per(unit: &str) -> Option<f64> {
    match unit {
        "us" | "µs" => Some(0.001),
        "ms" => Some(1.0),
        "s" => Some(1000.0),
        "m" | "min" => Some(60_000.0),
        _ => None,
    }
}
