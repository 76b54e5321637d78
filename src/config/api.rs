//! The API half of `Config::from_args`: which protocol (`--api`, or `auto` from the URL path),
//! the endpoint (`--path`), Dify's `--inputs` and `--turns`, and `custom`'s template and
//! pointers. Every check names the flag and the fix; nothing here sends a request.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::lang::Text;
use crate::protocol::{self, Anthropic, Api, Custom, Dify, OpenAi, Protocol, Responses};
use crate::util::files::{self, cap};
use serde_json::{Map, Value};
use std::sync::Arc;

/// What the API flags resolve to.
pub struct ApiSetup {
    pub api: Api,
    pub url: String,
    /// How `auto` chose, for the banner; `None` when `--api` named the API.
    pub note: Option<Text>,
    pub inputs: Map<String, Value>,
    pub turns: u32,
    pub protocol: Arc<dyn Protocol>,
}

pub fn setup(a: &RunArgs, base: &str) -> Result<ApiSetup, Error> {
    let (api, note) = choose(a, base)?;
    let path = match &a.path {
        Some(p) if !p.starts_with('/') || p.contains(char::is_whitespace) => {
            return Err(Error::flag("--path", p, "give a URL path such as /v1/chat/completions"));
        }
        Some(p) => Some(p.as_str()),
        None => api.path(),
    };
    let is_dify = matches!(api, Api::DifyChat | Api::DifyCompletion | Api::DifyWorkflow);
    let inputs = match &a.inputs {
        None => Map::new(),
        Some(_) if !is_dify => {
            return Err(only_for("--inputs", "the Dify APIs (dify-chat, dify-completion, dify-workflow)"));
        }
        Some(s) => match serde_json::from_str(s) {
            Ok(Value::Object(o)) => o,
            _ => return Err(Error::flag("--inputs", s, "give a JSON object such as '{\"lang\": \"zh\"}'")),
        },
    };
    if is_dify && a.output_tokens.is_some() {
        return Err(Error::Usage(
            "--output-tokens does not apply to the Dify APIs: a Dify app sets its output length in the app's model settings".into(),
        ));
    }
    let turns = match a.turns {
        None => 1,
        Some(0) => return Err(Error::flag("--turns", "0", "must be at least 1")),
        Some(n) if n > 1 && !api.has_sessions() => {
            return Err(only_for(
                "--turns",
                "the chat APIs: dify-chat (Dify keeps the conversation), openai-chat, openai-responses and anthropic (llmload sends the conversation so far)",
            ));
        }
        Some(n) => n,
    };
    let protocol: Arc<dyn Protocol> = match api {
        Api::DifyChat => Arc::new(Dify::Chat),
        Api::DifyCompletion => Arc::new(Dify::Completion),
        Api::DifyWorkflow => Arc::new(Dify::Workflow),
        Api::OpenAiChat => Arc::new(OpenAi::Chat),
        Api::OpenAiCompletions => Arc::new(OpenAi::Completions),
        Api::OpenAiResponses => Arc::new(Responses),
        Api::Anthropic => Arc::new(Anthropic),
        Api::Custom => Arc::new(custom_api(a)?),
    };
    if api != Api::Custom {
        for (flag, given) in [
            ("--body-template", a.body_template.is_some()),
            ("--text-path", a.text_path.is_some()),
            ("--usage-path", a.usage_path.is_some()),
            ("--done-marker", a.done_marker.is_some()),
        ] {
            if given {
                return Err(only_for(flag, "--api custom"));
            }
        }
    }
    Ok(ApiSetup { api, url: protocol::endpoint(base, path), note, inputs, turns, protocol })
}

/// `--api`, or `auto`: the API whose path the URL ends with, `custom` when a body template is
/// given, else Dify chat (the seed's API).
fn choose(a: &RunArgs, base: &str) -> Result<(Api, Option<Text>), Error> {
    match a.api.as_deref() {
        Some(s) if s != "auto" => {
            let api: Api = s.parse().map_err(|fix| Error::flag("--api", s, fix))?;
            match Api::from_url(base) {
                Some(other) if other != api && api != Api::Custom && a.path.is_none() => {
                    Err(Error::Usage(format!(
                        "--url ends with the {other} path but --api is {api}: drop --api (auto picks {other}) or end --url before the path"
                    )))
                }
                _ => Ok((api, None)),
            }
        }
        _ => Ok(match Api::from_url(base) {
            Some(api) => (
                api,
                Some(Text {
                    en: format!("--api auto: {api} (from the URL path)"),
                    zh: format!("--api auto：{api}（由 URL 路径判断）"),
                }),
            ),
            None if a.body_template.is_some() => (
                Api::Custom,
                Some(Text {
                    en: "--api auto: custom (--body-template given)".into(),
                    zh: "--api auto：custom（给出了 --body-template）".into(),
                }),
            ),
            None => (
                Api::DifyChat,
                Some(Text {
                    en: "--api auto: dify-chat (the URL path names no API; give --api to choose)".into(),
                    zh: "--api auto：dify-chat（URL 路径未指明 API；用 --api 选择）".into(),
                }),
            ),
        }),
    }
}

fn custom_api(a: &RunArgs) -> Result<Custom, Error> {
    let Some(path) = &a.body_template else {
        return Err(Error::Usage(
            "--api custom needs --body-template FILE (JSON with {{prompt}} where the prompt goes) and --text-path".into(),
        ));
    };
    let template = files::read_text("--body-template", path, cap::SMALL)?;
    protocol::check_template(&template).map_err(|problem| Error::file("--body-template", path, problem))?;
    let Some(text_path) = &a.text_path else {
        return Err(Error::Usage(
            "--api custom needs --text-path: the JSON pointer to each event's text, e.g. /choices/0/delta/content".into(),
        ));
    };
    let pointer = |flag: &'static str, p: &String| {
        protocol::check_pointer(p).map(|_| p.clone()).map_err(|fix| Error::flag(flag, p, fix))
    };
    Ok(Custom {
        template,
        text_path: pointer("--text-path", text_path)?,
        usage_path: a.usage_path.as_ref().map(|p| pointer("--usage-path", p)).transpose()?,
        done_marker: match a.done_marker.as_deref() {
            None => Some("[DONE]".into()),
            Some("") => None,
            Some(m) => Some(m.trim().to_string()),
        },
    })
}

fn only_for(flag: &'static str, apis: &str) -> Error {
    Error::Usage(format!("{flag} only applies to {apis}: drop it or change --api"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup_with(url: &str, f: impl FnOnce(&mut RunArgs)) -> Result<ApiSetup, Error> {
        let mut a = RunArgs::default();
        f(&mut a);
        setup(&a, url)
    }

    #[test]
    fn auto_reads_the_url_path_and_says_how() {
        let s = setup_with("http://h/v1/messages", |_| {}).unwrap();
        assert_eq!((s.api, s.url.as_str()), (Api::Anthropic, "http://h/v1/messages"));
        assert_eq!(s.note.as_ref().map(|t| t.en.as_str()), Some("--api auto: anthropic (from the URL path)"));
        let s = setup_with("http://h/v1/workflows/run", |a| a.api = Some("auto".into())).unwrap();
        assert_eq!(s.api, Api::DifyWorkflow);
        let s = setup_with("http://h:8000", |a| a.api = Some("openai-completions".into())).unwrap();
        assert_eq!(
            (s.api, s.url.as_str(), s.note),
            (Api::OpenAiCompletions, "http://h:8000/v1/completions", None)
        );
        let e =
            setup_with("http://h/v1/chat-messages", |a| a.api = Some("openai-chat".into())).err().unwrap();
        assert_eq!(
            e.to_string(),
            "--url ends with the dify-chat path but --api is openai-chat: drop --api (auto picks dify-chat) or end --url before the path"
        );
        let s = setup_with("http://h:8000", |a| a.path = Some("/api/chat".into())).unwrap();
        assert_eq!((s.api, s.url.as_str()), (Api::DifyChat, "http://h:8000/api/chat"));
    }

    #[test]
    fn custom_is_picked_by_its_template_and_keeps_the_url() {
        let dir = std::env::temp_dir().join(format!("llmload-api-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = dir.join("t.json");
        std::fs::write(&t, r#"{"q": {{prompt}}}"#).unwrap();
        let s = setup_with("http://h/generate?x=1", |a| {
            a.body_template = Some(t.display().to_string());
            a.text_path = Some("/text".into());
        })
        .unwrap();
        assert_eq!((s.api, s.url.as_str()), (Api::Custom, "http://h/generate?x=1"));
        assert_eq!(
            s.note.as_ref().map(|t| t.en.as_str()),
            Some("--api auto: custom (--body-template given)")
        );
        let e = setup_with("http://h", |a| {
            a.api = Some("custom".into());
            a.body_template = Some(t.display().to_string());
        });
        assert!(e.err().unwrap().to_string().starts_with("--api custom needs --text-path"));
    }

    #[test]
    fn dify_inputs_and_turns() {
        let s = setup_with("http://h", |a| {
            a.inputs = Some(r#"{"city": "上海"}"#.into());
            a.turns = Some(4);
        })
        .unwrap();
        assert_eq!((s.inputs["city"].as_str(), s.turns), (Some("上海"), 4));
        let e = setup_with("http://h", |a| a.inputs = Some("\"x\"".into())).err().unwrap();
        assert_eq!(
            e.to_string(),
            "--inputs \"\\\"x\\\"\" is invalid: give a JSON object such as '{\"lang\": \"zh\"}'"
        );
    }
}
