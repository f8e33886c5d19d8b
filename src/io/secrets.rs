//! Keeping credentials out of everything the tool prints or writes: the user info of URLs
//! (`http://user:secret@host`, e.g. an `--endpoint`) and the values of the cloud credential
//! variables. Error messages (printed by `main`), `_manifest.json`, the run report and the
//! notes of `--on-error skip` go through [`redact`] or [`redact_url`].

/// The environment variables whose values are secrets (AWS and GCS credential chains as
/// `object_store` reads them).
pub const SECRET_VARIABLES: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS_JSON",
    "GCS_SERVICE_ACCOUNT_KEY",
];

/// What replaces a secret.
pub const REDACTED: &str = "***";

/// `url` without its user info: `http://user:secret@host/p` gives `http://***@host/p`.
pub fn redact_url(url: &str) -> String {
    strip_user_info(url)
}

/// Every URL's user info in `text` replaced by `***`.
fn strip_user_info(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace (or quote).
        let end = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | ')' | '>') || c.is_whitespace()
            })
            .unwrap_or(tail.len());
        let (authority, after) = tail.split_at(end);
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` with the user info of every URL and the value of every variable of
/// [`SECRET_VARIABLES`] set in the environment (4 characters or more) replaced by `***`.
pub fn redact(text: &str) -> String {
    redact_with(text, &|name| std::env::var(name).ok())
}

/// [`redact`] with the environment given.
pub fn redact_with(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut s = strip_user_info(text);
    for var in SECRET_VARIABLES {
        if let Some(v) = env(var).filter(|v| v.trim().len() >= 4) {
            s = s.replace(v.trim(), REDACTED);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_and_secret_variables_are_redacted() {
        assert_eq!(
            redact_url("http://user:secret@127.0.0.1:9000/b"),
            "http://***@127.0.0.1:9000/b"
        );
        assert_eq!(redact_url("https://host:1/x"), "https://host:1/x");
        let env = |n: &str| (n == "AWS_SECRET_ACCESS_KEY").then(|| "s3cr3t-key".to_string());
        let got = redact_with(
            "error: http://u:p@h:1/lake/x: request for s3://lake failed (s3cr3t-key) at http://h/y",
            &env,
        );
        assert_eq!(
            got,
            "error: http://***@h:1/lake/x: request for s3://lake failed (***) at http://h/y"
        );
        assert!(!got.contains("u:p") && !got.contains("s3cr3t"));
    }
}
