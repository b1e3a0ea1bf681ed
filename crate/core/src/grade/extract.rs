//! Finding the final answer in a solution text: last \boxed{} (or \fbox{}), "final answer is
//! $...$", "the answer is ...", or the last number, and which rule fired.

use super::normalize::matching_brace;
use serde::Serialize;

/// Which extraction rule produced the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractRule {
    /// The content of the last `\boxed{...}` (brace-matched).
    Boxed,
    /// The content of the last `\fbox{...}`.
    Fbox,
    /// "final answer is $X$" (the Llama prompt's closing sentence).
    FinalAnswerIs,
    /// "the answer is X".
    AnswerIs,
    /// The whole text is a bare answer (no prose around it).
    Bare,
    /// The last number in the text.
    LastNumber,
    /// Nothing that looks like an answer.
    None,
}

/// An extracted answer and the rule that found it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    /// The answer text, not yet normalized.
    pub answer: String,
    /// The rule that fired.
    pub rule: ExtractRule,
}

/// The content after the last `\boxed` or `\fbox`.
fn last_box(text: &str) -> Option<Extraction> {
    let boxed = text
        .rfind("\\boxed")
        .map(|i| (i, "\\boxed", ExtractRule::Boxed));
    let fbox = text
        .rfind("\\fbox")
        .map(|i| (i, "\\fbox", ExtractRule::Fbox));
    let (start, command, rule) = match (boxed, fbox) {
        (Some(b), Some(f)) => {
            if b.0 > f.0 {
                b
            } else {
                f
            }
        }
        (Some(b), None) => b,
        (None, Some(f)) => f,
        (None, None) => return None,
    };
    let after = start + command.len();
    let rest = &text[after..];
    let trimmed = rest.trim_start();
    if trimmed.starts_with('{') {
        let open = after + (rest.len() - trimmed.len());
        let close = matching_brace(text, open)?;
        let content = &text[open + 1..close];
        return Some(Extraction {
            answer: content.trim().to_string(),
            rule,
        });
    }
    // "\boxed 5$": the answer runs to the next '$' or the end of the line.
    if rest.starts_with(' ') {
        let answer: String = trimmed
            .split(['$', '\n'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if !answer.is_empty() {
            return Some(Extraction { answer, rule });
        }
    }
    None
}

/// The answer after the last occurrence of `phrase` (case-insensitive): `$...$`, `\(...\)`, or
/// the rest of the sentence.
fn after_phrase(text: &str, phrase: &str, rule: ExtractRule) -> Option<Extraction> {
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; only trust positions when it did not.
    if lower.len() != text.len() {
        return None;
    }
    let start = lower.rfind(phrase)? + phrase.len();
    let rest = text[start..].trim_start_matches([' ', ':']);
    let answer = if let Some(inner) = rest.strip_prefix("$$") {
        inner.split("$$").next().unwrap_or("")
    } else if let Some(inner) = rest.strip_prefix('$') {
        inner.split('$').next().unwrap_or("")
    } else if let Some(inner) = rest.strip_prefix("\\(") {
        inner.split("\\)").next().unwrap_or("")
    } else if let Some(inner) = rest.strip_prefix("\\[") {
        inner.split("\\]").next().unwrap_or("")
    } else {
        // To the end of the sentence: a newline, or ". " / "." at the end.
        let line = rest.split('\n').next().unwrap_or("");
        let end = line
            .char_indices()
            .find(|&(i, c)| c == '.' && line[i + 1..].chars().next().is_none_or(|n| n == ' '))
            .map_or(line.len(), |(i, _)| i);
        &line[..end]
    };
    let answer = answer.trim().trim_end_matches('.').trim();
    (!answer.is_empty()).then(|| Extraction {
        answer: answer.to_string(),
        rule,
    })
}

/// The last number in the text: an optional sign, digits with optional thousands commas, an
/// optional decimal part, optionally "/digits".
fn last_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut best: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            || (chars[i] == '.' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()));
        if !starts {
            i += 1;
            continue;
        }
        let begin = if i > 0 && chars[i - 1] == '-' {
            i - 1
        } else {
            i
        };
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            let next_digit = chars.get(j + 1).is_some_and(|n| n.is_ascii_digit());
            if c.is_ascii_digit() || ((c == '.' || c == ',' || c == '/') && next_digit) {
                j += 1;
            } else {
                break;
            }
        }
        best = Some(chars[begin..j].iter().collect());
        i = j;
    }
    best.map(|s| s.replace(',', ""))
}

/// Extracts the final answer of a solution text, trying the rules in order.
///
/// A text with no answer marker that parses as a bare answer (no prose) is taken whole.
pub fn extract_answer(text: &str) -> Extraction {
    if let Some(found) = last_box(text) {
        return found;
    }
    if let Some(found) = after_phrase(text, "final answer is", ExtractRule::FinalAnswerIs) {
        return found;
    }
    if let Some(found) = after_phrase(text, "the answer is", ExtractRule::AnswerIs) {
        return found;
    }
    let trimmed = text.trim().trim_matches('$').trim();
    // One line, or a matrix written over several.
    let one_answer = !trimmed.contains('\n') || trimmed.contains("\\begin{");
    if !trimmed.is_empty() && one_answer && super::answer::parses_as_math(trimmed) {
        return Extraction {
            answer: trimmed.to_string(),
            rule: ExtractRule::Bare,
        };
    }
    match last_number(text) {
        Some(answer) => Extraction {
            answer,
            rule: ExtractRule::LastNumber,
        },
        None => Extraction {
            answer: String::new(),
            rule: ExtractRule::None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str) -> (String, ExtractRule) {
        let e = extract_answer(text);
        (e.answer, e.rule)
    }

    #[test]
    fn last_boxed_with_nested_braces() {
        let t = "First \\boxed{1}. Then $\\boxed{\\frac{\\sqrt{3}}{2}}$ is final.";
        assert_eq!(ex(t), ("\\frac{\\sqrt{3}}{2}".into(), ExtractRule::Boxed));
    }

    #[test]
    fn fbox_and_unclosed_box() {
        assert_eq!(ex("so \\fbox{42}"), ("42".into(), ExtractRule::Fbox));
        // An unclosed box falls through to the last number.
        assert_eq!(
            ex("x = 3 so \\boxed{4"),
            ("4".into(), ExtractRule::LastNumber)
        );
    }

    #[test]
    fn boxed_without_braces() {
        assert_eq!(ex("answer: $\\boxed 7$."), ("7".into(), ExtractRule::Boxed));
    }

    #[test]
    fn llama_closing_sentence() {
        let t = "## Step 2: ...\n\nTherefore, the final answer is: $\\frac{1}{2}$. I hope it is correct.";
        assert_eq!(ex(t), ("\\frac{1}{2}".into(), ExtractRule::FinalAnswerIs));
    }

    #[test]
    fn the_answer_is_to_end_of_sentence() {
        assert_eq!(
            ex("Thus the answer is 3.5. Done"),
            ("3.5".into(), ExtractRule::AnswerIs)
        );
        assert_eq!(
            ex("The answer is (B)."),
            ("(B)".into(), ExtractRule::AnswerIs)
        );
    }

    #[test]
    fn bare_answers_and_last_number() {
        assert_eq!(
            ex("\\frac{3}{4}"),
            ("\\frac{3}{4}".into(), ExtractRule::Bare)
        );
        assert_eq!(
            ex("We get 12 apples and then 1,250 more"),
            ("1250".into(), ExtractRule::LastNumber)
        );
        assert_eq!(ex("no digits here"), ("".into(), ExtractRule::None));
        assert_eq!(
            ex("it is -3/4 now"),
            ("-3/4".into(), ExtractRule::LastNumber)
        );
    }
}
