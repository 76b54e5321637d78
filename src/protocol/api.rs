//! The APIs `--api` accepts, their names (and the server names that mean one of them, with a
//! suggestion for a near miss), and the URL paths they live at (which is also how `--api auto`
//! recognises them), and how a base URL and a path make the endpoint.

use std::fmt;
use std::str::FromStr;

/// The APIs `--api` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    DifyChat,
    DifyCompletion,
    DifyWorkflow,
    OpenAiChat,
    OpenAiCompletions,
    OpenAiResponses,
    Anthropic,
    Custom,
}

impl Api {
    pub const ALL: [Api; 8] = [
        Api::DifyChat,
        Api::DifyCompletion,
        Api::DifyWorkflow,
        Api::OpenAiChat,
        Api::OpenAiCompletions,
        Api::OpenAiResponses,
        Api::Anthropic,
        Api::Custom,
    ];
    pub const NAMES: &'static str = "auto, dify-chat, dify-completion, dify-workflow, openai-chat, openai-completions, openai-responses, anthropic, custom";

    /// Other names people give an API: the family, or a server whose chat API is OpenAI's.
    const ALIASES: [(&'static str, Api); 11] = [
        ("dify", Api::DifyChat),
        ("dify-agent", Api::DifyChat),
        ("openai", Api::OpenAiChat),
        ("vllm", Api::OpenAiChat),
        ("sglang", Api::OpenAiChat),
        ("ollama", Api::OpenAiChat),
        ("llama.cpp", Api::OpenAiChat),
        ("llamacpp", Api::OpenAiChat),
        ("lmdeploy", Api::OpenAiChat),
        ("deepseek", Api::OpenAiChat),
        ("qwen", Api::OpenAiChat),
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Api::DifyChat => "dify-chat",
            Api::DifyCompletion => "dify-completion",
            Api::DifyWorkflow => "dify-workflow",
            Api::OpenAiChat => "openai-chat",
            Api::OpenAiCompletions => "openai-completions",
            Api::OpenAiResponses => "openai-responses",
            Api::Anthropic => "anthropic",
            Api::Custom => "custom",
        }
    }

    /// The path appended to the base URL; `custom` has none (the URL is used as is).
    pub fn path(&self) -> Option<&'static str> {
        match self {
            Api::DifyChat => Some("/v1/chat-messages"),
            Api::DifyCompletion => Some("/v1/completion-messages"),
            Api::DifyWorkflow => Some("/v1/workflows/run"),
            Api::OpenAiChat => Some("/v1/chat/completions"),
            Api::OpenAiCompletions => Some("/v1/completions"),
            Api::OpenAiResponses => Some("/v1/responses"),
            Api::Anthropic => Some("/v1/messages"),
            Api::Custom => None,
        }
    }

    /// The API whose path `url` ends with (`--api auto`).
    pub fn from_url(url: &str) -> Option<Api> {
        let url = url.trim_end_matches('/');
        Api::ALL.into_iter().find(|api| api.path().is_some_and(|p| url.ends_with(p)))
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Api {
    /// Whether `--turns` makes sessions of it: Dify keeps the conversation by its id; for the
    /// others llmload sends the conversation so far, the server's real answers included.
    pub fn has_sessions(self) -> bool {
        matches!(self, Api::DifyChat | Api::OpenAiChat | Api::OpenAiResponses | Api::Anthropic)
    }
}

impl FromStr for Api {
    type Err = String;

    /// Every name and alias but `auto`, which `config` resolves from the URL.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut names = Api::ALL.into_iter().map(|a| (a.name(), a)).chain(Api::ALIASES);
        if let Some((_, api)) = names.find(|(name, _)| *name == s) {
            return Ok(api);
        }
        let servers: Vec<&str> = Api::ALIASES
            .iter()
            .filter(|(n, a)| *a == Api::OpenAiChat && *n != "openai")
            .map(|(n, _)| *n)
            .collect();
        let mut msg =
            format!("unknown API: use one of {} ({} mean openai-chat)", Api::NAMES, servers.join(", "));
        if let Some(near) = nearest(&s.to_ascii_lowercase()) {
            msg += &format!("; did you mean {near}?");
        }
        Err(msg)
    }
}

/// The valid name within two edits of `s`, the closest first.
fn nearest(s: &str) -> Option<&'static str> {
    let names = Api::ALL.into_iter().map(|a| a.name()).chain(Api::ALIASES.map(|(n, _)| n));
    crate::error::nearest(s, names.chain(["auto"]))
}

/// The URL for `base` and `path` (the API's, or `--path`): the path is appended unless `base`
/// already ends with it; without a path (`custom`) the URL is used as is.
pub fn endpoint(base: &str, path: Option<&str>) -> String {
    let Some(path) = path else { return base.to_string() };
    let base = base.trim_end_matches('/');
    if base.ends_with(path) {
        return base.to_string();
    }
    // A base that already ends in /v1 (as Dify's console shows it) gets the rest of the path.
    match base.strip_suffix("/v1") {
        Some(root) => format!("{root}{path}"),
        None => format!("{base}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_paths_pick_the_api() {
        for api in Api::ALL {
            assert_eq!(api.name().parse::<Api>(), Ok(api));
            if let Some(p) = api.path() {
                assert_eq!(Api::from_url(&format!("http://h:1/x{p}/")), Some(api));
            }
        }
        assert_eq!(Api::from_url("http://h:1/v1"), None);
        assert_eq!(Api::from_url("http://h:1/v1/chat/completions"), Some(Api::OpenAiChat));
        assert_eq!(Api::from_url("http://h:1/v1/completions"), Some(Api::OpenAiCompletions));
        assert_eq!(Api::from_url("http://h:1/v1/responses"), Some(Api::OpenAiResponses));
        assert!("grpc".parse::<Api>().unwrap_err().starts_with("unknown API: use one of auto, dify-chat"));
    }

    #[test]
    fn openai_compatible_servers_name_openai_chat() {
        for name in
            ["vllm", "sglang", "ollama", "llama.cpp", "llamacpp", "lmdeploy", "deepseek", "qwen", "openai"]
        {
            assert_eq!(name.parse::<Api>(), Ok(Api::OpenAiChat), "{name}");
        }
        assert_eq!("dify".parse::<Api>(), Ok(Api::DifyChat));
        for other in ["tgi", "triton", "auto"] {
            assert!(other.parse::<Api>().is_err(), "{other}");
        }
    }

    #[test]
    fn a_near_miss_is_suggested_and_a_stranger_is_not() {
        let err = |s: &str| s.parse::<Api>().unwrap_err();
        assert!(err("opneai-chat").ends_with("; did you mean openai-chat?"), "{}", err("opneai-chat"));
        assert!(err("OpenAI-Chat").ends_with("; did you mean openai-chat?"));
        assert!(err("anthropics").ends_with("; did you mean anthropic?"));
        assert!(err("vlm").ends_with("; did you mean vllm?"));
        assert!(err("difychat").ends_with("; did you mean dify-chat?"));
        assert_eq!(
            err("grpc"),
            format!(
                "unknown API: use one of {} (vllm, sglang, ollama, llama.cpp, llamacpp, lmdeploy, deepseek, qwen mean openai-chat)",
                Api::NAMES
            )
        );
    }

    #[test]
    fn endpoint_appends_the_path_once() {
        let e = |b| endpoint(b, Api::OpenAiChat.path());
        assert_eq!(e("http://h:8000"), "http://h:8000/v1/chat/completions");
        assert_eq!(e("http://h:8000/"), "http://h:8000/v1/chat/completions");
        assert_eq!(e("http://h:8000/v1"), "http://h:8000/v1/chat/completions");
        assert_eq!(e("https://h/p/v1/chat/completions"), "https://h/p/v1/chat/completions");
        assert_eq!(endpoint("https://h/prefix", Api::DifyChat.path()), "https://h/prefix/v1/chat-messages");
        assert_eq!(endpoint("https://h/any/where?x=1", None), "https://h/any/where?x=1");
        assert_eq!(endpoint("https://h/", Some("/api/generate")), "https://h/api/generate");
    }
}
