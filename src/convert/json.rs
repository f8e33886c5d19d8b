//! The JSON encoding of CQL values used by `dump`: Cassandra's `SELECT JSON` (each type's
//! `toJSONString`, `cql3/selection/Selection.rowToJson`), written straight into a reused `String`.
//!
//! Choices, from the Cassandra source: numbers (varint and decimal exact, decimal as Java's
//! `BigDecimal.toString`) unquoted; NaN and infinities as `null`; blobs `"0x…"`; timestamps
//! `"yyyy-MM-dd HH:mm:ss.SSSZ"` in UTC; dates ISO (`+` before years above 9999, as
//! `DateTimeFormatter.ISO_LOCAL_DATE`); times `"HH:MM:SS.nnnnnnnnn"`; durations as
//! `cql3/Duration.toString`; inet as `InetAddress.getHostAddress`; collections with `", "` and
//! `": "` separators; non-string map keys as the JSON string of their JSON text.
//! Deliberate difference: timestamps use the proleptic Gregorian calendar with signed
//! astronomical years, where Java's `SimpleDateFormat` switches to the Julian calendar before
//! 1582-10-15 and prints BC years without a sign.

use std::fmt::Write as _;
use std::net::IpAddr;

use sstable_format::value::{write_decimal, write_varint, Value};

/// Appends `s` as a JSON string literal (escaping like Jackson: `"`, `\`, control characters).
pub fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or(""));
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

/// Appends a column or UDT field name as a JSON object key the way Cassandra does: names that
/// are not all lower-case are wrapped in (escaped) double quotes, e.g. `"\"MyCol\""`.
pub fn write_column_name(out: &mut String, name: &str) {
    if name.bytes().any(|b| b.is_ascii_uppercase()) || name.chars().any(char::is_uppercase) {
        let mut quoted = String::with_capacity(name.len() + 2);
        quoted.push('"');
        quoted.push_str(name);
        quoted.push('"');
        write_json_string(out, &quoted);
    } else {
        write_json_string(out, name);
    }
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n & 15), 16).unwrap_or('0')
}

fn write_hex(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(hex_digit(b >> 4));
        out.push(hex_digit(b));
    }
}

fn write_uuid(out: &mut String, u: &[u8; 16]) {
    out.push('"');
    for (i, &b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(hex_digit(b >> 4));
        out.push(hex_digit(b));
    }
    out.push('"');
}

/// Civil date (proleptic Gregorian) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write_year(out: &mut String, year: i64, plus_above_9999: bool) {
    if year < 0 {
        let _ = write!(out, "-{:04}", year.unsigned_abs());
    } else if plus_above_9999 && year > 9999 {
        let _ = write!(out, "+{year}");
    } else {
        let _ = write!(out, "{year:04}");
    }
}

/// Appends a timestamp (ms since the epoch) as Cassandra's JSON: `"2015-05-01 09:30:54.234Z"`.
pub fn write_timestamp(out: &mut String, millis: i64) {
    let days = millis.div_euclid(86_400_000);
    let ms = millis.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    out.push('"');
    write_year(out, y, false);
    let _ = write!(
        out,
        "-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}Z\"",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
}

/// Appends a `date` (raw unsigned days, 2^31 = epoch) as `"YYYY-MM-DD"`.
pub fn write_date(out: &mut String, raw: u32) {
    let (y, m, d) = civil_from_days(i64::from(raw) - (1i64 << 31));
    out.push('"');
    write_year(out, y, true);
    let _ = write!(out, "-{m:02}-{d:02}\"");
}

/// Appends a `time` (ns since midnight) as `"HH:MM:SS.nnnnnnnnn"`; a value outside one day
/// (invalid in CQL) is written as its raw number.
pub fn write_time(out: &mut String, nanos: i64) {
    if !(0..86_400_000_000_000).contains(&nanos) {
        let _ = write!(out, "{nanos}");
        return;
    }
    let secs = nanos / 1_000_000_000;
    let _ = write!(
        out,
        "\"{:02}:{:02}:{:02}.{:09}\"",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        nanos % 1_000_000_000
    );
}

/// Appends a duration as `cql3/Duration.toString` (`1y2mo3d4h5m6s7ms8us9ns`, `-` when negative).
pub fn write_duration(out: &mut String, months: i32, days: i32, nanos: i64) {
    fn part(out: &mut String, dividend: u64, divisor: u64, unit: &str) -> u64 {
        if dividend == 0 || dividend < divisor {
            return dividend;
        }
        let _ = write!(out, "{}{unit}", dividend / divisor);
        dividend % divisor
    }
    out.push('"');
    if months < 0 || days < 0 || nanos < 0 {
        out.push('-');
    }
    let rem = part(out, u64::from(months.unsigned_abs()), 12, "y");
    part(out, rem, 1, "mo");
    part(out, u64::from(days.unsigned_abs()), 1, "d");
    if nanos != 0 {
        let mut rem = part(out, nanos.unsigned_abs(), 3_600_000_000_000, "h");
        rem = part(out, rem, 60_000_000_000, "m");
        rem = part(out, rem, 1_000_000_000, "s");
        rem = part(out, rem, 1_000_000, "ms");
        rem = part(out, rem, 1_000, "us");
        part(out, rem, 1, "ns");
    }
    out.push('"');
}

/// Appends an address as Java's `getHostAddress`: IPv6 in full, unabbreviated lower-case
/// groups (`0:0:0:0:0:0:0:1`); IPv4-mapped IPv6 as IPv4, as Java does.
pub fn write_inet(out: &mut String, ip: &IpAddr) {
    out.push('"');
    match ip {
        IpAddr::V4(v4) => {
            let _ = write!(out, "{v4}");
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                let _ = write!(out, "{v4}");
            }
            None => {
                for (i, s) in v6.segments().iter().enumerate() {
                    if i > 0 {
                        out.push(':');
                    }
                    let _ = write!(out, "{s:x}");
                }
            }
        },
    }
    out.push('"');
}

/// Appends a float as Java's `Float/Double.toString` does, as a JSON number (NaN and
/// infinities as `null`): plain between 10^-3 and 10^7, else `d.dddE±n`.
fn write_float(out: &mut String, v: f64, single: bool) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let start = out.len();
        if single {
            let _ = write!(out, "{}", v as f32);
        } else {
            let _ = write!(out, "{v}");
        }
        if !out.get(start..).unwrap_or("").contains('.') {
            out.push_str(".0");
        }
    } else {
        let start = out.len();
        if single {
            let _ = write!(out, "{:e}", v as f32);
        } else {
            let _ = write!(out, "{v:e}");
        }
        // Rust writes `1.5e10` / `1e-5`; Java writes `1.5E10` / `1.0E-5`.
        if let Some(epos) = out.get(start..).and_then(|s| s.find('e')) {
            let epos = start + epos;
            out.replace_range(epos..epos + 1, "E");
            if !out.get(start..epos).unwrap_or("").contains('.') {
                out.insert_str(epos, ".0");
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value<'_>]) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(out, v);
    }
    out.push(']');
}

/// Appends the JSON of one value, as Cassandra's `SELECT JSON` prints it.
pub fn write_value(out: &mut String, v: &Value<'_>) {
    match v {
        Value::Ascii(s) | Value::Text(s) => write_json_string(out, s),
        Value::Blob(b) | Value::Custom(b) => {
            out.push_str("\"0x");
            write_hex(out, b);
            out.push('"');
        }
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::TinyInt(n) => {
            let _ = write!(out, "{n}");
        }
        Value::SmallInt(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::BigInt(n) | Value::Counter(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Varint(b) => write_varint(out, b),
        Value::Float(f) => write_float(out, f64::from(*f), true),
        Value::Double(d) => write_float(out, *d, false),
        Value::Decimal { scale, unscaled } => write_decimal(out, *scale, unscaled),
        Value::Uuid(u) | Value::TimeUuid(u) => write_uuid(out, u),
        Value::Timestamp(ms) => write_timestamp(out, *ms),
        Value::Date(d) => write_date(out, *d),
        Value::Time(t) => write_time(out, *t),
        Value::Inet(ip) => write_inet(out, ip),
        Value::Duration {
            months,
            days,
            nanos,
        } => write_duration(out, *months, *days, *nanos),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) | Value::Vector(items) => {
            write_seq(out, items)
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let start = out.len();
                write_value(out, k);
                if !out.get(start..).is_some_and(|s| s.starts_with('"')) {
                    // Map keys must be JSON strings: quote the key's JSON text.
                    let text = out.split_off(start);
                    write_json_string(out, &text);
                }
                out.push_str(": ");
                write_value(out, val);
            }
            out.push('}');
        }
        Value::Udt(fields) => {
            out.push('{');
            for (i, (name, val)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_column_name(out, name);
                out.push_str(": ");
                write_value(out, val);
            }
            out.push('}');
        }
        _ => out.push_str("null"),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
mod tests {
    use super::*;
    use sstable_format::types::{CqlType, UdtDef};
    use sstable_format::value::decode_value;

    /// The hand-written calendar arithmetic (kept: it is on the hot path of every timestamp
    /// and date, and covers CQL's whole range, beyond chrono's) agrees with chrono wherever
    /// chrono has the date (years -9999 to 9999), stepping a week and a bit at a time.
    #[test]
    fn timestamps_and_dates_agree_with_chrono() {
        let first = -377_705_116_800_000_i64; // -9999-01-01T00:00:00Z
        let last = 253_402_300_799_999_i64; // 9999-12-31T23:59:59.999Z
        let step = 86_400_000 * 7 + 3_723_457; // a week and a bit: every weekday, varied times
        let mut ms = first;
        let mut out = String::new();
        while ms <= last {
            out.clear();
            write_timestamp(&mut out, ms);
            let t = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(out, t.format("\"%Y-%m-%d %H:%M:%S%.3fZ\"").to_string());
            let days = ms.div_euclid(86_400_000);
            out.clear();
            write_date(&mut out, (days + (1_i64 << 31)) as u32);
            assert_eq!(out, t.format("\"%Y-%m-%d\"").to_string());
            ms += step;
        }
    }

    fn j(v: &Value<'_>) -> String {
        let mut s = String::new();
        write_value(&mut s, v);
        // Everything written must be valid JSON.
        serde_json::from_str::<serde_json::Value>(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        s
    }

    #[test]
    fn scalars_as_in_the_canonical_rows() {
        // scylla_3x_write_different_types.json
        assert_eq!(j(&Value::Ascii("hello")), "\"hello\"");
        assert_eq!(j(&Value::BigInt(i64::MAX)), "9223372036854775807");
        assert_eq!(j(&Value::Blob(b"great")), "\"0x6772656174\"");
        assert_eq!(j(&Value::Boolean(true)), "true");
        assert_eq!(j(&Value::Date((1u32 << 31) + 17291)), "\"2017-05-05\"");
        assert_eq!(
            j(&Value::Decimal {
                scale: 2,
                unscaled: &[0x02, 0x21]
            }),
            "5.45"
        );
        assert_eq!(j(&Value::Double(36.6)), "36.6");
        assert_eq!(j(&Value::Float(7.62)), "7.62");
        assert_eq!(
            j(&Value::Inet("192.168.0.110".parse().unwrap())),
            "\"192.168.0.110\""
        );
        assert_eq!(j(&Value::Int(i32::MIN)), "-2147483648");
        assert_eq!(j(&Value::SmallInt(32767)), "32767");
        assert_eq!(
            j(&Value::Time(71_105_090_000_000)),
            "\"19:45:05.090000000\""
        );
        assert_eq!(
            j(&Value::Timestamp(1_430_472_654_234)),
            "\"2015-05-01 09:30:54.234Z\""
        );
        let u = decode_value(
            &CqlType::TimeUuid,
            &[
                0x50, 0x55, 0x4d, 0x6e, 0x29, 0xbb, 0x11, 0xe5, 0xb3, 0x45, 0xfe, 0xff, 0x81, 0x9c,
                0xdc, 0x9f,
            ],
        )
        .unwrap();
        assert_eq!(j(&u), "\"50554d6e-29bb-11e5-b345-feff819cdc9f\"");
        assert_eq!(j(&Value::TinyInt(127)), "127");
        assert_eq!(j(&Value::Text("привет")), "\"привет\"");
        assert_eq!(j(&Value::Varint(&[123])), "123");
        assert_eq!(
            j(&Value::Duration {
                months: 0,
                days: 0,
                nanos: 3_888_020_000_000
            }),
            "\"1h4m48s20ms\""
        );
        assert_eq!(j(&Value::Counter(-92)), "-92");
        assert_eq!(j(&Value::Null), "null");
    }

    #[test]
    fn strings_escape() {
        let mut s = String::new();
        write_json_string(&mut s, "a\"b\\c\nd\u{1}e/é\u{7f}");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001e/é\u{7f}\"");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}e/é\u{7f}");
    }

    #[test]
    fn floats() {
        assert_eq!(j(&Value::Double(f64::NAN)), "null");
        assert_eq!(j(&Value::Float(f32::INFINITY)), "null");
        assert_eq!(j(&Value::Double(f64::NEG_INFINITY)), "null");
        assert_eq!(j(&Value::Double(1.0)), "1.0");
        assert_eq!(j(&Value::Double(-0.0)), "-0.0");
        assert_eq!(j(&Value::Double(1e10)), "1.0E10");
        assert_eq!(j(&Value::Double(1.5e-5)), "1.5E-5");
        assert_eq!(j(&Value::Double(f64::MAX)), "1.7976931348623157E308");
        assert_eq!(j(&Value::Float(f32::MIN_POSITIVE)), "1.1754944E-38");
        assert_eq!(j(&Value::Float(0.1)), "0.1");
    }

    #[test]
    fn timestamps_and_dates_far_and_negative() {
        assert_eq!(j(&Value::Timestamp(0)), "\"1970-01-01 00:00:00.000Z\"");
        assert_eq!(j(&Value::Timestamp(-1)), "\"1969-12-31 23:59:59.999Z\"");
        assert_eq!(
            j(&Value::Timestamp(253_402_300_800_000)),
            "\"10000-01-01 00:00:00.000Z\""
        );
        assert_eq!(
            j(&Value::Timestamp(-62_167_219_200_000)),
            "\"0000-01-01 00:00:00.000Z\""
        );
        assert_eq!(
            j(&Value::Timestamp(-62_167_219_200_001)),
            "\"-0001-12-31 23:59:59.999Z\""
        );
        assert_eq!(
            j(&Value::Timestamp(i64::MAX)),
            "\"292278994-08-17 07:12:55.807Z\""
        );
        assert_eq!(
            j(&Value::Timestamp(i64::MIN)),
            "\"-292275055-05-16 16:47:04.192Z\""
        );
        assert_eq!(j(&Value::Date(1 << 31)), "\"1970-01-01\"");
        assert_eq!(j(&Value::Date((1 << 31) - 1)), "\"1969-12-31\"");
        assert_eq!(j(&Value::Date(0)), "\"-5877641-06-23\"");
        assert_eq!(j(&Value::Date(u32::MAX)), "\"+5881580-07-11\"");
        assert_eq!(
            j(&Value::Date((1u32 << 31) + 2_932_897)),
            "\"+10000-01-01\""
        );
    }

    #[test]
    fn times_durations_inets() {
        assert_eq!(j(&Value::Time(0)), "\"00:00:00.000000000\"");
        assert_eq!(
            j(&Value::Time(86_399_999_999_999)),
            "\"23:59:59.999999999\""
        );
        assert_eq!(j(&Value::Time(-5)), "-5");
        let d = |months, days, nanos| {
            j(&Value::Duration {
                months,
                days,
                nanos,
            })
        };
        assert_eq!(d(14, 3, 0), "\"1y2mo3d\"");
        assert_eq!(d(-14, -3, -1_001_001), "\"-1y2mo3d1ms1us1ns\"");
        assert_eq!(d(0, 0, 0), "\"\"");
        assert_eq!(
            d(i32::MIN, i32::MIN, i64::MIN),
            "\"-178956970y8mo2147483648d2562047h47m16s854ms775us808ns\""
        );
        assert_eq!(
            j(&Value::Inet("::1".parse().unwrap())),
            "\"0:0:0:0:0:0:0:1\""
        );
        assert_eq!(
            j(&Value::Inet("2001:db8::ff00:42:8329".parse().unwrap())),
            "\"2001:db8:0:0:0:ff00:42:8329\""
        );
        assert_eq!(
            j(&Value::Inet("::ffff:10.0.0.1".parse().unwrap())),
            "\"10.0.0.1\""
        );
    }

    #[test]
    fn collections_maps_udts() {
        let list = Value::List(vec![Value::Int(1), Value::Null, Value::Int(3)]);
        assert_eq!(j(&list), "[1, null, 3]");
        let m = Value::Map(vec![
            (Value::Int(1), Value::Text("a")),
            (Value::Blob(b"3"), Value::Blob(b"1")),
            (
                Value::Tuple(vec![Value::Int(1), Value::Text("x")]),
                Value::Null,
            ),
        ]);
        assert_eq!(
            j(&m),
            "{\"1\": \"a\", \"0x33\": \"0x31\", \"[1, \\\"x\\\"]\": null}"
        );
        let u = Value::Udt(vec![
            ("my_int".into(), Value::Int(1703)),
            ("MyText".into(), Value::Text("x")),
        ]);
        assert_eq!(j(&u), "{\"my_int\": 1703, \"\\\"MyText\\\"\": \"x\"}");
        let udt = CqlType::Udt(Box::new(UdtDef {
            keyspace: "sst3".into(),
            name: "ut".into(),
            fields: vec![("a".into(), CqlType::Varint)],
            frozen: true,
        }));
        let mut big = vec![0, 0, 0, 17, 0x01];
        big.extend_from_slice(&[0; 16]);
        let v = decode_value(&udt, &big).unwrap();
        assert_eq!(j(&v), "{\"a\": 340282366920938463463374607431768211456}");
        let mut s = String::new();
        write_column_name(&mut s, "Col");
        assert_eq!(s, "\"\\\"Col\\\"\"");
    }
}
