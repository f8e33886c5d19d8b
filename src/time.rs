//! Instants given on the command line (`--now`) and in snapshot manifests (`created_at`),
//! parsed with chrono. (The JSON text of `timestamp` and `date` values, a hot path over any
//! CQL value, keeps its own formatter in `convert::json`, tested against chrono there.)

use chrono::{DateTime, NaiveDateTime};

/// Seconds since the epoch of RFC 3339 text (`2018-09-08T04:31:40Z`, optionally with
/// fractional seconds, `t` or a space instead of `T`, a `+HH:MM` offset; UTC when no offset
/// is given) or of plain epoch seconds.
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dt%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .into_iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|t| t.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("2018-09-08T04:31:40Z"), Some(1_536_381_100));
        assert_eq!(parse_instant("2018-09-08t04:31:40z"), Some(1_536_381_100));
        assert_eq!(parse_instant("2018-09-08T04:31:40"), Some(1_536_381_100));
        assert_eq!(parse_instant("2018-09-08 04:31:40.5"), Some(1_536_381_100));
        assert_eq!(
            parse_instant("2018-09-08 04:31:40.123+01:00"),
            Some(1_536_381_100 - 3600)
        );
        assert_eq!(
            parse_instant("2018-09-08T04:31:40-02:30"),
            Some(1_536_381_100 + 9000)
        );
        assert_eq!(parse_instant("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(parse_instant(" 1536381100 "), Some(1_536_381_100));
        assert_eq!(parse_instant("-5"), Some(-5));
        assert_eq!(parse_instant("2018-13-08T04:31:40Z"), None);
        assert_eq!(parse_instant("2018-02-30T04:31:40Z"), None);
        assert_eq!(parse_instant("2018-09-08"), None);
        assert_eq!(parse_instant("yesterday"), None);
    }
}
