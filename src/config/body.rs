//! The request-body half of `Config::from_args`: `--extra-body` (inline JSON or `@FILE`), a
//! `--param-file` JSONL line's own `extra`, and `--ignore-eos`, each checked against what the
//! API's adapter must own to measure. A key given replaces the adapter's; the keys refused are
//! the ones that would break the stream, its usage, the prompt or the output cap llmload counts
//! against. The merge into each body is `protocol::merge_extra`'s; nothing here sends a request.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::protocol::Api;
use crate::util::files::{self, cap};
use crate::workload::Prompt;
use serde_json::{Map, Value};

type Fields = Map<String, Value>;

/// `--extra-body`: a JSON object, inline or from `@FILE`, that `api` can take.
pub fn extra_body(a: &RunArgs, api: Api) -> Result<Option<Fields>, Error> {
    let Some(given) = &a.extra_body else { return Ok(None) };
    let fields = match given.strip_prefix('@') {
        Some(path) => {
            let text = files::read_text("--extra-body", path, cap::SMALL)?;
            object(&text).map_err(|problem| Error::file("--extra-body", path, problem))?
        }
        None => object(given).map_err(|_| {
            Error::flag(
                "--extra-body",
                given,
                "give a JSON object such as '{\"temperature\": 0}', or @FILE for one in a file",
            )
        })?,
    };
    check(api, &fields).map_err(|(key, why)| Error::Usage(format!("--extra-body key \"{key}\": {why}")))?;
    Ok(Some(fields))
}

/// Each prompt's own fields, by prompt index, when some `--param-file` JSONL line has an
/// `extra` object: `run`'s fields (`--extra-body`) with the line's laid over them. Empty when no
/// line has one. `lines` are the file's numbered lines, read as `prompts` were: a line that is a
/// JSON object makes the file JSONL, so only such lines are read here.
pub fn prompt_extras(
    path: &str,
    lines: &[(usize, String)],
    run: Option<&Fields>,
    api: Api,
) -> Result<Vec<Option<Fields>>, Error> {
    let mut extras = Vec::with_capacity(lines.len());
    for (n, line) in lines {
        // Cheap first: most lines have no `extra`, and a plain-text file none that parses.
        let own = match line.contains("\"extra\"").then(|| serde_json::from_str::<Value>(line)) {
            Some(Ok(Value::Object(mut o))) => o.remove("extra"),
            _ => None,
        };
        let own = match own {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(v) => {
                return Err(Error::file(
                    "--param-file",
                    path,
                    format!(
                        "JSONL line {n}: \"extra\" is {v}: give a JSON object of request fields, e.g. {{\"temperature\": 0}}"
                    ),
                ));
            }
        };
        if let Some(o) = &own {
            check(api, o).map_err(|(key, why)| {
                Error::file("--param-file", path, format!("JSONL line {n}: \"extra\" key \"{key}\": {why}"))
            })?;
        }
        extras.push(own.map(|o| laid_over(run, o)));
    }
    if extras.iter().all(Option::is_none) {
        extras.clear();
    }
    Ok(extras)
}

/// Each `--dataset` request's own fields (an OpenAI-request line's fields beside its
/// `messages`), by prompt index, laid over `run`'s (`--extra-body`); empty when none has any. A
/// line's `model` replaces `--model` for that request.
pub fn dataset_extras(
    path: &str,
    prompts: &[Prompt],
    run: Option<&Fields>,
    api: Api,
) -> Result<Vec<Option<Fields>>, Error> {
    if prompts.iter().all(|p| p.extra.is_none()) {
        return Ok(Vec::new());
    }
    prompts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let Some(own) = &p.extra else { return Ok(None) };
            check(api, own).map_err(|(key, why)| {
                Error::file("--dataset", path, format!("request {} as sent: key \"{key}\": {why}", i + 1))
            })?;
            Ok(Some(laid_over(run, own.clone())))
        })
        .collect()
}

/// `own` laid over `run`'s fields: a key in both is `own`'s.
fn laid_over(run: Option<&Fields>, own: Fields) -> Fields {
    let mut merged = run.cloned().unwrap_or_default();
    merged.extend(own);
    merged
}

/// `--ignore-eos` (or `--output-tokens`, which implies it): only where a server honours it, and
/// only with a cap, or a server would generate to its context limit.
pub fn ignore_eos(a: &RunArgs, api: Api, prompts: &[Prompt]) -> Result<(), Error> {
    if !a.ignore_eos {
        return Ok(());
    }
    if !matches!(api, Api::OpenAiChat | Api::OpenAiCompletions | Api::OpenAiResponses) {
        return Err(Error::Usage(format!(
            "--ignore-eos only applies to the OpenAI APIs (openai-chat, openai-completions, openai-responses), whose vLLM, SGLang and llama.cpp servers honour ignore_eos; {api} has no such field: drop it or change --api"
        )));
    }
    if a.max_tokens.is_none() && a.output_tokens.is_none() && prompts.iter().any(|p| p.max_tokens.is_none()) {
        return Err(Error::Usage(
            "--ignore-eos needs an output length: add --max-tokens N or --output-tokens N (without a cap the server generates to its context limit)".into(),
        ));
    }
    Ok(())
}

fn object(text: &str) -> Result<Fields, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err("is not a JSON object: give one such as {\"temperature\": 0}".into()),
        Err(e) => Err(format!("is not valid JSON ({e})")),
    }
}

/// The first key of `fields` that `api`'s body cannot take, and why.
fn check(api: Api, fields: &Fields) -> Result<(), (String, String)> {
    let refuse = |key: &str, why: &str| Err((key.to_string(), why.to_string()));
    let first = fields.keys().next();
    match (api, first) {
        (_, None) => return Ok(()),
        (Api::DifyChat | Api::DifyCompletion | Api::DifyWorkflow, Some(key)) => {
            return refuse(
                key,
                "the Dify APIs send a fixed body (inputs, query, user, response_mode) and a Dify app sets its model options itself: give app variables with --inputs",
            );
        }
        (Api::Custom, Some(key)) => {
            return refuse(
                key,
                "--api custom sends its --body-template as it is: put the field in the template",
            );
        }
        _ => {}
    }
    let openai = matches!(api, Api::OpenAiChat | Api::OpenAiCompletions);
    for (key, v) in fields {
        match key.as_str() {
            "stream" if *v != Value::Bool(true) => {
                return refuse(key, "llmload measures streamed answers: the body keeps \"stream\": true");
            }
            "stream_options" if openai && v["include_usage"] != Value::Bool(true) => {
                return refuse(
                    key,
                    "llmload reads usage from the stream's last chunk: give {\"include_usage\": true, …} or leave stream_options out",
                );
            }
            "messages" | "prompt" | "input" => {
                return refuse(
                    key,
                    "it would replace every prompt: give prompts with --prompt, --prompt-tokens or --param-file (JSONL lines may carry \"messages\")",
                );
            }
            "max_tokens" | "max_completion_tokens" | "max_output_tokens" => {
                return refuse(
                    key,
                    "llmload must know the output cap (it counts answers that end early): use --max-tokens, --output-tokens or a JSONL line's \"max_tokens\"",
                );
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        object(json).unwrap()
    }

    fn refused(api: Api, json: &str) -> Option<String> {
        check(api, &fields(json)).err().map(|(key, _)| key)
    }

    #[test]
    fn sampling_options_tools_and_formats_are_taken_by_the_json_apis() {
        let body = r#"{"temperature": 0.7, "top_p": 0.9, "tools": [{"type": "function"}], "response_format": {"type": "json_object"}, "chat_template_kwargs": {"enable_thinking": false}, "model": "other", "stream": true, "stream_options": {"include_usage": true, "continuous_usage_stats": false}, "ignore_eos": true, "min_tokens": 8}"#;
        for api in [Api::OpenAiChat, Api::OpenAiCompletions, Api::Anthropic] {
            assert_eq!(refused(api, body), None, "{api}");
        }
        assert_eq!(refused(Api::Anthropic, r#"{"system": "be brief"}"#), None);
    }

    #[test]
    fn keys_the_adapter_must_own_are_refused_by_name() {
        let cases = [
            (Api::OpenAiChat, r#"{"temperature": 0, "stream": false}"#, "stream"),
            (Api::Anthropic, r#"{"stream": null}"#, "stream"),
            (Api::OpenAiChat, r#"{"stream_options": {"include_usage": false}}"#, "stream_options"),
            (Api::OpenAiCompletions, r#"{"stream_options": {}}"#, "stream_options"),
            (Api::OpenAiChat, r#"{"messages": []}"#, "messages"),
            (Api::OpenAiCompletions, r#"{"prompt": "x"}"#, "prompt"),
            (Api::Anthropic, r#"{"messages": []}"#, "messages"),
            (Api::OpenAiChat, r#"{"max_tokens": 5}"#, "max_tokens"),
            (Api::OpenAiChat, r#"{"max_completion_tokens": 5}"#, "max_completion_tokens"),
            (Api::Anthropic, r#"{"max_tokens": 5}"#, "max_tokens"),
        ];
        for (api, body, key) in cases {
            assert_eq!(refused(api, body).as_deref(), Some(key), "{api} {body}");
        }
    }

    #[test]
    fn dify_and_custom_refuse_any_field_and_say_where_it_goes() {
        for api in [Api::DifyChat, Api::DifyCompletion, Api::DifyWorkflow] {
            let (key, why) = check(api, &fields(r#"{"temperature": 0}"#)).unwrap_err();
            assert_eq!(key, "temperature");
            assert!(why.ends_with("give app variables with --inputs"), "{why}");
        }
        let (_, why) = check(Api::Custom, &fields(r#"{"a": 1}"#)).unwrap_err();
        assert!(why.contains("--body-template"), "{why}");
        assert_eq!(check(Api::DifyChat, &Fields::new()), Ok(()));
    }

    #[test]
    fn the_flag_takes_inline_json_or_a_file_and_names_what_is_wrong() {
        let run = |value: &str, api: Api| {
            let a = RunArgs { extra_body: Some(value.into()), ..RunArgs::default() };
            extra_body(&a, api)
        };
        assert_eq!(run(r#"{"seed": 7}"#, Api::OpenAiChat).unwrap(), Some(fields(r#"{"seed": 7}"#)));
        assert_eq!(
            run("[1]", Api::OpenAiChat).unwrap_err().to_string(),
            "--extra-body \"[1]\" is invalid: give a JSON object such as '{\"temperature\": 0}', or @FILE for one in a file"
        );
        assert_eq!(
            run(r#"{"stream": false}"#, Api::OpenAiChat).unwrap_err().to_string(),
            "--extra-body key \"stream\": llmload measures streamed answers: the body keeps \"stream\": true"
        );
        let dir = std::env::temp_dir().join(format!("llmload-body-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (good, bad) = (dir.join("good.json"), dir.join("bad.json"));
        std::fs::write(&good, r#"{"tools": []}"#).unwrap();
        std::fs::write(&bad, "{").unwrap();
        let at = |p: &std::path::Path| format!("@{}", p.display());
        assert_eq!(run(&at(&good), Api::Anthropic).unwrap(), Some(fields(r#"{"tools": []}"#)));
        let e = run(&at(&bad), Api::OpenAiChat).unwrap_err().to_string();
        assert!(e.starts_with(&format!("--extra-body {}: is not valid JSON", bad.display())), "{e}");
        assert!(run("@/no/such/file.json", Api::OpenAiChat).is_err());
        assert_eq!(RunArgs::default().extra_body, None);
        assert_eq!(extra_body(&RunArgs::default(), Api::DifyChat).unwrap(), None);
    }

    #[test]
    fn a_lines_extra_lies_over_the_runs_and_is_checked_by_line() {
        let lines = |v: &[&str]| -> Vec<(usize, String)> {
            v.iter().enumerate().map(|(i, s)| (i + 1, s.to_string())).collect()
        };
        let run = fields(r#"{"temperature": 0, "seed": 1}"#);
        let got = prompt_extras(
            "p.jsonl",
            &lines(&[r#"{"prompt": "a"}"#, r#"{"prompt": "b", "extra": {"seed": 2, "top_k": 5}}"#]),
            Some(&run),
            Api::OpenAiChat,
        )
        .unwrap();
        assert_eq!(got, [None, Some(fields(r#"{"temperature": 0, "seed": 2, "top_k": 5}"#))]);
        let none =
            prompt_extras("p.txt", &lines(&["say \"extra\" twice", "{x"]), Some(&run), Api::OpenAiChat);
        assert_eq!(none.unwrap(), [], "plain lines have no extra fields");
        let e =
            prompt_extras("p.jsonl", &lines(&[r#"{"prompt": "a", "extra": [1]}"#]), None, Api::OpenAiChat);
        assert_eq!(
            e.unwrap_err().to_string(),
            "--param-file p.jsonl: JSONL line 1: \"extra\" is [1]: give a JSON object of request fields, e.g. {\"temperature\": 0}"
        );
        let e = prompt_extras(
            "p.jsonl",
            &lines(&[r#"{"prompt": "a"}"#, r#"{"prompt": "b", "extra": {"stream": false}}"#]),
            None,
            Api::OpenAiChat,
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .starts_with("--param-file p.jsonl: JSONL line 2: \"extra\" key \"stream\": ")
        );
        let e =
            prompt_extras("p.jsonl", &lines(&[r#"{"query": "a", "extra": {"x": 1}}"#]), None, Api::DifyChat);
        assert!(e.unwrap_err().to_string().contains("key \"x\": the Dify APIs send a fixed body"));
    }

    #[test]
    fn ignore_eos_needs_an_openai_api_and_a_cap() {
        let a = RunArgs { ignore_eos: true, max_tokens: Some(8), ..RunArgs::default() };
        assert!(ignore_eos(&a, Api::OpenAiChat, &[Prompt::text("x")]).is_ok());
        let e = ignore_eos(&a, Api::Anthropic, &[]).unwrap_err().to_string();
        assert!(e.starts_with("--ignore-eos only applies to the OpenAI APIs"), "{e}");
        let uncapped = RunArgs { max_tokens: None, ..a.clone() };
        let e = ignore_eos(&uncapped, Api::OpenAiChat, &[Prompt::text("x")]).unwrap_err().to_string();
        assert!(e.starts_with("--ignore-eos needs an output length"), "{e}");
        let capped = Prompt { max_tokens: Some(3), ..Prompt::text("x") };
        assert!(ignore_eos(&uncapped, Api::OpenAiChat, &[capped]).is_ok(), "every line has its own cap");
        assert!(ignore_eos(&RunArgs::default(), Api::DifyChat, &[]).is_ok());
    }
}
