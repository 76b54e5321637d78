//! What llmload says when argh refuses a command line: an unknown flag is named with the nearest
//! flag of that command ("did you mean --concurrency?"), an unknown command with the nearest
//! command, and every refusal ends with the `--help` of the command that refused it. The flags
//! come from the argh structs themselves (`cli`), so no list is kept here; `sweep` knows its own
//! flags and `run`'s. It only words argh's refusals: the values are checked by `Config::from_args`.

use crate::cli::{Cli, RunArgs, SweepArgs};
use crate::error::nearest;
use argh::{ArgsInfo, CommandInfoWithArgs};

/// The message for argh's refusal `argh` (its output, as `EarlyExit` holds it) of the arguments
/// of `command` (`run`, `sweep`, …); for anything else, of the command line before a command.
pub fn refused(command: Option<&str>, argh: &str) -> String {
    let argh = argh.trim_end();
    let commands = Cli::get_args_info().commands;
    let Some(command) = command.and_then(|c| commands.iter().find(|s| s.name == c)) else {
        let names = commands.iter().map(|s| s.name);
        let problem = match argh.strip_prefix("Unrecognized argument: ") {
            Some(given) if !given.starts_with('-') => unknown("command", given, names),
            _ => argh.to_string(),
        };
        return format!("{problem}\nRun `llmload --help` for the commands.");
    };
    let name = command.name;
    let infos: Vec<CommandInfoWithArgs> = if name == "sweep" {
        vec![SweepArgs::get_args_info(), RunArgs::get_args_info()]
    } else {
        vec![command.command.clone()]
    };
    let flags = infos.iter().flat_map(|i| i.flags).map(|f| f.long);
    let problem = match argh.strip_prefix("Unrecognized argument: ") {
        Some(given) if given.starts_with('-') => match given.split_once('=') {
            Some((flag, value)) if flags.clone().any(|f| f == flag) => {
                format!("unknown flag {given}: give the value after a space, {flag} {value}")
            }
            _ => unknown("flag", given, flags),
        },
        Some(given) => format!("unexpected argument {given:?}"),
        None => argh.to_string(),
    };
    format!("{problem}\nRun `llmload {name} --help` for its flags.")
}

/// `unknown flag --threds; did you mean --threads?`, without the question for a stranger. Flags
/// are compared without their dashes, so `-concurrency` is taken for `--concurrency`.
fn unknown<'a>(what: &str, given: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let bare = |s: &'a str| s.trim_start_matches('-');
    match nearest(given.trim_start_matches('-'), names.into_iter().map(bare)) {
        Some(near) if what == "flag" => format!("unknown flag {given}; did you mean --{near}?"),
        Some(near) => format!("unknown {what} {given}; did you mean {near}?"),
        None => format!("unknown {what} {given}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_names_its_commands_help() {
        let r = |c, a| refused(Some(c), a);
        assert_eq!(
            r("run", "Unrecognized argument: --concurency\n"),
            "unknown flag --concurency; did you mean --concurrency?\nRun `llmload run --help` for its flags."
        );
        assert_eq!(
            r("sweep", "Unrecognized argument: --slo-targt\n"),
            "unknown flag --slo-targt; did you mean --slo-target?\nRun `llmload sweep --help` for its flags."
        );
        // A `run` flag is a sweep flag too.
        assert_eq!(
            r("sweep", "Unrecognized argument: --modle\n"),
            "unknown flag --modle; did you mean --model?\nRun `llmload sweep --help` for its flags."
        );
        assert_eq!(
            r("mock", "Unrecognized argument: --foo\n"),
            "unknown flag --foo\nRun `llmload mock --help` for its flags."
        );
        assert_eq!(
            r("run", "Unrecognized argument: -concurrency\n"),
            "unknown flag -concurrency; did you mean --concurrency?\nRun `llmload run --help` for its flags."
        );
        assert_eq!(
            r("run", "Unrecognized argument: --json=out.json\n"),
            "unknown flag --json=out.json: give the value after a space, --json out.json\nRun `llmload run --help` for its flags."
        );
        assert_eq!(
            r("report", "Unrecognized argument: extra\n"),
            "unexpected argument \"extra\"\nRun `llmload report --help` for its flags."
        );
        assert_eq!(
            r("compare", "Required positional arguments not provided:\n    new\n"),
            "Required positional arguments not provided:\n    new\nRun `llmload compare --help` for its flags."
        );
    }

    #[test]
    fn an_unknown_command_is_named_with_the_nearest() {
        assert_eq!(
            refused(Some("swep"), "Unrecognized argument: swep\n"),
            "unknown command swep; did you mean sweep?\nRun `llmload --help` for the commands."
        );
        assert_eq!(
            refused(None, "Unrecognized argument: benchmark\n"),
            "unknown command benchmark\nRun `llmload --help` for the commands."
        );
    }
}
