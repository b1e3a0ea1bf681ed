//! The `ttsearch` binary end to end: grade (single, JSONL, extract) and info, with exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ttsearch(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ttsearch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writes");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn grade_single_pair_and_extract() {
    assert_eq!(
        stdout(&ttsearch(
            &["grade", "--pred", "\\dfrac{1}{2}", "--gold", "0.5"],
            None
        )),
        "true"
    );
    assert_eq!(
        stdout(&ttsearch(
            &["grade", "--pred", "west", "--gold", "\\text{east}"],
            None
        )),
        "false"
    );
    let o = ttsearch(
        &["grade", "--pred", "So $\\boxed{x=5}$.", "--extract"],
        None,
    );
    assert_eq!(stdout(&o), "x=5");
}

#[test]
fn grade_jsonl_in_order_with_rules() {
    let input = "{\"pred\":\"the answer is $\\\\frac{14}{3}$\",\"gold\":\"4\\\\frac23\"}\n\n{\"pred\":\"42\",\"gold\":\"41\"}\n";
    let o = ttsearch(&["grade", "--input", "-"], Some(input));
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["correct"], true);
    assert_eq!(lines[0]["rule"], "answer_is");
    assert_eq!(lines[0]["pred_answer"], "\\frac{14}{3}");
    assert_eq!(lines[1]["correct"], false);
    assert_eq!(lines[1]["rule"], "bare");
}

#[test]
fn grade_rejects_bad_lines_with_a_typed_error() {
    let o = ttsearch(&["grade", "--input", "-"], Some("{\"gold\": 1}\n"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[invalid_argument]"));
}

#[test]
fn info_on_a_gguf_file() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/gguf/types.gguf"
    );
    let o = ttsearch(&["info", "--model", path, "--json"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(info["format"], "GGUF v3");
    assert_eq!(info["architecture"], "ttsearch-test");
    assert_eq!(info["tensors"], 13);
    assert_eq!(info["parameters"], 13 * 1024);
    assert_eq!(info["types"]["Q6_K"]["bytes"], 4 * 210);
    let bad = ttsearch(&["info", "--model", "/etc/hostname"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("[format]"));
}
