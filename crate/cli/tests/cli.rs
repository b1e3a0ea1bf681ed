//! The `ttsearch` binary end to end: grade (single, JSONL, extract) and info, with exit codes.

use std::io::Write;
use std::path::Path;
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

fn fixture(path: &str) -> String {
    format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn logits_match_transformers_on_a_fixture() {
    let dir = fixture("models/gemma3-tiny");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/golden.json")).expect("golden"),
    )
    .expect("json");
    let seq = &golden["sequences"][1];
    let tokens: Vec<String> = seq["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| t.to_string())
        .collect();
    let o = ttsearch(
        &[
            "logits",
            "--model",
            &dir,
            "--tokens",
            &tokens.join(","),
            "--positions",
            "all",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let (got, want) = (
        out["logits"].as_array().expect("logits"),
        seq["logits"].as_array().expect("golden"),
    );
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let (g, w) = (g.as_array().expect("row"), w.as_array().expect("row"));
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(w) {
            let (a, b) = (a.as_f64().expect("number"), b.as_f64().expect("number"));
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
    let last = ttsearch(
        &[
            "logits",
            "--model",
            &dir,
            "--tokens",
            "9,8",
            "--positions",
            "last",
            "--json",
        ],
        None,
    );
    let out: serde_json::Value = serde_json::from_str(&stdout(&last)).expect("JSON");
    assert_eq!(out["logits"].as_array().map(Vec::len), Some(1));
    let bad = ttsearch(
        &["logits", "--model", &dir, "--tokens", "9,300", "--json"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("outside the vocabulary"));
}

#[test]
fn info_on_a_safetensors_folder() {
    let o = ttsearch(
        &["info", "--model", &fixture("models/llama-tiny"), "--json"],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(info["format"], "safetensors");
    assert_eq!(info["architecture"], "Llama");
    assert_eq!(info["config"]["num_hidden_layers"], 2);
    assert_eq!(info["tensors"], 21);
    assert_eq!(info["types"]["F32"]["tensors"], 21);
}

#[test]
fn logits_in_quantized_formats_stay_near_f32() {
    let dir = fixture("models/llama-tiny");
    let run = |dtype: &str| -> Vec<f64> {
        let o = ttsearch(
            &[
                "logits",
                "--model",
                &dir,
                "--tokens",
                "5,17,200,3",
                "--positions",
                "last",
                "--dtype",
                dtype,
                "--json",
            ],
            None,
        );
        assert!(
            o.status.success(),
            "{dtype}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        out["logits"][0]
            .as_array()
            .expect("row")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect()
    };
    let f32_logits = run("f32");
    for (dtype, bound) in [("f16", 0.01), ("q8", 0.1), ("q4", 1.0)] {
        let logits = run(dtype);
        assert_eq!(logits.len(), f32_logits.len());
        let d = logits
            .iter()
            .zip(&f32_logits)
            .map(|(a, b)| (a - b).abs())
            .fold(
                0.0,
                |m: f64, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
            );
        assert!(d < bound, "{dtype}: max |logit - f32| = {d}");
    }
    let bad = ttsearch(
        &["logits", "--model", &dir, "--tokens", "5", "--dtype", "q3"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("weight format"));
}

/// `generate`: n samples of one prompt; the greedy sample equals the argmax chain of `logits`.
#[test]
fn generate_samples_and_greedy_matches_logits() {
    let model = fixture("models/gguf/llama-tiny-f32.gguf");
    let out = ttsearch(
        &[
            "generate",
            "--model",
            &model,
            "--prompt-tokens",
            "5,17,200",
            "--n",
            "3",
            "--temperature",
            "0.9",
            "--seed",
            "3",
            "--max-tokens",
            "6",
            "--logprobs",
            "2",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let outputs = v["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), 3);
    for o in outputs {
        assert_eq!(o["tokens"].as_array().expect("tokens").len(), 6);
        assert_eq!(o["finish_reason"], "length");
        assert_eq!(o["top_logprobs"][0].as_array().expect("top").len(), 2);
    }
    assert_eq!(v["counters"]["generated_tokens"], 18);
    let greedy = ttsearch(
        &[
            "generate",
            "--model",
            &model,
            "--prompt-tokens",
            "5,17,200",
            "--temperature",
            "0",
            "--max-tokens",
            "3",
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&greedy)).expect("json");
    let tokens: Vec<u64> = v["outputs"][0]["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| t.as_u64().expect("id"))
        .collect();
    let mut context = vec![5u64, 17, 200];
    for t in tokens {
        let ids: Vec<String> = context.iter().map(u64::to_string).collect();
        let out = ttsearch(
            &[
                "logits",
                "--model",
                &model,
                "--tokens",
                &ids.join(","),
                "--positions",
                "last",
                "--json",
            ],
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        let row: Vec<f64> = v["logits"][0]
            .as_array()
            .expect("row")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect();
        let best = (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b });
        assert_eq!(best as u64, t);
        context.push(t);
    }
    let bad = ttsearch(
        &[
            "generate",
            "--model",
            &model,
            "--prompt-tokens",
            "1",
            "--top-p",
            "2",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid_argument"));
}

/// `bench` on a tiny checkpoint: one row per batch size with positive rates.
#[test]
fn bench_reports_every_batch_size() {
    let model = fixture("models/qwen2-tiny");
    let out = ttsearch(
        &[
            "bench",
            "--model",
            &model,
            "--batch",
            "1,3",
            "--prompt-len",
            "8",
            "--gen",
            "4",
            "--dtype",
            "q8",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    for (row, batch) in rows.iter().zip([1, 3]) {
        assert_eq!(row["batch"], batch);
        assert!(row["decode_tokens_per_s"].as_f64().expect("rate") > 0.0);
        assert!(row["kv_blocks_peak"].as_u64().expect("blocks") >= 1);
    }
    assert!(v["memory_copy_gb_s"].as_f64().expect("bw") > 0.0);
    assert!(v["weight_bytes_per_step"].as_u64().expect("bytes") > 0);
}

/// `tokenize` and `prompt` on the real Qwen2.5 tokenizer files (scripts/fetch_tokenizers.sh).
#[test]
fn tokenize_and_prompt_with_the_qwen_tokenizer() {
    let dir = format!(
        "{}/../../target/tokenizers/qwen2.5",
        env!("CARGO_MANIFEST_DIR")
    );
    if !std::path::Path::new(&dir).join("tokenizer.json").exists() {
        eprintln!("SKIPPED: run scripts/fetch_tokenizers.sh");
        return;
    }
    let out = ttsearch(
        &["tokenize", "--model", &dir, "--text", "x\n\n", "--json"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["ids"], serde_json::json!([87, 271]));
    assert_eq!(v["tokens"], serde_json::json!(["x", "ĊĊ"]));
    let out = ttsearch(
        &[
            "prompt",
            "--model",
            &dir,
            "--system",
            "S",
            "--problem",
            "Q?",
            "--partial",
            "Step 1.\n\n",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(
        v["text"],
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\nStep 1.\n\n"
    );
    assert_eq!(v["ids"][0], 151644);
    assert_eq!(
        v["ids"].as_array().expect("ids").last(),
        Some(&serde_json::json!(382)) // ".\n\n"
    );
}

/// `score` with the tiny Skywork-style PRM against the reference scores.
#[test]
fn score_steps_with_a_prm() {
    let dir = fixture("prms");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/golden.json")).expect("golden"),
    )
    .expect("json");
    let case = &golden["cases"][0];
    let steps = std::env::temp_dir().join(format!("ttsearch-steps-{}.json", std::process::id()));
    std::fs::write(&steps, case["steps"].to_string()).expect("write steps");
    let out = ttsearch(
        &[
            "score",
            "--prm",
            &format!("{dir}/skywork-tiny"),
            "--question",
            case["question"].as_str().expect("question"),
            "--steps",
            steps.to_str().expect("path"),
            "--json",
        ],
        None,
    );
    let _ = std::fs::remove_file(&steps);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let got = v["scores"].as_array().expect("scores");
    let want = case["scores"]["skywork"].as_array().expect("want");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g.as_f64().expect("g") - w.as_f64().expect("w")).abs() < 1e-4);
    }
    assert_eq!(
        v["tokens_fed"],
        case["ids"]["skywork"].as_array().expect("ids").len()
    );
}

/// `score --kind trl` with the tiny TRL PRM: the separator its training_args.bin records, then
/// one given by `--separator`, against TRL's and transformers' scores; `solve --prm-kind trl`
/// runs beam search with it.
#[test]
fn score_and_solve_with_a_trl_prm() {
    let dir = fixture("prms");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/trl-golden.json")).expect("golden"),
    )
    .expect("json");
    let prm = format!("{dir}/trl-tiny");
    let case = &golden["cases"][0];
    let steps =
        std::env::temp_dir().join(format!("ttsearch-trl-steps-{}.json", std::process::id()));
    std::fs::write(&steps, case["steps"].to_string()).expect("write steps");
    let steps_arg = steps.display().to_string();
    for (key, separator) in [("trl", None), ("trl-blank-line", Some("\n\n"))] {
        let question = case["question"].as_str().expect("question");
        let mut args = vec![
            "score",
            "--prm",
            &prm,
            "--kind",
            "trl",
            "--question",
            question,
            "--steps",
            &steps_arg,
            "--json",
        ];
        if let Some(separator) = separator {
            args.extend(["--separator", separator]);
        }
        let out = ttsearch(&args, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        let got = v["scores"].as_array().expect("scores");
        let want = case["scores"][key].as_array().expect("want");
        assert_eq!(got.len(), want.len(), "{key}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.as_f64().expect("g") - w.as_f64().expect("w")).abs() < 1e-4,
                "{key}: {got:?} vs {want:?}"
            );
        }
        assert_eq!(
            v["tokens_fed"],
            case["ids"][key].as_array().expect("ids").len(),
            "{key}"
        );
    }
    let _ = std::fs::remove_file(&steps);
    let policy = fixture("prms/policy-tiny");
    let mut args = vec![
        "solve",
        "--policy",
        &policy,
        "--prm",
        &prm,
        "--prm-kind",
        "trl",
        "--problem",
        "What is $1+1$?",
        "--strategy",
        "beam",
        "--n",
        "4",
        "--json",
    ];
    args.extend(TINY_SEARCH);
    let o = ttsearch(&args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let outcome = &v["outcome"];
    assert_eq!(outcome["strategy"], "beam");
    assert!(
        !outcome["completions"]
            .as_array()
            .expect("completions")
            .is_empty()
    );
    let report = &outcome["report"];
    assert!(
        report["prm_tokens_fed"].as_u64() < report["prm_rescore_tokens"].as_u64(),
        "{report}"
    );
}

const TINY_SEARCH: [&str; 8] = [
    "--num-iterations",
    "3",
    "--max-tokens",
    "16",
    "--dtype",
    "f32",
    "--beam-width",
    "2",
];

#[test]
fn solve_with_a_prm_and_with_self_verification() {
    let policy = fixture("prms/policy-tiny");
    let prm = fixture("prms/skywork-tiny");
    let trace = std::env::temp_dir().join(format!("ttsearch-trace-{}.jsonl", std::process::id()));
    let trace_arg = trace.display().to_string();
    let mut args = vec![
        "solve",
        "--policy",
        &policy,
        "--prm",
        &prm,
        "--problem",
        "What is $1+1$?",
        "--strategy",
        "beam",
        "--n",
        "4",
        "--trace",
        &trace_arg,
        "--json",
    ];
    args.extend(TINY_SEARCH);
    let o = ttsearch(&args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let outcome = &v["outcome"];
    assert_eq!(outcome["strategy"], "beam");
    let completions = outcome["completions"].as_array().expect("completions");
    assert!(!completions.is_empty() && completions.len() <= 4);
    let report = &outcome["report"];
    assert!(report["prm_tokens_fed"].as_u64().expect("fed") > 0);
    assert!(
        report["prm_tokens_fed"].as_u64() < report["prm_rescore_tokens"].as_u64(),
        "{report}"
    );
    // The trace: started first, finished last, every line an event.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
        .expect("trace")
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    assert_eq!(lines[0]["event"], "started");
    assert_eq!(lines[lines.len() - 1]["event"], "finished");
    assert!(lines.iter().any(|e| e["event"] == "step_proposed"));
    let _ = std::fs::remove_file(&trace);

    let mut args = vec![
        "solve",
        "--policy",
        &policy,
        "--verifier",
        "self",
        "--problem",
        "What is $1+1$?",
        "--strategy",
        "dvts",
        "--n",
        "4",
        "--json",
    ];
    args.extend(TINY_SEARCH);
    let o = ttsearch(&args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(
        v["outcome"]["completions"].as_array().map(Vec::len),
        Some(4)
    );

    // Invalid parameters: a typed error that says what to change.
    let mut args = vec![
        "solve",
        "--policy",
        &policy,
        "--prm",
        &prm,
        "--problem",
        "x",
        "--strategy",
        "dvts",
        "--n",
        "3",
    ];
    args.extend(TINY_SEARCH);
    let o = ttsearch(&args, None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid_argument") && err.contains("use n = 4"),
        "{err}"
    );
}

#[test]
fn eval_writes_records_and_summary_and_resumes() {
    let out = std::env::temp_dir().join(format!("ttsearch-eval-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let out_arg = out.display().to_string();
    let dataset = format!(
        "{}/../../../shared/data/math500.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let policy = fixture("prms/policy-tiny");
    let prm = fixture("prms/skywork-tiny");
    let eval = |limit: &str| {
        let mut args = vec![
            "eval",
            "--dataset",
            &dataset,
            "--policy",
            &policy,
            "--prm",
            &prm,
            "--strategy",
            "weighted-bon",
            "--n",
            "1,2,4",
            "--levels",
            "1-5",
            "--limit",
            limit,
            "--out",
            &out_arg,
        ];
        args.extend(TINY_SEARCH);
        ttsearch(&args, None)
    };
    let o = eval("2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = |_: ()| -> Vec<serde_json::Value> {
        std::fs::read_to_string(out.join("results.jsonl"))
            .expect("results")
            .lines()
            .map(|l| serde_json::from_str(l).expect("row"))
            .collect()
    };
    let first = rows(());
    assert_eq!(first.len(), 2);
    for row in &first {
        for key in [
            "completions",
            "scores",
            "pred",
            "completion_tokens",
            "pred_naive@1",
            "pred_weighted@2",
            "pred_maj@4",
            "answer@4",
            "answer_naive@1",
            "answer_weighted@2",
            "answer_maj@4",
        ] {
            assert!(row.get(key).is_some(), "{key} missing");
        }
        assert_eq!(row["completions"].as_array().map(Vec::len), Some(4));
        assert!(
            row["pred_weighted@4"]
                .as_str()
                .expect("pred")
                .starts_with("\\boxed{")
        );
    }
    // An interrupted write (a torn last line) is dropped; the run resumes after the done ones.
    let mut text = std::fs::read_to_string(out.join("results.jsonl")).expect("results");
    text.push_str("{\"unique_id\": \"torn");
    std::fs::write(out.join("results.jsonl"), text).expect("writes");
    let o = eval("3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("2 problems done, 1 to go"));
    let all = rows(());
    assert_eq!(all.len(), 3);
    assert_eq!(all[..2], first[..]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert_eq!(summary["problems"], 3);
    assert_eq!(summary["by_n"]["4"]["weighted"]["problems"], 3);
    assert_eq!(summary["by_n"]["4"]["answer_weighted"]["problems"], 3);
    assert!(
        summary["by_level"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
    );
    // Other settings in the same folder are refused.
    let o = ttsearch(
        &[
            "eval",
            "--dataset",
            &dataset,
            "--policy",
            &policy,
            "--prm",
            &prm,
            "--strategy",
            "bon",
            "--n",
            "4",
            "--out",
            &out_arg,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn eval_under_prod_records_both_rules() {
    use ttsearch::search::{AggStrategy, Completion, select, select_search_and_learn};
    let out = std::env::temp_dir().join(format!("ttsearch-eval-prod-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let out_arg = out.display().to_string();
    let dataset = format!(
        "{}/../../../shared/data/math500.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let (policy, prm) = (fixture("prms/policy-tiny"), fixture("prms/skywork-tiny"));
    let mut args = vec![
        "eval",
        "--dataset",
        &dataset,
        "--policy",
        &policy,
        "--prm",
        &prm,
        "--strategy",
        "weighted-bon",
        "--agg",
        "prod",
        "--n",
        "2,4",
        "--limit",
        "2",
        "--out",
        &out_arg,
    ];
    args.extend(TINY_SEARCH);
    let o = ttsearch(&args, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("agg prod"));
    let text = std::fs::read_to_string(out.join("results.jsonl")).expect("results");
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("row");
        let texts = row["completions"].as_array().expect("completions");
        let scores = row["scores"].as_array().expect("scores");
        let completions: Vec<Completion> = texts
            .iter()
            .zip(scores)
            .map(|(t, s)| Completion {
                text: t.as_str().expect("text").to_string(),
                scores: s
                    .as_array()
                    .expect("scores")
                    .iter()
                    .map(|v| v.as_f64().expect("score") as f32)
                    .collect(),
                tokens: 0,
            })
            .collect();
        for n in [2, 4] {
            let sal = select_search_and_learn(&completions[..n]);
            let own = select(&completions[..n], AggStrategy::Prod);
            let naive = |s: &ttsearch::search::Selection| {
                s.naive.map_or(String::new(), |i| s.answers[i].clone())
            };
            let boxed = |a: String| format!("\\boxed{{{a}}}");
            assert_eq!(row[format!("pred_naive@{n}")], boxed(naive(&sal)));
            assert_eq!(
                row[format!("pred_weighted@{n}")],
                boxed(sal.weighted.clone().unwrap_or_default())
            );
            assert_eq!(
                row[format!("pred_maj@{n}")],
                boxed(sal.majority.clone().unwrap_or_default())
            );
            assert_eq!(row[format!("answer_naive@{n}")], naive(&own));
            assert_eq!(
                row[format!("answer_weighted@{n}")],
                own.weighted.clone().unwrap_or_default()
            );
            assert_eq!(
                row[format!("answer@{n}")],
                own.weighted.clone().unwrap_or_default()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn shards_merge_into_one_summary_with_plots() {
    let root = std::env::temp_dir().join(format!("ttsearch-shards-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dataset = format!(
        "{}/../../../shared/data/math500.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let (policy, prm) = (fixture("prms/policy-tiny"), fixture("prms/skywork-tiny"));
    let dir = |name: &str| root.join(name).display().to_string();
    let eval = |shard: &str, out: &str| {
        let mut args = vec![
            "eval",
            "--dataset",
            &dataset,
            "--policy",
            &policy,
            "--prm",
            &prm,
            "--strategy",
            "bon",
            "--n",
            "1,2",
            "--limit",
            "5",
            "--shard",
            shard,
            "--out",
            out,
        ];
        args.extend(TINY_SEARCH);
        let o = ttsearch(&args, None);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    eval("0/2", &dir("s0"));
    eval("1/2", &dir("s1"));
    // The first shard again elsewhere: its problems count once.
    eval("0/2", &dir("again"));
    let count = |d: &str| {
        std::fs::read_to_string(Path::new(d).join("results.jsonl"))
            .expect("results")
            .lines()
            .count()
    };
    assert_eq!((count(&dir("s0")), count(&dir("s1"))), (3, 2));
    let merged = dir("merged");
    let o = ttsearch(
        &[
            "eval-summary",
            &dir("s0"),
            &dir("s1"),
            &dir("again"),
            "--out",
            &merged,
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&merged).join("summary.json")).expect("summary"),
    )
    .expect("JSON");
    assert_eq!(summary["problems"], 5);
    assert_eq!(summary["duplicates"], 3);
    assert_eq!(summary["shards"], serde_json::json!(["0/2", "1/2", "0/2"]));
    assert_eq!(summary["missing_shards"], serde_json::json!([]));
    assert_eq!(summary["by_n"]["2"]["weighted"]["problems"], 5);
    for plot in ["accuracy.svg", "accuracy_by_level-bon.svg"] {
        let svg = std::fs::read_to_string(Path::new(&merged).join(plot)).expect("a plot");
        assert!(svg.contains("<svg") && svg.contains("accuracy"), "{plot}");
    }
    assert!(
        std::fs::read_to_string(Path::new(&merged).join("accuracy.svg"))
            .expect("plot")
            .contains("bon: weighted")
    );
    // A missing shard is named.
    let o = ttsearch(&["eval-summary", &dir("s1"), "--out", &dir("one")], None);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("[\"0/2\"] are missing"));
    // Several folders need --out.
    let o = ttsearch(&["eval-summary", &dir("s0"), &dir("bad-missing")], None);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&root);
}

/// scripts/hub.mjs serving `repos` (repo id -> folder, token) on a free port; killed on drop.
struct Hub(std::process::Child, String);

impl Hub {
    fn start(repos: &str) -> Hub {
        let hub = format!("{}/../../scripts/hub.mjs", env!("CARGO_MANIFEST_DIR"));
        let script = format!(
            "import {{ createServer }} from 'node:http'; import {{ hubHandler }} from '{hub}';
             const h = hubHandler({repos});
             const s = createServer((req, res) => h.handle(req, res).then((done) => {{
               if (!done) {{ res.writeHead(404); res.end(); }} }}));
             s.listen(0, '127.0.0.1', () => console.log(s.address().port));"
        );
        let mut child = Command::new("node")
            .args(["--input-type=module", "-e", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("the port");
        let url = format!("http://127.0.0.1:{}", line.trim());
        Hub(child, url)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_served_models_tokenizer_comes_from_the_hub_layout() {
    let policy = std::fs::canonicalize(fixture("prms/policy-tiny"))
        .expect("the fixture")
        .display()
        .to_string();
    let hub = Hub::start(&format!(
        "{{ 'test/policy-tiny': {{ dir: '{policy}' }}, 'test/gated': {{ dir: '{policy}', token: 'secret' }} }}"
    ));
    let cache = std::env::temp_dir().join(format!("ttsearch-tok-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    // No server listens here: the run fails at the policy's server, after the tokenizer loaded.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        format!("http://{}", l.local_addr().expect("address"))
    };
    let run = |tokenizer: &str, env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ttsearch"));
        cmd.args([
            "solve",
            "--problem",
            "1+1",
            "--strategy",
            "cot",
            "--retries",
            "1",
        ])
        .args([
            "--policy-url",
            &closed,
            "--policy-model",
            "m",
            "--tokenizer",
            tokenizer,
        ])
        .env("TTSEARCH_CACHE", &cache)
        .env("TTSEARCH_HUB_URL", &hub.1);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.output().expect("runs");
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    for spec in [
        "test/policy-tiny".to_string(),
        format!("{}/test/policy-tiny/resolve/main", hub.1),
    ] {
        let err = run(&spec, &[]);
        assert!(err.contains("unreachable"), "{spec}: {err}");
    }
    let cached = std::fs::read_dir(cache.join("tokenizers"))
        .expect("a cache")
        .flatten()
        .next()
        .expect("one tokenizer")
        .path();
    for file in ["tokenizer.json", "tokenizer_config.json"] {
        assert_eq!(
            std::fs::read(cached.join(file)).expect("cached"),
            std::fs::read(Path::new(&policy).join(file)).expect("fixture"),
            "{file}"
        );
    }
    let err = run("test/missing", &[]);
    assert!(err.contains("not_found"), "{err}");
    let err = run("test/gated", &[]);
    assert!(
        err.contains("unauthorized") && err.contains("HF_TOKEN"),
        "{err}"
    );
    let err = run("test/gated", &[("HF_TOKEN", "secret")]);
    assert!(err.contains("unreachable"), "{err}");
    let _ = std::fs::remove_dir_all(&cache);
}
