//! A solver in JS: a policy model with a PRM model, with itself as generative verifier, or
//! alone (CoT, majority vote); `solve` runs one search with live events and cancellation and
//! resolves to the answer, the completions with their step scores, the three selections with
//! their votes, and the report.

use crate::cancel::Cancel;
use crate::error::{from_js, to_js, to_js_error};
use crate::model::{Model, Parts, Shared, put_back, step_hook, take};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use ttsearch::engine::{AnyBackend, CancelToken, Engine};
use ttsearch::grade::group_answers;
use ttsearch::prm::{Prm, PrmFormat, PrmHead};
use ttsearch::search::{
    AggStrategy, EnginePolicy, Models, NoScorer, Policy, PolicyPrompt, SearchEvent, SearchOptions,
    SearchOutcome, SearchParams, SelfVerified, StepScorer, Strategy, search, split_steps,
};
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// Search parameters from JS: camelCase forms of the core's (search-and-learn's) names.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SolveArgs {
    strategy: Option<String>,
    n: Option<usize>,
    beam_width: Option<usize>,
    num_iterations: Option<usize>,
    lookahead: Option<usize>,
    #[serde(alias = "agg")]
    agg_strategy: Option<String>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    max_tokens: Option<usize>,
    seed: Option<u64>,
    filter_duplicates: Option<bool>,
    sort_completed: Option<bool>,
    shrink_width: Option<bool>,
    auto_probes: Option<usize>,
    /// AIME-level problems (the compute-optimal choice uses the competition rules).
    #[serde(default)]
    competition: bool,
}

impl SolveArgs {
    fn params(&self) -> Result<SearchParams> {
        let d = SearchParams::default();
        let p = SearchParams {
            strategy: match &self.strategy {
                Some(s) => Strategy::parse(s)?,
                None => d.strategy,
            },
            n: self.n.unwrap_or(d.n),
            beam_width: self.beam_width.unwrap_or(d.beam_width),
            num_iterations: self.num_iterations.unwrap_or(d.num_iterations),
            lookahead: self.lookahead.unwrap_or(d.lookahead),
            agg_strategy: match &self.agg_strategy {
                Some(s) => AggStrategy::parse(s)?,
                None => d.agg_strategy,
            },
            temperature: self.temperature.unwrap_or(d.temperature),
            top_p: self.top_p.unwrap_or(d.top_p),
            max_tokens: self.max_tokens.unwrap_or(d.max_tokens),
            seed: self.seed.unwrap_or(d.seed),
            filter_duplicates: self.filter_duplicates.unwrap_or(d.filter_duplicates),
            sort_completed: self.sort_completed.unwrap_or(d.sort_completed),
            shrink_width: self.shrink_width.unwrap_or(d.shrink_width),
            auto_probes: self.auto_probes.unwrap_or(d.auto_probes),
        };
        p.validate()?;
        Ok(p)
    }
}

/// Which verifier a solver uses.
enum Verifier {
    /// A PRM model of this kind (default: from its head).
    Prm(Shared, Option<PrmFormat>),
    /// The policy itself, as a generative verifier.
    SelfVerified,
    /// None (CoT and majority vote only).
    None,
}

/// A policy with its verifier.
#[wasm_bindgen]
pub struct Solver {
    policy: Shared,
    verifier: Verifier,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompletionOut {
    text: String,
    steps: Vec<String>,
    step_scores: Vec<f32>,
    aggregated: f32,
    answer: String,
    tokens: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupOut {
    answer: String,
    votes: usize,
    weight: f32,
    members: Vec<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SelectionOut {
    naive: Option<String>,
    weighted: Option<String>,
    majority: Option<String>,
    groups: Vec<GroupOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SolveOut {
    answer: Option<String>,
    strategy: Strategy,
    completions: Vec<CompletionOut>,
    selection: SelectionOut,
    report: ttsearch::search::SearchReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto: Option<ttsearch::search::AutoChoice>,
}

fn shape(outcome: SearchOutcome) -> SolveOut {
    let s = &outcome.selection;
    let groups = group_answers(&s.answers)
        .into_iter()
        .map(|g| GroupOut {
            votes: g.members.len(),
            weight: g.members.iter().map(|&i| s.aggregated[i]).sum(),
            answer: g.answer,
            members: g.members,
        })
        .collect();
    let completions = outcome
        .completions
        .iter()
        .enumerate()
        .map(|(i, c)| CompletionOut {
            steps: split_steps(&c.text).into_iter().map(String::from).collect(),
            text: c.text.clone(),
            step_scores: c.scores.clone(),
            aggregated: s.aggregated.get(i).copied().unwrap_or(0.0),
            answer: s.answers.get(i).cloned().unwrap_or_default(),
            tokens: c.tokens,
        })
        .collect();
    SolveOut {
        answer: outcome.answer.clone(),
        strategy: outcome.strategy,
        completions,
        selection: SelectionOut {
            naive: s
                .naive
                .and_then(|i| s.answers.get(i))
                .filter(|a| !a.is_empty())
                .cloned(),
            weighted: s.weighted.clone(),
            majority: s.majority.clone(),
            groups,
        },
        report: outcome.report,
        auto: outcome.auto,
    }
}

fn need_tokenizer(t: Result<Tokenizer>, role: &str) -> Result<Tokenizer> {
    t.map_err(|e| Error::InvalidArgument(format!("the {role} needs a tokenizer: {e}")))
}

/// What a search reports to JS: each event as a plain object, and the clock.
struct Reporting<'a> {
    cancel: &'a CancelToken,
    on_event: Option<js_sys::Function>,
    competition: bool,
}

fn seconds() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// Runs `search` on `models` with `r`'s reporting.
async fn searched<M: Policy + StepScorer>(
    models: &mut M,
    problem: &str,
    params: &SearchParams,
    r: &Reporting<'_>,
) -> Result<SearchOutcome> {
    let mut sink = |event: &SearchEvent| {
        if let (Some(f), Ok(value)) = (&r.on_event, to_js(event)) {
            let _ = f.call1(&JsValue::NULL, &value);
        }
    };
    let options = SearchOptions {
        cancel: Some(r.cancel),
        on_event: Some(&mut sink),
        clock: Some(&seconds),
        competition: r.competition,
    };
    search(models, problem, params, options).await
}

/// Runs one search on the taken parts; returns them with the outcome.
async fn run(
    policy: Parts,
    prm: Option<(Parts, Option<PrmFormat>)>,
    self_verified: bool,
    problem: &str,
    params: &SearchParams,
    reporting: &Reporting<'_>,
) -> (Parts, Option<Parts>, Result<SearchOutcome>) {
    let prompt = PolicyPrompt::default();
    let Parts {
        engine,
        tokenizer,
        head,
    } = policy;
    let tokenizer = match need_tokenizer(tokenizer, "policy") {
        Ok(t) => t,
        Err(e) => {
            let policy = Parts {
                engine,
                tokenizer: Err(e.clone()),
                head,
            };
            return (policy, prm.map(|(p, _)| p), Err(e));
        }
    };
    let back = |engine: Engine<AnyBackend>, tokenizer: Option<Tokenizer>, head| Parts {
        engine,
        tokenizer: tokenizer.ok_or_else(|| Error::InvalidArgument("no tokenizer".into())),
        head,
    };
    if self_verified {
        let format = PrmFormat::Generative;
        let verifier_head = match PrmHead::for_format(None, format, &tokenizer) {
            Ok(h) => h,
            Err(e) => return (back(engine, Some(tokenizer), head), None, Err(e)),
        };
        let mut models =
            SelfVerified::new(Prm::new(engine, tokenizer, verifier_head, format), prompt);
        let outcome = searched(&mut models, problem, params, reporting).await;
        let (engine, tokenizer, _) = models.into_prm().into_parts();
        return (back(engine, tokenizer, head), None, outcome);
    }
    let mut policy = EnginePolicy::new(engine, tokenizer, prompt);
    let Some((prm_parts, kind)) = prm else {
        let mut models = Models {
            policy,
            scorer: NoScorer,
        };
        let outcome = searched(&mut models, problem, params, reporting).await;
        let (engine, tokenizer) = models.policy.into_parts();
        return (back(engine, Some(tokenizer), head), None, outcome);
    };
    let Parts {
        engine: prm_engine,
        tokenizer: prm_tokenizer,
        head: prm_head,
    } = prm_parts;
    let scorer = need_tokenizer(prm_tokenizer, "PRM").and_then(|t| {
        let format = match kind {
            Some(k) => k,
            None => PrmFormat::detect(prm_head.as_ref())?,
        };
        let h = PrmHead::for_format(prm_head.clone(), format, &t)?;
        Ok((t, h, format))
    });
    let (prm_tokenizer, h, format) = match scorer {
        Ok(x) => x,
        Err(e) => {
            let (engine, tokenizer) = policy.into_parts();
            let prm = Parts {
                engine: prm_engine,
                tokenizer: Err(e.clone()),
                head: prm_head,
            };
            return (back(engine, Some(tokenizer), head), Some(prm), Err(e));
        }
    };
    let scorer = Prm::new(prm_engine, prm_tokenizer, h, format);
    let mut models = Models { policy, scorer };
    let outcome = searched(&mut models, problem, params, reporting).await;
    let Models { policy: p, scorer } = models;
    policy = p;
    let (engine, tokenizer) = policy.into_parts();
    let (prm_engine, prm_tokenizer, _) = scorer.into_parts();
    (
        back(engine, Some(tokenizer), head),
        Some(back(prm_engine, prm_tokenizer, prm_head)),
        outcome,
    )
}

#[wasm_bindgen]
impl Solver {
    /// A policy with a PRM model (`kind`: skywork, qwen-prm, rlhflow, math-shepherd, trl,
    /// generative; default: from the PRM's config and head).
    #[wasm_bindgen(js_name = withPrm)]
    pub fn with_prm(
        policy: &Model,
        prm: &Model,
        kind: Option<String>,
    ) -> std::result::Result<Solver, JsValue> {
        if Rc::ptr_eq(&policy.parts, &prm.parts) {
            return Err(to_js_error(Error::InvalidArgument(
                "the policy and the PRM are one model: use verifier 'self'".into(),
            )));
        }
        let kind = kind
            .as_deref()
            .map(PrmFormat::parse)
            .transpose()
            .map_err(to_js_error)?;
        Ok(Solver {
            policy: Rc::clone(&policy.parts),
            verifier: Verifier::Prm(Rc::clone(&prm.parts), kind),
        })
    }

    /// A policy that verifies its own steps (one copy of the weights).
    #[wasm_bindgen(js_name = selfVerified)]
    pub fn self_verified(policy: &Model) -> Solver {
        Solver {
            policy: Rc::clone(&policy.parts),
            verifier: Verifier::SelfVerified,
        }
    }

    /// A policy without a verifier (CoT and majority vote).
    #[wasm_bindgen(js_name = policyOnly)]
    pub fn policy_only(policy: &Model) -> Solver {
        Solver {
            policy: Rc::clone(&policy.parts),
            verifier: Verifier::None,
        }
    }

    /// Checks search parameters (camelCase search-and-learn names) without running anything;
    /// rejects with `invalid_argument` saying what to change.
    pub fn check(&self, params: JsValue) -> std::result::Result<(), JsValue> {
        let args: SolveArgs = from_js(params, "search parameters").map_err(to_js_error)?;
        args.params().map_err(to_js_error)?;
        Ok(())
    }

    /// Searches for a solution of `problem`: `onEvent(event)` receives every search event as a
    /// plain object, `onStep(counters)` runs after every policy decode step, `cancel` stops the
    /// search (every sequence and KV block is then released). Resolves to
    /// `{ answer, strategy, completions, selection, report }`.
    pub fn solve(
        &self,
        problem: String,
        params: JsValue,
        on_event: Option<js_sys::Function>,
        on_step: Option<js_sys::Function>,
        cancel: &Cancel,
    ) -> js_sys::Promise {
        let policy_slot = Rc::clone(&self.policy);
        let (prm_slot, kind, self_verified) = match &self.verifier {
            Verifier::Prm(slot, kind) => (Some(Rc::clone(slot)), *kind, false),
            Verifier::SelfVerified => (None, None, true),
            Verifier::None => (None, None, false),
        };
        let cancel = cancel.clone();
        future_to_promise(async move {
            let args: SolveArgs = from_js(params, "search parameters").map_err(to_js_error)?;
            let competition = args.competition;
            let params = args.params().map_err(to_js_error)?;
            let mut policy = take(&policy_slot, "the policy").map_err(to_js_error)?;
            let prm = match &prm_slot {
                Some(slot) => match take(slot, "the PRM") {
                    Ok(parts) => Some((parts, kind)),
                    Err(e) => {
                        put_back(&policy_slot, policy);
                        return Err(to_js_error(e));
                    }
                },
                None => None,
            };
            if let Some(f) = on_step {
                policy.engine.set_step_hook(Some(step_hook(f)));
            }
            let reporting = Reporting {
                cancel: &cancel.token,
                on_event,
                competition,
            };
            let (policy, prm, outcome) =
                run(policy, prm, self_verified, &problem, &params, &reporting).await;
            put_back(&policy_slot, policy);
            if let (Some(slot), Some(parts)) = (&prm_slot, prm) {
                put_back(slot, parts);
            }
            to_js(&shape(outcome.map_err(to_js_error)?))
        })
    }
}
