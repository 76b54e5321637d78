//! The language people read llmload's output in (`--lang zh|en`, else the locale), and the one
//! rule every translated text follows: English and Chinese are written side by side at the
//! string's own place, through `Lang::pick(en, zh)` or a `(en, zh)` pair, so a text without its
//! translation does not compile. Pure: the caller reads the environment and passes it in.
//!
//! What is translated is what people read (the per-second table, the summary, warnings, the
//! thresholds table, the HTML report). What programs read is not: error kinds, JSON keys and
//! values, records and CSV stay English, since they are contracts. Numbers and units are the
//! same in both languages.

use serde::{Serialize, Serializer};
use std::fmt;

/// The language of the text people read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

/// What `--lang` accepts, for its error message.
pub const CHOICES: &str = "give zh or en";

impl Lang {
    /// The English or the Chinese of a text; both must be given.
    pub fn pick<T>(self, en: T, zh: T) -> T {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// The language of a `(en, zh)` pair.
    pub fn of(self, pair: (&'static str, &'static str)) -> &'static str {
        self.pick(pair.0, pair.1)
    }

    /// `--lang VALUE`: `zh` or `en` (case-insensitive; `zh-CN`, `zh_TW`, `en_US` too).
    pub fn parse(value: &str) -> Result<Lang, String> {
        let v = value.trim().to_ascii_lowercase();
        let base = v.split(['-', '_', '.']).next().unwrap_or("");
        match base {
            "zh" | "cn" | "chinese" => Ok(Lang::Zh),
            "en" | "english" => Ok(Lang::En),
            _ => Err(CHOICES.into()),
        }
    }

    /// The language a locale names: `zh`, `zh_CN.UTF-8`, `zh_TW` are Chinese, anything else
    /// (`C`, `POSIX`, `en_US.UTF-8`, `de_DE`) is English.
    fn of_locale(locale: &str) -> Lang {
        let base = locale.split(['_', '.', '@', '-']).next().unwrap_or("");
        if base.eq_ignore_ascii_case("zh") { Lang::Zh } else { Lang::En }
    }

    /// The language when `--lang` is not given, from the locale variables as POSIX ranks them:
    /// the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty decides.
    pub fn from_locale(lc_all: Option<&str>, lc_messages: Option<&str>, lang: Option<&str>) -> Lang {
        [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty())
            .map_or(Lang::En, Lang::of_locale)
    }

    /// `--lang` when given (checked), else the locale's language.
    pub fn resolve(
        flag: Option<&str>,
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Result<Lang, String> {
        match flag {
            Some(v) => Lang::parse(v),
            None => Ok(Lang::from_locale(lc_all, lc_messages, lang)),
        }
    }

    /// The page's `lang` attribute.
    pub fn code(self) -> &'static str {
        self.pick("en", "zh-CN")
    }
}

/// A text people read, in both languages: a warning made during the run, shown later in the
/// language of the summary. It is written to JSON (and shown by `Display`) in English: the
/// JSON summary holds no language-dependent values.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.zh)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.en)
    }
}

/// Tests build summaries with untranslated sample warnings; the code never does.
#[cfg(test)]
impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text { en: s.into(), zh: s.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_decides_in_posix_order() {
        let r = |all, msgs, lang| Lang::from_locale(all, msgs, lang);
        assert_eq!(r(None, None, None), Lang::En);
        assert_eq!(r(None, None, Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(r(None, None, Some("zh")), Lang::Zh);
        assert_eq!(r(None, None, Some("zh_TW.Big5")), Lang::Zh);
        assert_eq!(r(None, None, Some("en_US.UTF-8")), Lang::En);
        assert_eq!(r(None, None, Some("C")), Lang::En);
        assert_eq!(r(None, None, Some("zhx_YY")), Lang::En);
        // LC_ALL over LC_MESSAGES over LANG; an empty one does not count.
        assert_eq!(r(Some("C.UTF-8"), Some("zh_CN"), Some("zh_CN")), Lang::En);
        assert_eq!(r(Some(""), Some("zh_CN.UTF-8"), Some("en_US")), Lang::Zh);
        assert_eq!(r(None, Some("en_GB"), Some("zh_CN")), Lang::En);
        assert_eq!(r(Some("zh_SG"), Some("en_GB"), None), Lang::Zh);
    }

    #[test]
    fn the_flag_wins_and_is_checked() {
        assert_eq!(Lang::resolve(Some("en"), None, None, Some("zh_CN.UTF-8")), Ok(Lang::En));
        assert_eq!(Lang::resolve(Some("zh"), None, None, Some("en_US")), Ok(Lang::Zh));
        assert_eq!(Lang::resolve(Some("ZH-cn"), None, None, None), Ok(Lang::Zh));
        assert_eq!(Lang::resolve(None, None, None, Some("zh_CN")), Ok(Lang::Zh));
        assert_eq!(Lang::resolve(Some("fr"), None, None, None), Err(CHOICES.to_string()));
    }

    #[test]
    fn a_text_is_english_in_json_and_either_on_screen() {
        let t = Text { en: "hello".into(), zh: "你好".into() };
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"hello\"");
        assert_eq!((t.get(Lang::En), t.get(Lang::Zh), t.to_string()), ("hello", "你好", "hello".into()));
        assert_eq!(Lang::Zh.of(("ok", "成功")), "成功");
    }
}
