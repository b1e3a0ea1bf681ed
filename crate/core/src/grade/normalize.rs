//! String-level clean-up of an answer before parsing (Qwen2.5-Math `strip_string` style),
//! without that function's known bugs: "\pm" survives, `\text{east}` stays "east", and unit
//! exponents go with their unit ("864 \mbox{ inches}^2" -> "864").

/// Words dropped when they trail a number ("18 students", "5 cm", "3 dollars"). Only whole
/// trailing words are dropped, so no LaTeX command or variable is ever eaten.
const MAX_UNIT_WORDS: usize = 3;

/// Finds the byte index of the '}' closing the group that opens at `open`.
pub(crate) fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in s[open..].char_indices() {
        match c {
            '\\' => {
                escaped = !escaped;
                continue;
            }
            '{' if !escaped => depth += 1,
            '}' if !escaped => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
        escaped = false;
    }
    None
}

/// Replaces `\cmd` only where it is not the prefix of a longer command name.
fn replace_command(s: &str, cmd: &str, with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(cmd) {
        let after = &rest[i + cmd.len()..];
        out.push_str(&rest[..i]);
        if after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        {
            out.push_str(cmd);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Rewrites every `\name{X}` (for the given text-like command names) as `\text{X}`.
fn unify_text_commands(s: &str) -> String {
    let mut s = s.to_string();
    for cmd in [
        "\\mbox",
        "\\textbf",
        "\\textit",
        "\\textrm",
        "\\textnormal",
        "\\mathrm",
        "\\mathbf",
        "\\mathit",
        "\\operatorname",
    ] {
        s = replace_command(&s, cmd, "\\text");
    }
    s
}

/// Drops a trailing `\text{...}` (with an optional exponent) that follows a non-text part:
/// a unit or a word after a number.
fn strip_trailing_text(s: &str) -> String {
    let mut s = s.trim().to_string();
    loop {
        // An exponent after the unit: "^2", "^{2}", "^3".
        let mut body = s.as_str();
        if let Some(i) = body.rfind('^') {
            let exp = body[i + 1..].trim_matches(|c| c == '{' || c == '}');
            if !exp.is_empty()
                && exp.chars().all(|c| c.is_ascii_digit())
                && body[..i].ends_with('}')
            {
                body = &body[..i];
            }
        }
        let Some(start) = body.rfind("\\text{") else {
            break;
        };
        let Some(close) = matching_brace(body, start + 5) else {
            break;
        };
        let before = body[..start].trim_end();
        if close + 1 != body.len() || before.is_empty() || before.ends_with('=') {
            break;
        }
        // Only after something numeric-looking.
        if !before
            .chars()
            .any(|c| c.is_ascii_digit() || c == '}' || c == ')')
        {
            break;
        }
        s = before.to_string();
    }
    s
}

/// Drops a run of up to three plain words (two letters or more) that trails a number:
/// "10 inches", "18 students", "4 square feet". Nothing changes unless what remains ends in a
/// digit, '}' or ')'.
fn strip_trailing_words(s: &str) -> String {
    let mut rest = s.trim();
    for _ in 0..MAX_UNIT_WORDS {
        let Some(space) = rest.rfind(' ') else { break };
        let word = &rest[space + 1..];
        // A unit may carry an exponent: "cm^2", "m^{3}".
        let word = match word.split_once('^') {
            Some((unit, exp))
                if exp
                    .trim_matches(['{', '}'])
                    .chars()
                    .all(|c| c.is_ascii_digit()) =>
            {
                unit
            }
            _ => word,
        };
        if word.len() < 2 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
            break;
        }
        rest = rest[..space].trim_end();
        if rest.ends_with(|c: char| c.is_ascii_digit() || c == '}' || c == ')') {
            return rest.to_string();
        }
    }
    s.trim().to_string()
}

/// Unwraps every `\text{X}` to `X`.
fn unwrap_text(s: &str) -> String {
    let mut s = s.to_string();
    while let Some(start) = s.find("\\text{") {
        let Some(close) = matching_brace(&s, start + 5) else {
            break;
        };
        let inner = s[start + 6..close].to_string();
        s.replace_range(start..=close, &inner);
    }
    s
}

/// Whether `s` is an integer or decimal written with thousands commas: "10,080", "1,234.5".
fn is_thousands_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let int = s.split('.').next().unwrap_or("");
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() >= 2
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
        && s[int.len()..].chars().skip(1).all(|c| c.is_ascii_digit())
}

/// Normalizes an answer string for comparison and parsing.
pub fn normalize(raw: &str) -> String {
    let mut s = raw.trim().to_string();
    // Math delimiters around the whole answer.
    for (open, close) in [("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$")] {
        if s.starts_with(open) && s.ends_with(close) && s.len() >= open.len() + close.len() {
            s = s[open.len()..s.len() - close.len()].to_string();
        }
    }
    s = s.replace(['\n', '\t'], " ");
    // A bare answer that still wears its box: "\boxed{42}".
    for cmd in ["\\boxed{", "\\fbox{"] {
        if s.starts_with(cmd) && matching_brace(&s, cmd.len() - 1) == Some(s.len() - 1) {
            s = s[cmd.len()..s.len() - 1].trim().to_string();
        }
    }
    // Spacing commands and thin spaces.
    for spacing in ["\\!", "\\,", "\\;", "\\:", "\\quad", "\\qquad"] {
        s = s.replace(spacing, if spacing.len() > 2 { " " } else { "" });
    }
    // "\ " is a space, but "\\" (a matrix row break) followed by a space is not.
    s = s.replace("\\\\", "\u{1}");
    s = s.replace("\\ ", " ").replace('~', " ").replace("{,}", ",");
    s = s.replace('\u{1}', "\\\\");
    // Sizing and display commands.
    for cmd in ["\\left", "\\right", "\\big", "\\Big", "\\bigg", "\\Bigg"] {
        s = replace_command(&s, cmd, "");
    }
    s = s.replace("\\displaystyle", "");
    s = replace_command(&s, "\\dfrac", "\\frac");
    s = replace_command(&s, "\\tfrac", "\\frac");
    s = replace_command(&s, "\\dbinom", "\\binom");
    s = replace_command(&s, "\\tbinom", "\\binom");
    s = unify_text_commands(&s);
    // Degrees.
    for degree in [
        "^{\\circ}",
        "^\\circ",
        "\\circ",
        "^{\\degree}",
        "\\degree",
        "°",
    ] {
        s = s.replace(degree, "");
    }
    // Currency and percent.
    s = s.replace("\\$", "").replace('$', "");
    s = s.replace("\\%", "").replace('%', "");
    // " or " / " and " between solutions.
    for conj in ["\\text{ or }", "\\text{or}", "\\text{ and }", "\\text{and}"] {
        s = s.replace(conj, ",");
    }
    s = strip_trailing_text(&s);
    s = unwrap_text(&s);
    s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s = s.trim_end_matches('.').to_string();
    s = strip_trailing_words(&s);
    for word in [" degrees", " degree", " percent"] {
        if let Some(stripped) = s.strip_suffix(word) {
            s = stripped.to_string();
        }
    }
    // "x \in [a, b]" -> "[a, b]".
    let chars: Vec<char> = s.chars().collect();
    if chars.len() > 4 && chars[0].is_ascii_alphabetic() {
        let rest = s[1..].trim_start();
        if let Some(r) = rest.strip_prefix("\\in") {
            if !r.starts_with(|c: char| c.is_ascii_alphabetic()) {
                s = r.trim().to_string();
            }
        }
    }
    s = s.trim().trim_end_matches('.').trim().to_string();
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if is_thousands_number(&compact) {
        s = compact.replace(',', "");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn strips_what_the_reference_strips() {
        assert_eq!(
            normalize("\\left( 3, \\frac{\\pi}{2} \\right)"),
            "( 3, \\frac{\\pi}{2} )"
        );
        assert_eq!(normalize("90^\\circ"), "90");
        assert_eq!(normalize("\\dfrac{17}{50}"), "\\frac{17}{50}");
        assert_eq!(normalize("10,\\!080"), "10080");
        assert_eq!(normalize("11,\\! 111,\\! 111,\\! 100"), "11111111100");
        assert_eq!(normalize("\\$32,\\!348"), "32348");
        assert_eq!(normalize("58,500"), "58500");
        assert_eq!(normalize("\\frac{270}7\\text{ degrees}"), "\\frac{270}7");
        assert_eq!(normalize("5.4 \\text{ cents}"), "5.4");
        assert_eq!(normalize("x \\in [-2,7]"), "[-2,7]");
        assert_eq!(normalize("50\\%"), "50");
        assert_eq!(normalize("18 students."), "18");
        assert_eq!(normalize("15 cm^2"), "15");
        assert_eq!(normalize("4 square feet"), "4");
    }

    #[test]
    fn avoids_the_reference_bugs() {
        // The reference's unit list contains "pm" and eats "\pm".
        assert_eq!(normalize("1 \\pm \\sqrt{19}"), "1 \\pm \\sqrt{19}");
        // It also turns \text{east} into "" so that "west" would match.
        assert_eq!(normalize("\\text{east}"), "east");
        assert_eq!(normalize("\\text{west}"), "west");
        // And keeps unit exponents: 864 \mbox{ inches}^2 -> 864^2.
        assert_eq!(normalize("864 \\mbox{ inches}^2"), "864");
        assert_eq!(normalize("15\\mbox{ cm}^2"), "15");
    }

    #[test]
    fn keeps_commands_that_share_a_prefix() {
        assert_eq!(normalize("\\rightarrow"), "\\rightarrow");
        assert_eq!(normalize("2 \\pi r"), "2 \\pi r");
        assert_eq!(normalize("\\text{(C)}"), "(C)");
    }
}
