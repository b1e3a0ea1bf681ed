//! Where a served model's tokenizer comes from (`--tokenizer`, `--verifier-tokenizer`,
//! `--prm-tokenizer`): a local folder or GGUF file, a hub repo id ("Qwen/Qwen2.5-1.5B-Instruct",
//! optionally "@revision"), or a folder URL in the hub's layout
//! ("https://host/Org/Name/resolve/main/"). Remote tokenizers are downloaded once into a cache
//! folder (`TTSEARCH_CACHE`, else ~/.cache/ttsearch) and loaded from there; the hub is
//! `TTSEARCH_HUB_URL` (default https://huggingface.co) and `HF_TOKEN` is sent as a bearer token.

use std::path::{Path, PathBuf};
use std::time::Duration;
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result, block_on, load};

/// The files a tokenizer folder may hold; tokenizer.json is required.
const FILES: [&str; 6] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "config.json",
    "generation_config.json",
    "chat_template.jinja",
    "special_tokens_map.json",
];

/// A folder URL for `spec` when it names a remote tokenizer (a URL, or a repo id that is not a
/// local path), else None.
fn remote_base(spec: &str) -> Option<String> {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Some(format!("{}/", spec.trim_end_matches('/')));
    }
    if Path::new(spec).exists() {
        return None;
    }
    let (repo, revision) = spec.split_once('@').unwrap_or((spec, "main"));
    let parts: Vec<&str> = repo.split('/').collect();
    let valid = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if parts.len() != 2 || !parts.iter().all(|p| valid(p)) || !valid(revision) {
        return None;
    }
    let hub = std::env::var("TTSEARCH_HUB_URL").unwrap_or_else(|_| "https://huggingface.co".into());
    Some(format!(
        "{}/{repo}/resolve/{revision}/",
        hub.trim_end_matches('/')
    ))
}

fn cache_dir(base: &str) -> PathBuf {
    let root = std::env::var_os("TTSEARCH_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ttsearch")))
        .unwrap_or_else(|| std::env::temp_dir().join("ttsearch-cache"));
    let name: String = base
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    root.join("tokenizers").join(name.trim_matches('_'))
}

/// Downloads the tokenizer files under `base` into `dir` (tokenizer.json required, the others
/// where the server has them).
fn download(base: &str, dir: &Path) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        // The hub redirects to where the bytes live; a token goes along to the same host only.
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
        .build()
        .into();
    let token = std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty());
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)
        .map_err(|e| Error::Io(format!("{}: {e}", partial.display())))?;
    for file in FILES {
        let url = format!("{base}{file}");
        let mut req = agent.get(&url);
        if let Some(t) = &token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut response = req
            .call()
            .map_err(|e| Error::Network(format!("{url}: {e}")))?;
        let status = response.status().as_u16();
        // The hub answers 401 with RepoNotFound for a repository it does not have (or hides).
        let code = response
            .headers()
            .get("x-error-code")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if code == "RepoNotFound" {
            return Err(Error::NotFound(format!(
                "{url}: no such repository (or a private one: set HF_TOKEN)"
            )));
        }
        match status {
            200 => {}
            404 if file != "tokenizer.json" => continue,
            404 => return Err(Error::NotFound(format!("{url}: no tokenizer.json"))),
            401 | 403 => {
                return Err(Error::Unauthorized(format!(
                    "{url}: HTTP {status} (a gated or private repository: set HF_TOKEN)"
                )));
            }
            _ => return Err(Error::Network(format!("{url}: HTTP {status}"))),
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| Error::Network(format!("{url}: {e}")))?;
        let path = partial.join(file);
        std::fs::write(&path, bytes).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&partial, dir).map_err(|e| Error::Io(format!("{}: {e}", dir.display())))
}

/// The local path of the tokenizer `spec` names, downloading it first when it is remote.
pub fn tokenizer_path(spec: &Path) -> Result<PathBuf> {
    let Some(text) = spec.to_str() else {
        return Ok(spec.to_path_buf());
    };
    let Some(base) = remote_base(text) else {
        return Ok(spec.to_path_buf());
    };
    let dir = cache_dir(&base);
    if !dir.join("tokenizer.json").is_file() {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Io(format!("{}: {e}", parent.display())))?;
        }
        download(&base, &dir)?;
    }
    Ok(dir)
}

/// The tokenizer `spec` names (see the module's docs).
pub fn load_tokenizer(spec: &Path) -> Result<Tokenizer> {
    block_on(load::path_tokenizer(&tokenizer_path(spec)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_local_or_remote_tokenizers() {
        assert_eq!(
            remote_base("http://h:1/Org/Name/resolve/main").as_deref(),
            Some("http://h:1/Org/Name/resolve/main/")
        );
        assert!(
            remote_base("Qwen/Qwen2.5-1.5B-Instruct")
                .is_some_and(|b| b.ends_with("/Qwen/Qwen2.5-1.5B-Instruct/resolve/main/"))
        );
        assert!(
            remote_base("Org/Name@v1.0").is_some_and(|b| b.ends_with("/Org/Name/resolve/v1.0/"))
        );
        assert_eq!(remote_base("."), None);
        assert_eq!(remote_base("a/b/c"), None);
        assert_eq!(remote_base("../x y/z"), None);
    }
}
