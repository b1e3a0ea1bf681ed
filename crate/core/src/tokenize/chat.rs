//! Chat templates: the model's own Jinja template rendered with minijinja the way transformers
//! renders it (trim_blocks, lstrip_blocks, Python string methods, raise_exception,
//! strftime_now, Python-style tojson), plus continuation of a partial final message without
//! trimming it.

use crate::error::{Error, Result};
use minijinja::value::Kwargs;
use minijinja::{Environment, ErrorKind, Value};
use serde::Serialize;
use std::collections::BTreeMap;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Message {
    /// "system", "user" or "assistant".
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A message with `role` and `content`.
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.to_string(),
            content: content.to_string(),
        }
    }
}

/// A calendar date for `strftime_now` (templates print today's date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year.
    pub year: i64,
    /// Month 1-12.
    pub month: u32,
    /// Day 1-31.
    pub day: u32,
}

impl Date {
    /// The date `days` days after 1970-01-01 (proleptic Gregorian).
    pub fn from_unix_days(days: i64) -> Self {
        // Howard Hinnant's days-to-civil.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self { year, month, day }
    }

    /// Today (UTC), where the platform has a clock.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn today() -> Option<Self> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs() as i64;
        Some(Self::from_unix_days(secs.div_euclid(86_400)))
    }

    /// Today: in wasm the caller passes the date (there is no clock without JS).
    #[cfg(target_arch = "wasm32")]
    pub fn today() -> Option<Self> {
        None
    }

    fn weekday(self) -> usize {
        // 1970-01-01 was a Thursday.
        let days = days_from_civil(self.year, self.month, self.day);
        (days + 4).rem_euclid(7) as usize
    }

    /// strftime with the directives chat templates use: %d %m %Y %y %b %B %a %A %j %%.
    pub fn format(self, fmt: &str) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const DAYS: [&str; 7] = [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ];
        let month = MONTHS[(self.month.clamp(1, 12) - 1) as usize];
        let weekday = DAYS[self.weekday()];
        let mut out = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('d') => out.push_str(&format!("{:02}", self.day)),
                Some('m') => out.push_str(&format!("{:02}", self.month)),
                Some('Y') => out.push_str(&self.year.to_string()),
                Some('y') => out.push_str(&format!("{:02}", self.year.rem_euclid(100))),
                Some('b') => out.push_str(&month[..3]),
                Some('B') => out.push_str(month),
                Some('a') => out.push_str(&weekday[..3]),
                Some('A') => out.push_str(weekday),
                Some('j') => {
                    let jan1 = days_from_civil(self.year, 1, 1);
                    let doy = days_from_civil(self.year, self.month, self.day) - jan1 + 1;
                    out.push_str(&format!("{doy:03}"));
                }
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// JSON as Python's json.dumps writes it (", " and ": " separators, or `indent` spaces).
fn python_json(v: &serde_json::Value, indent: Option<usize>, depth: usize, out: &mut String) {
    use serde_json::Value as J;
    let newline = |out: &mut String, depth: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * depth));
        }
    };
    let separator = if indent.is_some() { "," } else { ", " };
    match v {
        J::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, depth + 1);
                python_json(item, indent, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        J::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, depth + 1);
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                python_json(item, indent, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn tojson(value: Value, kwargs: Kwargs) -> std::result::Result<Value, minijinja::Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&value)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let mut out = String::new();
    python_json(&json, indent, 0, &mut out);
    Ok(Value::from_safe_string(out))
}

/// What a render sees besides the messages.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Append the assistant header so the model answers next.
    pub add_generation_prompt: bool,
    /// The date `strftime_now` prints (default: today where the platform has a clock).
    pub date: Option<Date>,
    /// Extra variables (for example `date_string`).
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A compiled chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: Option<String>,
    eos_token: Option<String>,
}

/// Marks where the final message's content goes when continuing it.
const SENTINEL: &str = "\u{E000}ttsearch-continue\u{E001}";

impl ChatTemplate {
    /// Compiles `source` (a Jinja chat template); `bos_token` and `eos_token` are the texts
    /// the template may print.
    pub fn new(source: &str, bos_token: Option<String>, eos_token: Option<String>) -> Result<Self> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| Error::format("chat template", e.to_string()))?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson);
        env.add_function(
            "raise_exception",
            |message: String| -> std::result::Result<Value, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| Error::format("chat template", e.to_string()))?;
        Ok(Self {
            env,
            bos_token,
            eos_token,
        })
    }

    /// Renders `messages` as transformers' apply_chat_template(tokenize=False) does.
    pub fn render(&self, messages: &[Message], options: &RenderOptions) -> Result<String> {
        let template = self
            .env
            .get_template("chat")
            .map_err(|e| Error::format("chat template", e.to_string()))?;
        let date = options.date.or_else(Date::today);
        let strftime_now = Value::from_function(
            move |fmt: String| -> std::result::Result<String, minijinja::Error> {
                date.map(|d| d.format(&fmt)).ok_or_else(|| {
                    minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        "strftime_now needs a date on this platform (RenderOptions::date)",
                    )
                })
            },
        );
        let mut ctx: BTreeMap<String, Value> = options
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(minijinja::value::Serde(v))))
            .collect();
        ctx.insert(
            "messages".into(),
            Value::from(minijinja::value::Serde(messages)),
        );
        ctx.insert(
            "add_generation_prompt".into(),
            Value::from(options.add_generation_prompt),
        );
        ctx.insert(
            "bos_token".into(),
            Value::from(self.bos_token.clone().unwrap_or_default()),
        );
        ctx.insert(
            "eos_token".into(),
            Value::from(self.eos_token.clone().unwrap_or_default()),
        );
        ctx.insert("strftime_now".into(), strftime_now);
        template.render(ctx).map_err(|e| {
            let mut detail = e
                .detail()
                .map(String::from)
                .unwrap_or_else(|| e.to_string());
            if e.kind() != ErrorKind::InvalidOperation {
                detail = e.to_string();
            }
            Error::Template(detail)
        })
    }

    /// The text that continues the final message of `messages` (a partial assistant turn):
    /// the template's rendering up to where that message's content starts, then the content
    /// exactly as given (no trimming, no end-of-turn), so a prefix ending in "\n\n" stays as
    /// generated.
    pub fn render_continuation(
        &self,
        messages: &[Message],
        options: &RenderOptions,
    ) -> Result<String> {
        let Some((last, rest)) = messages.split_last() else {
            return Err(Error::InvalidArgument("no message to continue".into()));
        };
        let mut marked = rest.to_vec();
        marked.push(Message::new(&last.role, SENTINEL));
        let options = RenderOptions {
            add_generation_prompt: false,
            ..options.clone()
        };
        let rendered = self.render(&marked, &options)?;
        let at = rendered.rfind(SENTINEL).ok_or_else(|| {
            Error::Template("the chat template drops the final message's content".into())
        })?;
        Ok(format!("{}{}", &rendered[..at], last.content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            Date::from_unix_days(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        let d = Date::from_unix_days(19_930); // 2024-07-26
        assert_eq!(
            d,
            Date {
                year: 2024,
                month: 7,
                day: 26
            }
        );
        assert_eq!(d.format("%d %b %Y"), "26 Jul 2024");
        assert_eq!(d.format("%A %B %j %%"), "Friday July 208 %");
    }

    #[test]
    fn python_style_json() {
        let v = serde_json::json!({"a": [1, "x"], "b": {}});
        let mut out = String::new();
        python_json(&v, None, 0, &mut out);
        assert_eq!(out, r#"{"a": [1, "x"], "b": {}}"#);
        let mut out = String::new();
        python_json(&v, Some(2), 0, &mut out);
        assert_eq!(
            out,
            "{\n  \"a\": [\n    1,\n    \"x\"\n  ],\n  \"b\": {}\n}"
        );
    }

    #[test]
    fn raise_exception_surfaces_its_message() {
        let t = ChatTemplate::new("{{ raise_exception('no system role') }}", None, None)
            .expect("compiles");
        let err = t
            .render(&[], &RenderOptions::default())
            .expect_err("raises");
        assert_eq!(err.code(), "template");
        assert!(err.to_string().contains("no system role"), "{err}");
        let err = ChatTemplate::new("{% if %}", None, None)
            .err()
            .expect("syntax error");
        assert_eq!(err.code(), "format");
    }

    #[test]
    fn continuation_keeps_the_partial_text_untrimmed() {
        let t = ChatTemplate::new(
            "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}</{{ m.role }}>{% endfor %}",
            None,
            None,
        )
        .expect("compiles");
        let messages = [
            Message::new("user", "q"),
            Message::new("assistant", "step 1\n\n"),
        ];
        let text = t
            .render_continuation(&messages, &RenderOptions::default())
            .expect("renders");
        assert_eq!(text, "<user>q</user><assistant>step 1\n\n");
    }
}
